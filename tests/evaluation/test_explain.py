"""Model explainability (SHAP) in ``evaluate``: the same plots as MLflow's, under MLflow's
names, and its settings checked before anything is logged.

The differential runs tests/evaluation/_shap_scenarios.py under the real ``mlflow`` and under
``mltrail`` and compares the artifact names, files and URIs, that each SHAP artifact is an
image, and the metrics.  Pixels are not compared (SHAP draws both; the resolutions differ).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests._differential import record_both

import mltrail
from mltrail.exceptions import InvalidArgument

SCRIPT = Path(__file__).with_name("_shap_scenarios.py")
SCENARIOS = [
    "binary_native",
    "shap_only",
    "multiclass_prefixed",
    "regression_kernel",
    "regression_permutation",
    "string_labels",
]
SHAP_PLOTS = ["shap_beeswarm_plot", "shap_summary_plot", "shap_feature_importance_plot"]
COLUMNS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    pytest.importorskip("mlflow")
    pytest.importorskip("shap")
    summaries = record_both(SCRIPT, tmp_path_factory.mktemp("explain-differential"))
    return summaries["mlflow"], summaries["mltrail"]


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_shap_artifacts_are_mlflows(
    recordings: tuple[dict[str, Any], dict[str, Any]], scenario: str
) -> None:
    theirs, ours = (r[scenario] for r in recordings)
    assert ours["artifact_keys"] == theirs["artifact_keys"]
    assert ours["artifact_files"] == theirs["artifact_files"]
    assert ours["uris_end_with"] == theirs["uris_end_with"]
    assert ours["images"] == theirs["images"]
    assert ours["explainers"] == theirs["explainers"]
    logged = scenario == "regression_permutation"
    assert [name for name, _ in ours["explainers"]] == (["explainer"] if logged else [])
    assert list(ours["metrics"]) == list(theirs["metrics"])
    for name, value in theirs["metrics"].items():
        same = (
            math.isnan(value) if math.isnan(value) else math.isclose(value, ours["metrics"][name])
        )
        assert same, name
    explained = scenario != "string_labels"
    assert all(ours["images"].values())
    shown = [key.removeprefix("m_") for key in ours["artifact_keys"] if "shap" in key]
    assert shown == (SHAP_PLOTS if explained else [])


def _frame(rows: int = 60) -> pd.DataFrame:
    x = np.random.default_rng(0).normal(size=(rows, 3))
    return pd.DataFrame(x, columns=COLUMNS).assign(y=(x[:, 0] + x[:, 1] > 0).astype(int))


def _predict(df: pd.DataFrame) -> Any:
    return (df["a"] + df["b"] > 0).astype(int)


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ({"explainability_algorithm": "tree"}, "explainability_algorithm'] 'tree': must be one"),
        (
            {"explainability_algorithm": "kernel", "explainability_kernel_link": "probit"},
            "explainability_kernel_link'] 'probit': must be identity or logit",
        ),
        ({"explainability_nsamples": 0}, "explainability_nsamples'] 0: must be a positive"),
    ],
)
def test_a_bad_setting_is_refused_before_anything_is_logged(
    store: str, setting: dict[str, Any], words: str
) -> None:
    with pytest.raises(InvalidArgument, match=words.replace("[", r"\[").replace("]", r"\]")):
        mltrail.evaluate(
            _predict, _frame(), targets="y", model_type="classifier", evaluator_config=setting
        )
    assert mltrail.search_runs(search_all_experiments=True).empty
    # Explainability switched off: the setting is not read, as in MLflow.
    result = mltrail.evaluate(
        _predict,
        _frame(),
        targets="y",
        model_type="classifier",
        evaluator_config={**setting, "log_model_explainability": False},
    )
    assert "accuracy_score" in result.metrics


def test_a_feature_of_strings_is_skipped_with_a_note(
    store: str, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("shap")
    frame = _frame().assign(name=pd.array(["x"] * 60, dtype="string"))
    with caplog.at_level(logging.WARNING, logger="mltrail"):
        result = mltrail.evaluate(_predict, frame, targets="y", model_type="classifier")
    notes = [r.getMessage() for r in caplog.records if "explainability" in r.getMessage()]
    assert len(notes) == 1
    assert "every feature to be a column of numbers" in notes[0]
    assert "'explainability_algorithm': 'kernel'" in notes[0]
    assert list(result.artifacts) == ["confusion_matrix"]


def test_a_failure_inside_shap_is_a_note_unless_exceptions_are_not_ignored(
    store: str, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("shap")
    frame = _frame()

    def only_the_whole_frame(df: pd.DataFrame) -> Any:
        if len(df) != len(frame):
            raise RuntimeError("this model predicts the whole frame only")
        return _predict(df)

    config = {"explainability_nsamples": 20}
    with caplog.at_level(logging.WARNING, logger="mltrail"):
        result = mltrail.evaluate(
            only_the_whole_frame,
            frame,
            targets="y",
            model_type="classifier",
            evaluator_config=config,
        )
    notes = [r.getMessage() for r in caplog.records if "SHAP failed" in r.getMessage()]
    assert len(notes) == 1
    assert "this model predicts the whole frame only" in notes[0]
    assert list(result.artifacts) == ["confusion_matrix"]
    assert mltrail.get_run(result.run_id).data.metrics["accuracy_score"] == 1.0
    runs = len(mltrail.search_runs(search_all_experiments=True))
    with pytest.raises(RuntimeError, match="whole frame only"):
        mltrail.evaluate(
            only_the_whole_frame,
            frame,
            targets="y",
            model_type="classifier",
            evaluator_config={**config, "ignore_exceptions": False},
        )
    # Everything is computed before anything is logged: the failed call left no run.
    assert len(mltrail.search_runs(search_all_experiments=True)) == runs


@pytest.mark.filterwarnings("ignore:Unable to serialize underlying model")
def test_log_explainer_logs_the_explainer_as_a_model_of_the_run(store: str) -> None:
    pytest.importorskip("shap")
    result = mltrail.evaluate(
        _predict,
        _frame(),
        targets="y",
        model_type="classifier",
        evaluator_config={"log_explainer": True, "explainability_nsamples": 20},
    )
    assert [name for name in result.artifacts if "shap" in name] == SHAP_PLOTS
    client = mltrail.MlflowClient()
    experiment = client.get_run(result.run_id).info.experiment_id
    models = client.search_logged_models(experiment_ids=[experiment])
    explainers = [m for m in models if m.source_run_id == result.run_id]
    assert [m.name for m in explainers] == ["explainer"]
    uri = f"models:/{explainers[0].model_id}"
    assert mltrail.models.Model.load(uri).flavors["shap"]["underlying_model_flavor"] == "unknown"
    values = mltrail.shap.load_explainer(uri)(_frame(4)[COLUMNS]).values
    assert values.shape == (4, 3)
