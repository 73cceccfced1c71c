"""The shap flavor is MLflow's: the same script under the real ``mlflow`` and under
``mltrail as mlflow`` (:mod:`tests.models._shap_scenario`) records the same explanation files
(values equal within a tolerance, the same summary plot), the same explainer models
(``MLmodel``, files, the underlying scikit-learn model) and loads the same explainers; each
library loads the explainers the other saved; pickle-based loading follows
``MLTRAIL_ALLOW_PICKLE``."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mltrail
from mltrail.exceptions import PermissionDenied

sys.path.insert(0, str(Path(__file__).parents[1]))
from _differential import record_both

shap = pytest.importorskip("shap")
pytest.importorskip("matplotlib")

SCENARIO = Path(__file__).with_name("_shap_scenario.py")
_OWN = {"mlflow", "mltrail"}

pytestmark = [
    pytest.mark.filterwarnings("ignore:::mlflow"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shap")


@pytest.fixture(scope="module")
def recorded(root: Path) -> dict[str, Any]:
    return record_both(SCENARIO, root)


def _close(ours: Any, theirs: Any, where: str = "") -> list[str]:
    """Where *ours* and *theirs* differ (numbers within a relative tolerance of 1e-6)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        if sorted(ours) != sorted(theirs):
            return [f"{where}: keys {sorted(ours)} != {sorted(theirs)}"]
        return [d for key in ours for d in _close(ours[key], theirs[key], f"{where}/{key}")]
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return [f"{where}: {len(ours)} items != {len(theirs)}"]
        pairs = enumerate(zip(ours, theirs, strict=True))
        return [d for i, (a, b) in pairs for d in _close(a, b, f"{where}[{i}]")]
    numbers = (int, float)
    if isinstance(ours, numbers) and isinstance(theirs, numbers) and not isinstance(ours, bool):
        return [] if math.isclose(ours, theirs, rel_tol=1e-6, abs_tol=1e-9) else [where]
    return [] if ours == theirs else [f"{where}: {ours!r} != {theirs!r}"]


