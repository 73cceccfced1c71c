"""pyfunc.save_model's infer_code_paths, streamable and uv options, under either library.

Run by tests/models/test_pyfunc_options.py through tests/_differential.py as
``python _pyfunc_options_scenario.py <mlflow|mltrail> <tracking uri> <summary.json>`` in a
fresh folder (the current directory): it writes a small project there (a package holding the
model's class, a helper module it imports, a module nothing imports, a uv project with path
dependencies), saves models with each option, and writes what the saved directories hold.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

LIBRARY, TRACKING_URI, OUT = sys.argv[1:4]
if LIBRARY == "mltrail":
    import mltrail as mlflow
else:
    import mlflow  # type: ignore[no-redef]

PROJECT = {
    "shop/__init__.py": "",
    "shop/pricing.py": "def double(x):\n    return [2 * v for v in x]\n",
    "shop/model.py": (
        f"import {LIBRARY} as mlflow\n"
        "from shop.pricing import double\n"
        "import helpers\n\n"
        "class Doubler(mlflow.pyfunc.PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return helpers.tag(double(list(model_input)))\n\n"
        "class Streamer(Doubler):\n"
        "    def predict_stream(self, context, model_input, params=None):\n"
        "        yield from self.predict(context, model_input)\n"
    ),
    "helpers.py": "def tag(values):\n    return values\n",
    "unused.py": "raise RuntimeError('never imported')\n",
}
UV_PROJECT = {
    "uvp/pyproject.toml": (
        '[project]\nname = "proj"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["alpha"]\n\n[project.optional-dependencies]\nfast = ["beta"]\n\n'
        '[dependency-groups]\nlint = ["gamma"]\n\n[tool.uv.sources]\n'
        'alpha = { path = "libs/alpha" }\nbeta = { path = "libs/beta" }\n'
        'gamma = { path = "libs/gamma" }\n'
    ),
    "uvp/.python-version": "3.11\n",
    **{
        f"uvp/libs/{name}/pyproject.toml": (
            f'[project]\nname = "{name}"\nversion = "1.0.0"\ndependencies = []\n\n'
            '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        )
        for name in ("alpha", "beta", "gamma")
    },
}
OWN = ("mlflow==", "mltrail==")


def write(files: dict[str, str]) -> None:
    for name, text in files.items():
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(text)


def files_of(path: str) -> list[str]:
    root = Path(path)
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def conf_of(path: str) -> dict[str, Any]:
    flavor: dict[str, Any] = mlflow.models.Model.load(path).flavors["python_function"]
    return {k: flavor.get(k) for k in ("code", "streamable")}


def requirements(path: str) -> list[str]:
    lines = Path(path, "requirements.txt").read_text().splitlines()
    return [line for line in lines if not line.startswith(OWN)]


def error(call: Any) -> dict[str, Any]:
    try:
        call()
    except mlflow.exceptions.MlflowException as exc:
        return {"error_code": exc.error_code, "message": exc.message}
    return {"error_code": None}


def main() -> None:
    write(PROJECT)
    write(UV_PROJECT)
    subprocess.run(["uv", "lock", "--offline", "--quiet"], cwd="uvp", check=True)
    sys.path.insert(0, os.getcwd())
    shop_model = importlib.import_module("shop.model")
    reqs = ["cloudpickle"]
    out: dict[str, Any] = {}

    mlflow.pyfunc.save_model(
        "inferred", python_model=shop_model.Doubler(), infer_code_paths=True, pip_requirements=reqs
    )
    out["inferred"] = {
        "files": [f for f in files_of("inferred") if f.startswith("code/")],
        "conf": conf_of("inferred"),
        "prediction": mlflow.pyfunc.load_model("inferred").predict([1, 2]),
    }
    mlflow.pyfunc.save_model(
        "not_inferred", python_model=shop_model.Doubler(), pip_requirements=reqs
    )
    out["not_inferred"] = conf_of("not_inferred")
    out["infer_with_code_paths"] = error(
        lambda: mlflow.pyfunc.save_model(
            "both",
            python_model=shop_model.Doubler(),
            infer_code_paths=True,
            code_paths=["helpers.py"],
            pip_requirements=reqs,
        )
    )

    streams = {
        "auto_streamer": {"python_model": shop_model.Streamer()},
        "auto_plain": {"python_model": shop_model.Doubler()},
        "forced": {"python_model": shop_model.Doubler(), "streamable": True},
        "loader": {"loader_module": "helpers"},
    }
    out["streamable"] = {}
    for name, kwargs in streams.items():
        mlflow.pyfunc.save_model(name, pip_requirements=reqs, **kwargs)
        out["streamable"][name] = conf_of(name)["streamable"]

    mlflow.pyfunc.save_model(
        "uv_model",
        python_model=shop_model.Doubler(),
        uv_project_path="uvp",
        uv_groups=["lint"],
        uv_extras=["fast"],
    )
    out["uv"] = {
        "requirements": requirements("uv_model"),
        "files": [f for f in files_of("uv_model") if f in ("uv.lock", "pyproject.toml")],
        "python_version": Path("uv_model", ".python-version").read_text(),
        "lock_copied": Path("uv_model/uv.lock").read_text() == Path("uvp/uv.lock").read_text(),
    }
    mlflow.pyfunc.save_model("uv_plain", python_model=shop_model.Doubler(), uv_project_path="uvp")
    out["uv_plain"] = requirements("uv_plain")
    out["infer_pip_requirements"] = mlflow.models.infer_pip_requirements(
        "uv_plain", "python_function", uv_project_dir="uvp", uv_extras=["fast"]
    )
    mlflow.pyfunc.save_model(
        "uv_given", python_model=shop_model.Doubler(), uv_project_path="uvp", pip_requirements=reqs
    )
    out["uv_given"] = {"requirements": requirements("uv_given"), "files": files_of("uv_given")}
    os.chdir("uvp")  # the current directory is a uv project: detected without uv_project_path
    try:
        mlflow.pyfunc.save_model("../uv_auto", python_model=shop_model.Doubler())
        os.environ["MLFLOW_UV_AUTO_DETECT"] = "false"
        mlflow.pyfunc.save_model("../uv_off", python_model=shop_model.Doubler())
        del os.environ["MLFLOW_UV_AUTO_DETECT"]
    finally:
        os.chdir("..")
    out["uv_auto"] = {"requirements": requirements("uv_auto"), "files": files_of("uv_auto")}
    out["uv_off"] = {"has_lock": Path("uv_off/uv.lock").exists()}
    Path(OUT).write_text(json.dumps(out, sort_keys=True, default=list))


if __name__ == "__main__":
    main()
