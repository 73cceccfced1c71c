"""``infer_code_paths=True``: the project modules a model's code imports, copied into ``code/``.

As MLflow does it: the saved model is loaded in a fresh interpreter started in the current
directory (``python -m mltrail.pyfunc._code_paths MODEL_DIR``), which prints the full names
of the modules loading imported.  Each of them and each of its parent packages that is a
module file (``a/b.py``) or a package (``a/b/__init__.py``) relative to the current
directory is copied to ``code/`` under the same relative path; the model's ``code`` entry
then names ``code`` (None when nothing was found).  Only those files are copied, never whole
folders, so nothing else of the project (credentials, notebooks, data) ends up in the model.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

from mltrail._exceptions import MltrailError
from mltrail.pyfunc._load import load_model

__all__ = ["imported_modules", "infer_and_copy_code_paths", "main"]

CODE_DIR = "code"


def imported_modules(model_dir: str) -> list[str]:
    """The full names of the modules loading the model at *model_dir* imports."""
    import subprocess  # off `import mltrail.<flavor>`: only infer_code_paths needs it

    done = subprocess.run(
        [sys.executable, "-m", __name__, model_dir],
        capture_output=True,
        text=True,
        env=dict(os.environ, MLTRAIL_ALLOW_PICKLE="true"),
        cwd=os.getcwd(),
        check=False,
    )
    try:
        if done.returncode != 0:
            raise ValueError((done.stderr.strip().splitlines() or ["no output"])[-1])
        modules = json.loads(done.stdout.strip().splitlines()[-1])
        if not isinstance(modules, list):
            raise ValueError(f"unexpected answer {done.stdout.strip()[-200:]!r}")
    except (ValueError, IndexError) as exc:
        raise MltrailError(
            f"Could not infer the model's code paths: loading it failed ({exc})"
        ) from None
    return [str(m) for m in modules]


def infer_and_copy_code_paths(model_dir: str) -> str | None:
    """Copy the local modules the model at *model_dir* imports into ``<model_dir>/code``;
    returns ``"code"``, or None when it imports none."""
    names: set[str] = set()
    for module in imported_modules(model_dir):
        parts = module.split(".")
        names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    files: set[str] = set()
    for name in names:
        relative = name.replace(".", os.sep)
        if os.path.isdir(relative) and os.path.isfile(os.path.join(relative, "__init__.py")):
            files.add(os.path.join(relative, "__init__.py"))
        if os.path.isfile(relative + ".py"):
            files.add(relative + ".py")
    if not files:
        return None
    for relative in sorted(files):
        target = os.path.join(model_dir, CODE_DIR, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(relative, target)
    return CODE_DIR


def main(argv: list[str]) -> int:
    """Load the model directory ``argv[0]``; print the modules loading imported (JSON)."""
    before = set(sys.modules)
    load_model(argv[0])
    print(json.dumps(sorted(set(sys.modules) - before)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