def _comparable(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without what is each library's own: the requirements its probe inferred
    (compared in their own test), the library's own pin, and ``registered_model_meta``, the
    file MLflow's download of a ``models:/`` URI adds."""
    out = json.loads(json.dumps(summary))
    for key in ("logged_files", "saved", "shap_serialized", "unknown"):
        out[key].pop("requirements")
    logged = out["logged_files"]
    logged["files"] = [f for f in logged["files"] if f != "registered_model_meta"]
    defaults = out["defaults"]
    defaults["conda_pip"] = [r for r in defaults["conda_pip"] if r.split("==")[0] not in _OWN]
    return out


def test_the_scenario_records_what_mlflow_records(recorded: dict[str, Any]) -> None:
    ours, theirs = _comparable(recorded["mltrail"]), _comparable(recorded["mlflow"])
    assert _close(ours, theirs) == []


def test_the_recording_is_mlflow_s_layout(recorded: dict[str, Any]) -> None:
    """What the two agree on is MLflow's shape (so the comparison above is not vacuous)."""
    ours = recorded["mltrail"]
    assert ours["artifacts"] == [
        "model_explanations_shap/base_values.npy",
        "model_explanations_shap/shap_values.npy",
        "model_explanations_shap/summary_bar_plot.png",
    ]
    assert ours["small_artifacts"][0] == "small/base_values.npy"
    assert ours["explanation_uri"] == "<root>/model_explanations_shap"
    assert ours["custom_uri"] == "<root>/small"
    values = np.asarray(ours["model_explanations_shap"]["shap_values"])
    assert values.shape == (50, 4)
    base = float(np.asarray(ours["model_explanations_shap"]["base_values"]))
    # Additivity: base value plus a row's SHAP values is the model's prediction of the row.
    assert np.allclose(values.sum(axis=1) + base, ours["predictions"])
    assert ours["logged_model"] == {
        "name": "explainer",
        "source_run_id": "<run>",
        "status": "READY",
    }
    assert ours["model_uri"] == "models:/<explainer>"
    assert ours["flavors"] == ["python_function", "shap"]
    logged = ours["logged_files"]
    assert "explainer.shap" in logged["files"]
    assert "underlying_model/model.pkl" in logged["files"]
    shap_conf = logged["mlmodel"]["flavors"]["shap"]
    assert shap_conf["shap_version"] == shap.__version__
    assert shap_conf["serialized_explainer"] == "explainer.shap"
    assert shap_conf["underlying_model_flavor"] == "sklearn"
    pyfunc_conf = logged["mlmodel"]["flavors"]["python_function"]
    assert pyfunc_conf["loader_module"] == "mlflow.shap"
    assert pyfunc_conf["model_path"] == "explainer.shap"
    sklearn_conf = logged["underlying"]["flavors"]["sklearn"]
    assert sklearn_conf["serialization_format"] == "cloudpickle"
    assert ours["loaded_type"] == "PermutationExplainer"
    assert np.allclose(ours["loaded_values"], ours["pyfunc_values"])
    assert np.allclose(ours["loaded_values"], values[:3])  # a linear model: exact values
    assert ours["shap_serialized"]["mlmodel"]["flavors"]["shap"]["underlying_model_flavor"] is None
    assert ours["shap_serialized"]["underlying"] is None
    assert ours["unknown"]["mlmodel"]["flavors"]["shap"]["underlying_model_flavor"] == "unknown"
    assert ours["unknown_warnings"] == [
        "Unable to serialize underlying model using MLflow, will use SHAP serialization"
    ]
    assert ours["defaults"]["pip"] == [f"shap=={shap.__version__}"]


def test_requirements_include_the_explainer_s_and_the_model_s(recorded: dict[str, Any]) -> None:
    """mltrail pins what the loader imports itself (SHAP, the underlying model's libraries);
    MLflow's probe also lists what those import in turn (matplotlib, IPython, ...)."""
    for key in ("logged_files", "saved", "shap_serialized", "unknown"):
        ours = set(recorded["mltrail"][key]["requirements"])
        theirs = set(recorded["mlflow"][key]["requirements"])
        assert ours <= theirs, key
        assert "shap" in ours
    for key in ("logged_files", "saved"):
        assert {"scikit-learn", "cloudpickle"} <= set(recorded["mltrail"][key]["requirements"])


def test_the_summary_bar_plot_is_mlflow_s(root: Path, recorded: dict[str, Any]) -> None:
    from PIL import Image

    for name in ("model_explanations_shap.png", "small.png"):
        with Image.open(root / "mltrail" / name) as a, Image.open(root / "mlflow" / name) as b:
            assert a.size == b.size
            ours = np.asarray(a.convert("RGB"), dtype=float)
            theirs = np.asarray(b.convert("RGB"), dtype=float)
        assert np.mean(np.abs(ours - theirs)) < 1.0
        assert np.std(ours) > 10  # a drawing, not a blank image


def _rows() -> Any:
    from sklearn.datasets import load_diabetes

    X, _ = load_diabetes(return_X_y=True, as_frame=True)
    return X.iloc[:3, :4]


@pytest.mark.parametrize("name", ["saved", "shap_serialized"])
def test_mltrail_loads_mlflow_s_explainers(root: Path, recorded: dict[str, Any], name: str) -> None:
    path = str(root / "mlflow" / name)
    expected = recorded["mlflow"]["loaded_values"]
    assert np.allclose(mltrail.shap.load_explainer(path)(_rows()).values, expected)
    assert np.allclose(mltrail.pyfunc.load_model(path).predict(_rows()), expected)


@pytest.mark.parametrize("name", ["saved", "shap_serialized"])
def test_mlflow_loads_mltrail_s_explainers(root: Path, recorded: dict[str, Any], name: str) -> None:
    mlflow_shap = pytest.importorskip("mlflow.shap")
    mlflow_pyfunc = pytest.importorskip("mlflow.pyfunc")
    path = str(root / "mltrail" / name)
    expected = recorded["mltrail"]["loaded_values"]
    assert np.allclose(mlflow_shap.load_explainer(path)(_rows()).values, expected)
    assert np.allclose(mlflow_pyfunc.load_model(path).predict(_rows()), expected)


def test_explainers_are_not_loaded_when_pickle_is_refused(
    root: Path, recorded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_ALLOW_PICKLE", "false")
    for name in ("saved", "shap_serialized"):
        path = str(root / "mltrail" / name)
        with pytest.raises(PermissionDenied, match="MLTRAIL_ALLOW_PICKLE"):
            mltrail.shap.load_explainer(path)
        with pytest.raises(PermissionDenied, match="MLTRAIL_ALLOW_PICKLE"):
            mltrail.pyfunc.load_model(path)


def test_a_pytorch_model_is_saved_with_the_pytorch_flavor(tmp_path: Path) -> None:
    """MLflow 3.17 cannot save this explainer (its pytorch flavor's default ``pt2`` format needs
    an input example); mltrail saves the module pickled, and both libraries load it."""
    torch = pytest.importorskip("torch")
    mlflow_shap = pytest.importorskip("mlflow.shap")
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 1)
    background = np.random.default_rng(0).normal(size=(20, 3)).astype("float32")
    explainer = shap.explainers.Permutation(net, shap.maskers.Independent(background))
    assert mltrail.shap.get_underlying_model_flavor(explainer.model) == "pytorch"
    assert mlflow_shap.get_underlying_model_flavor(explainer.model) == "pytorch"
    path = tmp_path / "torch"
    mltrail.shap.save_explainer(explainer, path)
    conf = mltrail.models.Model.load(str(path)).flavors
    assert conf["shap"]["underlying_model_flavor"] == "pytorch"
    assert "pytorch" in mltrail.models.Model.load(str(path / "underlying_model")).flavors
    for load in (mltrail.shap.load_explainer, mlflow_shap.load_explainer):
        inner = load(str(path)).model.inner_model
        assert isinstance(inner, torch.nn.Linear)
        assert torch.equal(inner.weight, net.weight)
    with pytest.raises(Exception, match="input_example is required"):
        mlflow_shap.save_explainer(explainer, str(tmp_path / "theirs"))


def test_a_sparse_matrix_is_explained_and_autologging_records_nothing(sqlite_uri: str) -> None:
    """Features as a SciPy sparse matrix (MLflow 3.17 takes ``len()`` of them, which SciPy
    refuses); scikit-learn autologging records nothing while the explainer calls the model
    (which fits one each time, here), though it does outside ``log_explanation``."""
    import scipy.sparse
    from sklearn.linear_model import LinearRegression

    mltrail.set_tracking_uri(sqlite_uri)
    features = np.random.default_rng(0).normal(size=(30, 3))
    target = features @ [1.0, 2.0, 3.0]

    def predict(rows: Any) -> Any:
        return LinearRegression().fit(features, target).predict(rows)

    client = mltrail.MlflowClient()
    mltrail.sklearn.autolog(log_models=False, log_datasets=False)
    try:
        with mltrail.start_run() as run:
            uri = mltrail.shap.log_explanation(predict, scipy.sparse.csr_matrix(features))
            explained = client.get_run(run.info.run_id).data.params
            predict(features)
    finally:
        mltrail.sklearn.autolog(disable=True)
    assert uri.endswith("/model_explanations_shap")
    assert explained == {}
    assert "fit_intercept" in client.get_run(run.info.run_id).data.params  # the control
    local = client.download_artifacts(run.info.run_id, "model_explanations_shap")
    values = np.load(Path(local) / "shap_values.npy")
    base = float(np.load(Path(local) / "base_values.npy"))
    assert np.allclose(values.sum(axis=1) + base, predict(features))
