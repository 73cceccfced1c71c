"""``evaluate(..., model_id=...)``: MLflow 3's link between an evaluation and a logged model
(the differential with MLflow is in test_differential.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mltrail
from mltrail.exceptions import InvalidArgument, MltrailError

QUIET = {"log_model_explainability": False}


def _frame() -> pd.DataFrame:
    x = np.random.default_rng(2).normal(size=(50, 2))
    return pd.DataFrame(x, columns=["a", "b"]).assign(y=(x[:, 0] > 0).astype(int))


def _predict(df: pd.DataFrame) -> pd.Series:
    return (df["a"] + df["b"] > 0).astype(int)


def _evaluate(**kwargs: object) -> mltrail.models.EvaluationResult:
    return mltrail.evaluate(
        _predict, _frame(), targets="y", model_type="classifier", evaluator_config=QUIET, **kwargs
    )


def test_the_metrics_are_linked_to_the_model_with_the_dataset(store: str) -> None:
    model = mltrail.initialize_logged_model(name="linked")
    with mltrail.start_run() as run:
        result = _evaluate(model_id=model.model_id)
    linked = mltrail.MlflowClient().get_logged_model(model.model_id).metrics
    assert {m.key: m.value for m in linked} == pytest.approx(result.metrics)
    assert {(m.run_id, m.dataset_name) for m in linked} == {(run.info.run_id, "dataset")}
    recorded = mltrail.get_run(run.info.run_id)
    assert [m.model_id for m in recorded.inputs.model_inputs] == [model.model_id]
    digest = recorded.inputs.dataset_inputs[0].dataset.digest
    assert {m.dataset_digest for m in linked} == {digest}


def test_the_active_model_of_the_environment_is_linked(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = mltrail.initialize_logged_model(name="active")
    monkeypatch.setenv("MLFLOW_ACTIVE_MODEL_ID", model.model_id)
    result = _evaluate()
    linked = mltrail.MlflowClient().get_logged_model(model.model_id).metrics
    assert sorted(m.key for m in linked) == sorted(result.metrics)


def test_a_model_id_that_contradicts_the_model_uri_is_refused(store: str) -> None:
    with pytest.raises(InvalidArgument, match="contradicts the model_id 'm-abc'"):
        mltrail.evaluate(
            "models:/m-abc", _frame(), targets="y", model_type="classifier", model_id="m-other"
        )
    assert mltrail.search_runs(search_all_experiments=True).empty


def test_an_unknown_model_id_is_named_before_anything_is_logged(store: str) -> None:
    with pytest.raises(MltrailError, match="m-0123456789"):
        _evaluate(model_id="m-0123456789")
    assert mltrail.search_runs(search_all_experiments=True).empty
