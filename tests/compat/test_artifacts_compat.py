"""mltrail.artifacts' helpers against mlflow.artifacts on the same mltrail server.

The official mlflow client logs a run and registers a version; both libraries then download,
list and load the same URIs: the same layouts, files, listings, contents and error messages.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from tests._live_server import ServerProcess
from tests.compat.conftest import MLFLOW_WARNINGS

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts import download_artifacts, list_artifacts, load_dict, load_text

pytestmark = [pytest.mark.filterwarnings(w) for w in MLFLOW_WARNINGS]


def _files(root: str | Path) -> set[str]:
    base = Path(root)
    return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()}


def test_same_results_as_mlflow_artifacts(mlflow_server: ServerProcess, tmp_path: Path) -> None:
    import mlflow
    import mlflow.artifacts as theirs

    with mlflow.start_run() as run:
        mlflow.log_text("flavors: {}\n", "model/MLmodel")
        mlflow.log_text("x", "model/sub/f.txt")
        mlflow.log_dict({"k": [1, 2]}, "conf.json")
    run_id = run.info.run_id
    client = mlflow.MlflowClient()
    client.create_registered_model("side")
    client.create_model_version("side", f"runs:/{run_id}/model", run_id=run_id)

    def both(name: str, **kwargs: Any) -> tuple[str, str]:
        a = theirs.download_artifacts(**kwargs, dst_path=str(tmp_path / "mlflow" / name))
        b = download_artifacts(**kwargs, dst_path=str(tmp_path / "mltrail" / name))
        assert os.path.relpath(a, tmp_path / "mlflow") == os.path.relpath(b, tmp_path / "mltrail")
        return a, b

    for name, kwargs in {
        "file": {"artifact_uri": f"runs:/{run_id}/model/MLmodel"},
        "dir": {"artifact_uri": f"runs:/{run_id}/model"},
        "run": {"run_id": run_id},
        "sub": {"run_id": run_id, "artifact_path": "model/sub"},
        "proxy": {"artifact_uri": f"{run.info.artifact_uri}/model"},
    }.items():
        a, b = both(name, **kwargs)
        if os.path.isdir(a):
            assert _files(a) == _files(b), name
        else:
            assert Path(a).read_bytes() == Path(b).read_bytes()
    a, b = both("model", artifact_uri="models:/side/1")
    assert _files(a) - _files(b) == {"registered_model_meta"}  # MLflow's own bookkeeping
    assert _files(b) <= _files(a)

    def listing(infos: list[Any]) -> list[tuple[str, bool, int | None]]:
        return [(i.path, i.is_dir, i.file_size) for i in infos]

    for kwargs in (
        {"run_id": run_id},
        {"run_id": run_id, "artifact_path": "model"},
        {"artifact_uri": f"runs:/{run_id}/model"},
        {"artifact_uri": "models:/side/1"},
    ):
        assert listing(list_artifacts(**kwargs)) == listing(theirs.list_artifacts(**kwargs))
    uri = f"runs:/{run_id}/conf.json"
    assert load_dict(uri) == theirs.load_dict(uri) == {"k": [1, 2]}
    assert load_text(f"runs:/{run_id}/model/sub/f.txt") == "x"
    for bad in (
        {},
        {"artifact_uri": uri, "run_id": run_id},
        {"artifact_uri": uri, "artifact_path": "x"},
    ):
        with pytest.raises(mlflow.exceptions.MlflowException) as expected:
            theirs.download_artifacts(**bad)
        with pytest.raises(InvalidArgument) as ours:
            download_artifacts(**bad)
        assert ours.value.message == expected.value.message
        assert ours.value.error_code == expected.value.error_code
