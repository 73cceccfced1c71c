"""The CatBoost flavor: the four model classes in CatBoost's own formats, as MLflow writes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import mltrail
import mltrail as mlflow
from mltrail.exceptions import InvalidArgument, MltrailError
from mltrail.models.signature import infer_signature

cb = pytest.importorskip("catboost")


@pytest.fixture
def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"a": rng.random(80), "b": rng.random(80)})
    return X, (X["a"] > 0.5).astype(int).to_numpy()


def _classifier(X: pd.DataFrame, y: np.ndarray) -> object:
    return cb.CatBoostClassifier(
        iterations=8, depth=2, verbose=False, allow_writing_files=False
    ).fit(X, y)


def test_classifier_round_trip(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    clf = _classifier(X, y)
    mlflow.catboost.save_model(clf, tmp_path / "m", input_example=X.head(3))
    content = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert content["flavors"]["catboost"] == {
        "catboost_version": cb.__version__,
        "code": None,
        "data": "model.cb",
        "model_type": "CatBoostClassifier",
        "save_format": "cbm",
    }
    pyfunc_conf = content["flavors"]["python_function"]
    assert (pyfunc_conf["loader_module"], pyfunc_conf["data"]) == ("mlflow.catboost", "model.cb")
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert f"catboost=={cb.__version__}" in requirements
    native = mlflow.catboost.load_model(str(tmp_path / "m"))
    assert type(native) is cb.CatBoostClassifier
    np.testing.assert_allclose(native.predict_proba(X), clf.predict_proba(X))
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert type(loaded.get_raw_model()) is cb.CatBoostClassifier
    signature = loaded.metadata.signature  # inferred from the example
    assert signature is not None
    assert [c.name for c in signature.inputs.inputs] == ["a", "b"]
    assert signature.outputs.to_dict() == [{"type": "long", "required": True}]


@pytest.mark.parametrize("save_format", ["cbm", "json"])
@pytest.mark.parametrize("kind", ["CatBoostRegressor", "CatBoostRanker", "CatBoost"])
def test_every_model_class_and_format(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray], kind: str, save_format: str
) -> None:
    X, _ = data
    target = 3 * X["a"] - X["b"]
    options = {"iterations": 6, "verbose": False, "allow_writing_files": False}
    if kind == "CatBoostRanker":
        model = cb.CatBoostRanker(**options).fit(X, target, group_id=np.arange(len(X)) // 8)
    elif kind == "CatBoost":
        model = cb.CatBoost({**options, "loss_function": "RMSE"}).fit(X, target)
    else:
        model = cb.CatBoostRegressor(**options).fit(X, target)
    mlflow.catboost.save_model(model, tmp_path / "m", format=save_format, pip_requirements=[])
    conf = mltrail.models.Model.load(str(tmp_path / "m")).flavors["catboost"]
    assert (conf["model_type"], conf["save_format"]) == (kind, save_format)
    native = mlflow.catboost.load_model(str(tmp_path / "m"))
    assert type(native).__name__ == kind
    np.testing.assert_allclose(native.predict(X), model.predict(X))
    np.testing.assert_allclose(
        mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(X), model.predict(X)
    )


def test_logged_with_signature_extra_files_and_evaluated(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'db.sqlite'}")
    X, y = data
    clf = _classifier(X, y)
    notes = tmp_path / "notes.txt"
    notes.write_text("trained on a and b")
    signature = infer_signature(X, clf.predict(X))
    with mlflow.start_run() as run:
        info = mlflow.catboost.log_model(
            clf,
            name="model",
            signature=signature,
            input_example=X.head(2),
            extra_files=[str(notes)],
            pip_requirements=["catboost"],
        )
        frame = X.assign(y=y)
        result = mlflow.evaluate(info.model_uri, frame, targets="y", model_type="classifier")
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.run_id == run.info.run_id
    assert info.flavors["catboost"]["extra_files"] == [{"path": "extra_files/notes.txt"}]
    local = mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path / "dl"))
    assert (Path(local) / "extra_files" / "notes.txt").read_text() == "trained on a and b"
    assert (Path(local) / "requirements.txt").read_text().splitlines() == ["catboost"]
    native = mlflow.catboost.load_model(info.model_uri)
    np.testing.assert_allclose(native.predict_proba(X), clf.predict_proba(X))
    # evaluate calls the native model's predict_proba: probability metrics exist
    expected_auc = _roc_auc(y, clf.predict_proba(X)[:, 1])
    assert result.metrics["roc_auc"] == pytest.approx(expected_auc)
    assert result.metrics["accuracy_score"] == pytest.approx(float(np.mean(clf.predict(X) == y)))
    assert "log_loss" in result.metrics


def _roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores))


def test_signature_is_enforced(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    clf = _classifier(X, y)
    signature = infer_signature(X, clf.predict(X))
    mlflow.catboost.save_model(clf, tmp_path / "m", signature=signature, pip_requirements=[])
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    # columns are reordered as the signature says, an extra one is ignored
    np.testing.assert_array_equal(loaded.predict(X[["b", "a"]].assign(extra=1.0)), clf.predict(X))
    with pytest.raises(MltrailError, match="'b'"):
        loaded.predict(X[["a"]])
    with pytest.raises(InvalidArgument, match="does not match the model signature"):
        mlflow.catboost.save_model(
            clf, tmp_path / "n", signature=signature, input_example=X[["a"]].head(2)
        )


def test_bad_arguments_are_named(tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    clf = _classifier(X, y)
    with pytest.raises(InvalidArgument, match="Invalid cb_model of type object"):
        mlflow.catboost.save_model(object(), tmp_path / "a")
    with pytest.raises(InvalidArgument, match="Invalid cb_model: the model is not fitted"):
        mlflow.catboost.save_model(cb.CatBoostClassifier(), tmp_path / "b")
    with pytest.raises(InvalidArgument, match="Invalid format 'pmml'"):
        mlflow.catboost.save_model(clf, tmp_path / "c", format="pmml")
    with pytest.raises(InvalidArgument, match="Invalid argument 'compress'"):
        mlflow.catboost.save_model(clf, tmp_path / "d", compress=True)
    with pytest.raises(InvalidArgument, match="Invalid extra_files"):
        mlflow.catboost.save_model(clf, tmp_path / "e", extra_files="notes.txt")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="Invalid argument 'compress'"):
        mlflow.catboost.log_model(clf, name="model", compress=True)
    assert mltrail.active_run() is None  # refused before anything was logged


def test_refuses_foreign_model_types_and_formats(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, y = data
    mlflow.catboost.save_model(_classifier(X, y), tmp_path / "m", pip_requirements=[])
    mlmodel = tmp_path / "m" / "MLmodel"
    original = yaml.safe_load(mlmodel.read_text())
    for key, value, message in (
        ("model_type", "Popen", "model_type 'Popen' is not one of"),
        ("save_format", "python", "save_format 'python' cannot be loaded"),
        ("data", "../outside.cb", "outside"),
    ):
        content = yaml.safe_load(yaml.safe_dump(original))
        content["flavors"]["catboost"][key] = value
        mlmodel.write_text(yaml.safe_dump(content))
        with pytest.raises(MltrailError, match=message):
            mlflow.catboost.load_model(str(tmp_path / "m"))


@pytest.mark.private_requirements_cache  # counts probes
def test_a_retrained_model_is_not_probed_again(
    tmp_path: Path, data: tuple[pd.DataFrame, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail.models import _env

    probes: list[str] = []
    real = _env._probe

    def counted(model_path: str, *args: object, **kwargs: object) -> object:
        probes.append(model_path)
        return real(model_path, *args, **kwargs)

    monkeypatch.setattr(_env, "_probe", counted)
    X, y = data
    mlflow.catboost.save_model(_classifier(X, y), tmp_path / "a", input_example=X.head(2))
    other = cb.CatBoostClassifier(
        iterations=5, random_seed=9, verbose=False, allow_writing_files=False
    )
    other.fit(X, 1 - y)  # other trees, same kind: the file's bytes differ, the key does not
    mlflow.catboost.save_model(other, tmp_path / "b", input_example=X.tail(3))
    assert len(probes) == 1
    for name in ("requirements.txt", "conda.yaml", "python_env.yaml"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
    regressor = cb.CatBoostRegressor(iterations=5, verbose=False, allow_writing_files=False)
    regressor.fit(X, X["a"])
    mlflow.catboost.save_model(regressor, tmp_path / "c", input_example=X.head(2))
    assert len(probes) == 2  # another model_type is another kind


def test_categorical_features_and_string_classes(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"city": rng.choice(["oslo", "lima", "pune"], 90), "x": rng.random(90)})
    y = np.where(X["city"] == "oslo", "north", np.where(X["x"] > 0.5, "high", "low"))
    clf = cb.CatBoostClassifier(
        iterations=10, verbose=False, allow_writing_files=False, cat_features=["city"]
    ).fit(X, y)
    mlflow.catboost.save_model(clf, tmp_path / "m", input_example=X.head(3), pip_requirements=[])
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    signature = loaded.metadata.signature
    assert signature is not None
    assert [(c.name, c.type.name) for c in signature.inputs.inputs] == [
        ("city", "string"),
        ("x", "double"),
    ]
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    result = mlflow.evaluate(
        str(tmp_path / "m"), X.assign(y=y), targets="y", model_type="classifier"
    )
    assert result.metrics["accuracy_score"] == pytest.approx(
        float(np.mean(clf.predict(X).ravel() == y))
    )
    assert "log_loss" in result.metrics  # from the native predict_proba


def test_default_environment() -> None:
    pin = f"catboost=={cb.__version__}"
    assert mlflow.catboost.get_default_pip_requirements() == [pin]
    conda = mlflow.catboost.get_default_conda_env()
    assert {"pip": [pin]} in conda["dependencies"]
