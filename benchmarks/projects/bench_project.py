"""One workload of the projects benchmark, for one tool, in a fresh temporary directory.

    python -m benchmarks.projects.bench_project --tool mltrail|mlflow --tmp DIR
        [--workload local|uv]

``local``: a trivial project (an ``MLproject`` with one entry point and a typed parameter,
whose command runs a Python script that prints its argument) run with ``<tool> run DIR -e main
-P alpha=0.5 --env-manager local --experiment-name bench``, the tool's console script in a
subprocess, its tracking URI an SQLite file in DIR (``MLFLOW_TRACKING_URI``, which both read).
``run_s`` is the time from starting the command until it has exited, the run then FINISHED
(checked through the tool's own client afterwards, outside the timing).

``uv`` (mltrail only; MLflow's ``--env-manager uv`` is the same project run in a virtualenv
MLflow builds with uv, not compared here): the same project with a ``python_env.yaml``
(this interpreter's version, no dependencies) run twice with ``--env-manager uv`` and an
environment folder in DIR; ``first_s`` builds the environment, ``second_s`` reuses it; the
workload also times the ``local`` run (``local_s``) so that ``reuse_gap_s`` = second - local.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

MLPROJECT = """\
name: bench
{env}
entry_points:
  main:
    parameters:
      alpha: {{type: float, default: 0.1}}
    command: "python train.py --alpha {{alpha}}"
"""
SCRIPT = "import sys\nprint('trained with', sys.argv[1:])\n"


def _project(root: Path, with_env: bool) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    env = "python_env: python_env.yaml" if with_env else ""
    (root / "MLproject").write_text(MLPROJECT.format(env=env), encoding="utf-8")
    (root / "train.py").write_text(SCRIPT, encoding="utf-8")
    if with_env:
        version = platform.python_version()
        (root / "python_env.yaml").write_text(
            f"python: {version}\nbuild_dependencies:\n  - pip\ndependencies: []\n",
            encoding="utf-8",
        )
    return root


def _console(tool: str) -> str:
    return str(Path(sys.executable).with_name(tool))


def _timed_run(tool: str, project: Path, tmp: Path, manager: str, extra: list[str]) -> float:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'store.db'}"}
    command = [
        _console(tool),
        "run",
        str(project),
        "-e",
        "main",
        "-P",
        "alpha=0.5",
        "--env-manager",
        manager,
        "--experiment-name",
        "bench",
        *extra,
    ]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{tool} run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed


def _statuses(tool: str, tmp: Path) -> list[str]:
    uri = f"sqlite:///{tmp / 'store.db'}"
    if tool == "mltrail":
        import mltrail as client_lib
    else:
        import mlflow as client_lib  # type: ignore[no-redef]
    client_lib.set_tracking_uri(uri)
    runs = client_lib.search_runs(experiment_names=["bench"], output_format="list")
    return sorted(r.info.status for r in runs)


def local(tool: str, tmp: Path) -> dict[str, Any]:
    project = _project(tmp / "project", with_env=False)
    run_s = _timed_run(tool, project, tmp, "local", [])
    statuses = _statuses(tool, tmp)
    if statuses != ["FINISHED"]:
        raise RuntimeError(f"expected one FINISHED run, found {statuses}")
    return {"run_s": run_s}


def uv(tool: str, tmp: Path) -> dict[str, Any]:
    if tool != "mltrail":
        return {"status": "not available"}
    plain = _project(tmp / "plain", with_env=False)
    local_s = _timed_run(tool, plain, tmp, "local", [])
    project = _project(tmp / "project", with_env=True)
    envs = ["--env-root", str(tmp / "envs")]
    first_s = _timed_run(tool, project, tmp, "uv", envs)
    second_s = _timed_run(tool, project, tmp, "uv", envs)
    statuses = _statuses(tool, tmp)
    if statuses != ["FINISHED"] * 3:
        raise RuntimeError(f"expected three FINISHED runs, found {statuses}")
    return {
        "local_s": local_s,
        "first_s": first_s,
        "second_s": second_s,
        "reuse_gap_s": second_s - local_s,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tool", choices=("mltrail", "mlflow"), required=True)
    p.add_argument("--tmp", type=Path, required=True)
    p.add_argument("--workload", choices=("local", "uv"), default="local")
    args = p.parse_args()
    result: dict[str, Any] = {"tool": args.tool, "workload": args.workload}
    try:
        measured = (local if args.workload == "local" else uv)(args.tool, args.tmp)
        result.update({"status": "ok", **measured})
    except Exception as exc:  # reported as the workload's result, not a traceback
        result.update({"status": "error", "error": f"{type(exc).__name__}: {exc}"})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
