"""python_function models: PythonModel, functions, artifacts, code paths, URIs, logging."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import mltrail
import mltrail as mlflow
from mltrail._exceptions import NotImplementedYet
from mltrail.exceptions import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from mltrail.models import Model, infer_signature
from mltrail.pyfunc import PythonModel, PythonModelContext
from mltrail.store import open_backend

REQS = ["numpy"]  # skips requirement inference where a test is not about it


class Scaler(PythonModel):
    def load_context(self, context: PythonModelContext) -> None:
        self.factor = float(Path(context.artifacts["factor"]).read_text())
        self.config = context.model_config

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        shift = (params or {}).get("shift", 0)
        return model_input["x"] * self.factor + shift


class NoContext(PythonModel):
    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:  # type: ignore[override]
        return [len(str(v)) for v in model_input.iloc[:, 0]]


@pytest.fixture
def tracking(tmp_path: Path) -> str:
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    mltrail.set_tracking_uri(uri)
    return uri


@pytest.fixture
def factor_file(tmp_path: Path) -> str:
    path = tmp_path / "factor.txt"
    path.write_text("3")
    return str(path)


def test_python_model_with_artifacts_params_and_signature(tmp_path: Path, factor_file: str) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    signature = infer_signature(frame, np.array([3.0, 6.0]), params={"shift": 0.0})
    path = tmp_path / "m"
    mlflow.pyfunc.save_model(
        path,
        python_model=Scaler(),
        artifacts={"factor": factor_file},
        signature=signature,
        model_config={"mode": "fast"},
        pip_requirements=REQS,
    )
    files = sorted(os.listdir(path))
    assert files == [
        "MLmodel",
        "artifacts",
        "conda.yaml",
        "python_env.yaml",
        "python_model.pkl",
        "requirements.txt",
    ]
    conf = yaml.safe_load((path / "MLmodel").read_text())["flavors"]["python_function"]
    assert conf["loader_module"] == "mlflow.pyfunc.model"
    assert conf["artifacts"] == {"factor": {"path": "artifacts/factor.txt", "uri": factor_file}}
    loaded = mlflow.pyfunc.load_model(str(path))
    assert loaded.predict(frame).tolist() == [3.0, 6.0]
    assert loaded.predict(frame, params={"shift": 1.0}).tolist() == [4.0, 7.0]
    assert loaded.unwrap_python_model().config == {"mode": "fast"}
    assert loaded.metadata.signature == signature
    with pytest.raises(InvalidArgument, match="param 'shift'"):
        loaded.predict(frame, params={"shift": "lots"})
    with pytest.raises(InvalidArgument, match=r"missing inputs \['x'\]"):
        loaded.predict(pd.DataFrame({"y": [1.0]}))


def test_predict_without_context_and_plain_functions(tmp_path: Path) -> None:
    mlflow.pyfunc.save_model(tmp_path / "a", python_model=NoContext(), pip_requirements=REQS)
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "a"))
    assert loaded.predict(pd.DataFrame({"s": ["ab", "abc"]})) == [2, 3]

    def double(model_input: Any) -> Any:
        return model_input * 2

    mlflow.pyfunc.save_model(tmp_path / "f", python_model=double, pip_requirements=REQS)
    assert mlflow.pyfunc.load_model(str(tmp_path / "f")).predict(np.array([1, 2])).tolist() == [
        2,
        4,
    ]


def test_input_example_infers_signature_and_is_checked(tmp_path: Path, factor_file: str) -> None:
    example = pd.DataFrame({"x": [1.0, 2.0]})
    model = mlflow.pyfunc.save_model(
        tmp_path / "m",
        python_model=Scaler(),
        artifacts={"factor": factor_file},
        input_example=(example, {"shift": 0.5}),
        pip_requirements=REQS,
    )
    assert model.signature is not None
    assert model.signature.inputs.to_dict() == [{"type": "double", "name": "x", "required": True}]
    assert model.signature.params is not None
    assert [p.name for p in model.signature.params] == ["shift"]
    serving = json.loads((tmp_path / "m" / "serving_input_example.json").read_text())
    assert serving == {
        "dataframe_split": {"columns": ["x"], "data": [[1.0], [2.0]]},
        "params": {"shift": 0.5},
    }
    # MLflow 3's form of an (input, params) example, flagged in MLmodel
    assert json.loads((tmp_path / "m" / "input_example.json").read_text()) == {
        "inputs": {"columns": ["x"], "data": [[1.0], [2.0]]},
        "params": {"shift": 0.5},
    }
    loaded = Model.load(tmp_path / "m")
    assert loaded.saved_input_example_info is not None
    assert loaded.saved_input_example_info["params"] == "true"
    pd.testing.assert_frame_equal(loaded.load_input_example(tmp_path / "m"), example)
    assert loaded.load_input_example_params(str(tmp_path / "m")) == {"shift": 0.5}
    assert json.loads(loaded.get_serving_input(str(tmp_path / "m")) or "") == serving
    bad_signature = infer_signature(pd.DataFrame({"y": [1.0]}))
    with pytest.raises(InvalidArgument, match=r"input example does not match.*'x'"):
        mlflow.pyfunc.save_model(
            tmp_path / "bad",
            python_model=Scaler(),
            artifacts={"factor": factor_file},
            input_example=example,
            signature=bad_signature,
            pip_requirements=REQS,
        )


def test_code_paths_are_importable_at_load(tmp_path: Path) -> None:
    code = tmp_path / "src" / "helper_mod_for_pyfunc.py"
    code.parent.mkdir()
    code.write_text("def triple(x):\n    return x * 3\n")
    loader = tmp_path / "src" / "custom_loader_for_pyfunc.py"
    loader.write_text(
        "import helper_mod_for_pyfunc\n"
        "class _Impl:\n"
        "    def __init__(self, path):\n"
        "        with open(path) as f:\n"
        "            self.base = float(f.read())\n"
        "    def predict(self, data):\n"
        "        return helper_mod_for_pyfunc.triple(data) + self.base\n"
        "def _load_pyfunc(path):\n"
        "    return _Impl(path)\n"
    )
    data = tmp_path / "base.txt"
    data.write_text("1")
    mlflow.pyfunc.save_model(
        tmp_path / "m",
        loader_module="custom_loader_for_pyfunc",
        data_path=str(data),
        code_paths=[str(code), str(loader)],
        pip_requirements=REQS,
    )
    assert sorted(os.listdir(tmp_path / "m" / "code")) == [
        "custom_loader_for_pyfunc.py",
        "helper_mod_for_pyfunc.py",
    ]
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert loaded.predict(np.array([1.0])).tolist() == [4.0]


def test_save_refuses_a_non_empty_directory_and_bad_arguments(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "x").write_text("")
    with pytest.raises(AlreadyExists, match="already exists"):
        mlflow.pyfunc.save_model(tmp_path / "m", python_model=NoContext())
    with pytest.raises(InvalidArgument, match="Exactly one of python_model and loader_module"):
        mlflow.pyfunc.save_model(tmp_path / "n")
    with pytest.raises(InvalidArgument, match="cannot both be given"):
        mlflow.pyfunc.save_model(
            tmp_path / "o",
            python_model=NoContext(),
            pip_requirements=["a"],
            extra_pip_requirements=["b"],
        )
    with pytest.raises(NotFound):
        mlflow.pyfunc.load_model(str(tmp_path / "missing"))
    (tmp_path / "nopyfunc").mkdir()
    Model(flavors={"other": {}}).save(tmp_path / "nopyfunc" / "MLmodel")
    with pytest.raises(InvalidArgument, match="no python_function flavor"):
        mlflow.pyfunc.load_model(str(tmp_path / "nopyfunc"))


def test_unsupported_mlflow_flavor_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    Model(flavors={"python_function": {"loader_module": "mlflow.tensorflow"}}).save(
        tmp_path / "m" / "MLmodel"
    )
    with pytest.raises(NotImplementedYet, match=r"mlflow\.tensorflow"):
        mlflow.pyfunc.load_model(str(tmp_path / "m"))


def test_pickle_refused_by_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow.pyfunc.save_model(tmp_path / "m", python_model=NoContext(), pip_requirements=REQS)
    monkeypatch.setenv("MLTRAIL_ALLOW_PICKLE", "false")
    with pytest.raises(PermissionDenied, match="MLTRAIL_ALLOW_PICKLE"):
        mlflow.pyfunc.load_model(str(tmp_path / "m"))


def test_log_model_records_outputs_and_loads_from_runs_uri(tracking: str, factor_file: str) -> None:
    frame = pd.DataFrame({"x": [1.0]})
    signature = infer_signature(frame, np.array([3.0]))
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(
            "scaler",
            python_model=Scaler(),
            artifacts={"factor": factor_file},
            signature=signature,
            pip_requirements=REQS,
            metadata={"owner": "me"},
        )
        second = mlflow.pyfunc.log_model(
            name="again", python_model=NoContext(), pip_requirements=REQS
        )
    assert info.model_uri == f"models:/{info.model_id}"
    assert (info.name, second.name) == ("scaler", "again")
    assert info.run_id == run.info.run_id
    assert info.metadata == {"owner": "me"}
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/scaler"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert loaded.predict(frame).tolist() == [3.0]
        assert loaded.metadata.run_id == run.info.run_id
        assert loaded.metadata.model_id == info.model_id
        assert loaded.metadata.signature == signature
    finished = mlflow.get_run(run.info.run_id)
    assert "mlflow.log-model.history" not in finished.data.tags  # MLflow 3 writes none either
    outputs = [o.model_id for o in finished.outputs.model_outputs]
    assert sorted(outputs) == sorted([info.model_id, second.model_id])
    client = mlflow.MlflowClient()
    assert client.list_artifacts(run.info.run_id) == []
    listed = client.list_logged_model_artifacts(info.model_id)
    assert {f.path for f in listed} >= {"MLmodel", "python_model.pkl"}


def test_log_model_outside_a_run_starts_none_and_checks_the_name(tracking: str) -> None:
    info = mlflow.pyfunc.log_model(python_model=NoContext(), pip_requirements=REQS)
    assert info.name == "model"
    assert mlflow.active_run() is None  # as MLflow 3: the logged model has no run
    assert info.run_id is None
    assert mlflow.get_logged_model(str(info.model_id)).source_run_id is None
    with pytest.raises(InvalidArgument):
        mlflow.pyfunc.log_model("../escape", python_model=NoContext(), pip_requirements=REQS)
    with pytest.raises(InvalidArgument, match="pass only one"):
        mlflow.pyfunc.log_model("a", name="b", python_model=NoContext())


def test_downloads_go_to_private_directories(tracking: str) -> None:
    with mlflow.start_run() as run:
        mlflow.pyfunc.log_model("m", python_model=NoContext(), pip_requirements=REQS)
    from mltrail.models._uri import download_model

    # runs:/<run>/<name> names the logged model's whole folder: downloaded as a private folder
    local = download_model(f"runs:/{run.info.run_id}/m")
    assert stat.S_IMODE(os.stat(local).st_mode) == 0o700
    assert os.path.isfile(os.path.join(local, "MLmodel"))
    # a path inside it lands below a private folder
    sub = download_model(f"runs:/{run.info.run_id}/m/MLmodel")
    assert stat.S_IMODE(os.stat(os.path.dirname(sub)).st_mode) == 0o700


def test_models_uris_resolve_through_the_registry(tracking: str) -> None:
    with mlflow.start_run():
        first = mlflow.pyfunc.log_model(
            "m", python_model=NoContext(), pip_requirements=REQS, registered_model_name="words"
        )

        def upper(model_input: Any) -> Any:
            return [str(v).upper() for v in model_input]

        second = mlflow.pyfunc.log_model(
            "m2", python_model=upper, pip_requirements=REQS, registered_model_name="words"
        )
    assert (first.registered_model_version, second.registered_model_version) == (1, 2)
    with open_backend(tracking) as store:
        store.registry.set_registered_model_alias("words", "champion", 1)
        store.registry.transition_model_version_stage("words", 2, "Staging")
    frame = pd.DataFrame({"s": ["ab"]})
    assert mlflow.pyfunc.load_model("models:/words/1").predict(frame) == [2]
    assert mlflow.pyfunc.load_model("models:/words@champion").predict(frame) == [2]
    assert mlflow.pyfunc.load_model("models:/words/Staging").predict(["ab"]) == ["AB"]
    assert mlflow.pyfunc.load_model("models:/words/latest").predict(["ab"]) == ["AB"]
    assert Model.load("models:/words/1").model_id == first.model_id
    with pytest.raises(NotFound):
        mlflow.pyfunc.load_model("models:/words/Production")
    with pytest.raises(NotFound):
        mlflow.pyfunc.load_model("models:/nobody/1")


def test_logged_models_load_by_id_and_through_their_run(tracking: str, tmp_path: Path) -> None:
    """MLflow 3 clients keep a model's files below the logged model, not the run's artifacts:
    ``models:/<model_id>`` and ``runs:/<run_id>/<model name>`` both load it."""
    from mltrail.artifacts import get_artifact_repository
    from mltrail.entities import LoggedModelOutput

    local = tmp_path / "saved"
    mlflow.pyfunc.save_model(str(local), python_model=NoContext(), pip_requirements=REQS)
    store = mlflow.MlflowClient(tracking)._backend
    with mlflow.start_run() as run:
        mlflow.log_text("not a model", "clf/notes.txt")  # a run artifact of the same name
    logged = store.logged_models.create_logged_model(
        run.info.experiment_id, name="clf", source_run_id=run.info.run_id
    )
    get_artifact_repository(logged.artifact_location).log_artifacts(str(local))
    store.logged_models.log_outputs(run.info.run_id, [LoggedModelOutput(logged.model_id)])
    frame = pd.DataFrame({"s": ["abc"]})

    assert mlflow.pyfunc.load_model(f"models:/{logged.model_id}").predict(frame) == [3]
    by_run = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/clf")
    assert by_run.predict(frame) == [3]
    assert Model.load(f"models:/{logged.model_id}").flavors.keys() >= {"python_function"}
    # registering the run's model registers the logged model, as MLflow 3 does
    version = mlflow.register_model(f"runs:/{run.info.run_id}/clf", "from-logged")
    assert version.source == f"models:/{logged.model_id}"
    assert version.run_id == run.info.run_id
    assert mlflow.pyfunc.load_model("models:/from-logged/1").predict(frame) == [3]
    # the artifact helpers resolve the same way
    whole = Path(mltrail.artifacts.download_artifacts(f"models:/{logged.model_id}"))
    assert (whole / "MLmodel").is_file()
    text = mltrail.artifacts.load_text(f"runs:/{run.info.run_id}/clf/MLmodel")
    assert "python_function" in text
    with pytest.raises(NotFound):  # the logged model's name wins over the run's folder
        mltrail.artifacts.load_text(f"runs:/{run.info.run_id}/clf/notes.txt")
    # other run artifacts are still reached through the run
    with pytest.raises(NotFound):
        mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/other")
    with pytest.raises(NotFound):
        mlflow.pyfunc.load_model("models:/m-00000000000000000000000000000000")
    store.logged_models.delete_logged_model(logged.model_id)
    with pytest.raises(NotFound):
        mlflow.pyfunc.load_model(f"models:/{logged.model_id}")
    # with the logged model deleted, the run's own folder of that name is reached again
    notes = mltrail.artifacts.load_text(f"runs:/{run.info.run_id}/clf/notes.txt")
    assert notes == "not a model"
    with pytest.raises(NotFound):
        mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/clf")
    with pytest.raises(InvalidArgument, match="expected runs:/<run_id>/<path>"):
        mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}")
