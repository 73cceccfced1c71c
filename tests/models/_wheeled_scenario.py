"""add_libraries_to_model under either library.

Run by tests/models/test_wheeled_model.py through tests/_differential.py as
``python _wheeled_scenario.py <mlflow|mltrail> <tracking uri> <summary.json>`` in a fresh
folder: a custom model whose requirements are the library itself and a tiny package is logged
and registered; pip finds their wheels in a local folder only (``PIP_NO_INDEX``,
``PIP_FIND_LINKS``: small stand-in wheels, nothing is downloaded); the model is re-logged with
its libraries three ways, and what the registry, the runs and the new versions' files hold is
written, with the library's own name replaced by ``<lib>`` and ids by placeholders.  The errors
MLflow raises (codes and the start of their messages) are recorded too.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml

LIBRARY, TRACKING_URI, OUT = sys.argv[1:4]
if LIBRARY == "mltrail":
    import mltrail as mlflow
else:
    import mlflow  # type: ignore[no-redef]

WHEELHOUSE = Path("wheelhouse").resolve()


def stand_in_wheel(name: str, version: str) -> None:
    """A minimal wheel of *name* *version* (metadata only) in the wheelhouse."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{p},,\n" for p in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(WHEELHOUSE / f"{dist}-{version}-py3-none-any.whl", "w") as z:
        for path, text in files.items():
            z.writestr(path, text)


class Add(mlflow.pyfunc.PythonModel):
    # No type hints: MLflow would read them (and warn about Any) wherever the model loads.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        return [v + 1 for v in model_input]


def norm(text: str) -> str:
    return text.replace(LIBRARY, "<lib>").replace(mlflow.__version__, "<version>")


def listed(requirements: list[Any]) -> list[str]:
    """The requirements, sorted, without the library's own (mltrail pins itself only when it
    chooses the requirements; MLflow always adds its pin): what the libraries share."""
    return sorted(norm(str(r)) for r in requirements if "<lib>" not in norm(str(r)))


def error(call: Any) -> dict[str, Any]:
    try:
        call()
    except mlflow.exceptions.MlflowException as exc:
        return {"error_code": exc.error_code, "message": norm(exc.message)[:27]}
    return {"error_code": None}


def version_summary(client: Any, name: str, version: str, ids: dict[str, str]) -> dict[str, Any]:
    mv = client.get_model_version(name, version)
    model_id = mv.source.removeprefix("models:/")  # MLflow leaves the version's model_id empty
    logged = client.get_logged_model(model_id)
    meta = mlflow.artifacts.download_artifacts(  # as stored: a models:/ download writes its own
        f"{logged.artifact_location}/registered_model_meta", dst_path=f"meta-{name}-{version}"
    )
    local = Path(
        mlflow.artifacts.download_artifacts(
            f"models:/{name}/{version}", dst_path=f"dl-{name}-{version}"
        )
    )
    files = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    mlmodel = yaml.safe_load((local / "MLmodel").read_text())
    conda = yaml.safe_load((local / "conda.yaml").read_text())
    pip = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
    return {
        "run": ids.get(mv.run_id, mv.run_id),
        "files": [norm(f) for f in files if "<lib>" not in norm(f)],
        "requirements": listed((local / "requirements.txt").read_text().split()),
        "original_requirements": listed((local / "original_requirements.txt").read_text().split()),
        "conda_pip": listed(pip),
        "registered_model_meta": yaml.safe_load(Path(meta).read_text()),
        "wheels_keys": sorted(mlmodel["wheels"]),
        "artifact_path_is_new_model_wheels": mlmodel["artifact_path"].endswith(
            f"{model_id}/artifacts_wheels"
        ),
        "ids_are_new_model": mlmodel["model_id"] == mlmodel["model_uuid"] == model_id,
        "mlmodel_run": ids.get(mlmodel["run_id"], mlmodel["run_id"]),
        "logged_model_source_run": ids.get(logged.source_run_id),
        "flavor": mlmodel["flavors"]["python_function"]["loader_module"],
        "prediction": list(mlflow.pyfunc.load_model(f"models:/{name}/{version}").predict([1, 2])),
    }


def main() -> None:
    mlflow.set_tracking_uri(TRACKING_URI)
    WHEELHOUSE.mkdir()
    stand_in_wheel("tinypkg", "0.1")
    with mlflow.start_run() as run:
        mlflow.pyfunc.log_model(
            name="m",
            python_model=Add(),
            pip_requirements=["tinypkg==0.1"],
            registered_model_name="reg",
        )
    client = mlflow.MlflowClient()
    local = mlflow.artifacts.download_artifacts("models:/reg/1/requirements.txt", dst_path="req")
    for line in Path(local).read_text().split():
        stand_in_wheel(*line.split("=="))
    os.environ["PIP_NO_INDEX"] = "1"
    os.environ["PIP_FIND_LINKS"] = str(WHEELHOUSE)
    os.environ["MLFLOW_WHEELED_MODEL_PIP_DOWNLOAD_OPTIONS"] = "--no-deps"
    ids = {run.info.run_id: "<first run>"}
    out: dict[str, Any] = {}

    info = mlflow.models.add_libraries_to_model("models:/reg/1")  # to the version's run
    out["info"] = {
        "registered_model_version": info.registered_model_version,
        "model_uri_is_logged_model": info.model_uri == f"models:/{info.model_id}",
    }
    out["first_run_status"] = client.get_run(run.info.run_id).info.status
    out["reg_2"] = version_summary(client, "reg", "2", ids)
    with mlflow.start_run() as other:  # the active run wins; another registered model
        ids[other.info.run_id] = "<active run>"
        mlflow.models.add_libraries_to_model("models:/reg/1", registered_model_name="wheeled")
    out["wheeled_1"] = version_summary(client, "wheeled", "1", ids)
    mlflow.models.add_libraries_to_model("models:/reg/1", run_id=other.info.run_id)
    out["reg_3_run"] = ids.get(client.get_model_version("reg", "3").run_id)

    out["errors"] = {
        "already_wheeled": error(lambda: mlflow.models.add_libraries_to_model("models:/reg/2")),
        "not_registered": error(
            lambda: mlflow.models.add_libraries_to_model(f"runs:/{run.info.run_id}/m")
        ),
    }
    os.environ["MLFLOW_WHEELED_MODEL_PIP_DOWNLOAD_OPTIONS"] = "--index-url=http://x"
    out["errors"]["bad_option"] = error(
        lambda: mlflow.models.add_libraries_to_model("models:/reg/1")
    )
    os.environ["MLFLOW_WHEELED_MODEL_PIP_DOWNLOAD_OPTIONS"] = "--no-deps"
    (WHEELHOUSE / "tinypkg-0.1-py3-none-any.whl").unlink()
    out["errors"]["no_wheel"] = error(lambda: mlflow.models.add_libraries_to_model("models:/reg/1"))
    out["versions"] = sorted(
        (v.name, int(v.version)) for v in client.search_model_versions("name IN ('reg', 'wheeled')")
    )
    Path(OUT).write_text(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
