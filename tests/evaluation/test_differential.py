"""``mltrail.models.evaluate`` records what MLflow 3's records: the same scenarios
(tests/evaluation/_scenarios.py) run under the real ``mlflow`` and under ``mltrail``, each in
its own process with its own SQLite store, and what each logged is compared.

Compared exactly: metric names, artifact files and result keys (in MLflow's order), dataset
inputs and their context tags, the table tag, the per-class table's columns, the results
table's columns, validation messages.  Values: equal to 1e-9 (relative) where MLflow's are
deterministic, which all of these are.  Not compared: image pixels (mltrail draws its own
plots, at a lower resolution), the ``mlflow.datasets`` tag's hash (each tool's own digest).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from tests._differential import record_both

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("_scenarios.py")
SCENARIOS = [
    "binary_uri",
    "multiclass_uri",
    "regression_uri",
    "binary_loaded",
    "binary_callable",
    "binary_predictions",
    "binary_prefix",
    "binary_pos_label_0",
    "binary_dataset",
    "binary_hf_dataset",
    "strings_label_list",
    "multiclass_macro",
    "binary_numpy",
    "binary_single_class",
    "binary_weighted",
    "multiclass_weighted",
    "regression_weighted",
    "regression_extra_metrics",
    "regression_extra_prefixed",
    "binary_custom_artifacts",
    "xgboost_binary",
]
VALIDATION_CASES = ["pass", "fail_threshold", "fail_baseline", "missing_baseline"]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """(MLflow's, mltrail's) summaries; both processes run at the same time."""
    pytest.importorskip("mlflow")
    pytest.importorskip("matplotlib")  # MLflow draws its plots with it
    summaries = record_both(SCRIPT, tmp_path_factory.mktemp("evaluate-differential"))
    return summaries["mlflow"], summaries["mltrail"]


def _scenario(recordings: tuple[dict[str, Any], dict[str, Any]], name: str) -> tuple[Any, Any]:
    theirs, ours = recordings
    if name not in theirs:
        pytest.skip(f"{name} needs a framework that is not installed")
    return theirs[name], ours[name]


def _close(theirs: float, ours: float) -> bool:
    if math.isnan(theirs):
        return math.isnan(ours)
    return ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_metric_names_and_values_are_mlflows(
    recordings: tuple[dict[str, Any], dict[str, Any]], scenario: str
) -> None:
    theirs, ours = _scenario(recordings, scenario)
    for key in ("metrics", "logged_metrics"):
        assert sorted(ours[key]) == sorted(theirs[key])
        wrong = {
            name: (value, ours[key][name])
            for name, value in theirs[key].items()
            if not _close(value, ours[key][name])
        }
        assert wrong == {}
    assert list(ours["metrics"]) == list(theirs["metrics"])  # the same order, too


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_artifacts_inputs_and_tags_are_mlflows(
    recordings: tuple[dict[str, Any], dict[str, Any]], scenario: str
) -> None:
    theirs, ours = _scenario(recordings, scenario)
    assert ours["artifact_files"] == theirs["artifact_files"]
    assert ours["artifact_keys"] == theirs["artifact_keys"]
    assert ours["uris_end_with"] == theirs["uris_end_with"]
    assert ours["inputs"] == theirs["inputs"]
    assert ours["logged_artifacts_tag"] == theirs["logged_artifacts_tag"]
    assert ours["has_datasets_tag"] == theirs["has_datasets_tag"]
    assert ours["status"] == theirs["status"] == "FINISHED"


@pytest.mark.parametrize("scenario", ["multiclass_uri", "multiclass_macro", "multiclass_weighted"])
def test_per_class_table_is_mlflows(
    recordings: tuple[dict[str, Any], dict[str, Any]], scenario: str
) -> None:
    theirs, ours = (r[scenario]["per_class"] for r in recordings)
    assert list(ours) == list(theirs)
    for column, values in theirs.items():
        assert all(_close(a, b) for a, b in zip(values, ours[column], strict=True)), column


@pytest.mark.parametrize(
    "scenario",
    ["regression_extra_metrics", "regression_extra_prefixed", "binary_custom_artifacts"],
)
def test_results_table_is_mlflows(
    recordings: tuple[dict[str, Any], dict[str, Any]], scenario: str
) -> None:
    theirs, ours = (r[scenario]["table"] for r in recordings)
    assert list(ours) == list(theirs)
    assert "y" in ours
    assert "outputs" in ours
    for column, values in theirs.items():
        assert all(_close(a, b) for a, b in zip(values, ours[column], strict=True)), column


def test_custom_artifacts_are_mlflows(recordings: tuple[dict[str, Any], dict[str, Any]]) -> None:
    theirs, ours = (r["binary_custom_artifacts"] for r in recordings)
    assert ours["custom"] == theirs["custom"]
    assert ours["artifact_keys"][:7] == [
        "head",
        "errors",
        "summary",
        "counts",
        "scatter",
        "notes",
        "eval_results_table",
    ]


@pytest.mark.parametrize("case", VALIDATION_CASES)
def test_validation_messages_are_mlflows(
    recordings: tuple[dict[str, Any], dict[str, Any]], case: str
) -> None:
    theirs, ours = (r["validation"][case] for r in recordings)
    assert ours == theirs
    if case != "pass":
        assert ours["type"] == "ModelValidationFailedException"


def test_an_evaluation_linked_to_a_logged_model_is_mlflows(
    recordings: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    theirs, ours = (r["linked_model"] for r in recordings)
    assert ours["metrics"] == theirs["metrics"]
    # MLflow 3.17 links every value twice (the evaluator logs under the active model, then
    # evaluate logs the same values again with the model_id) and the run's history holds
    # both; mltrail logs each value once, linked.  The same keys, values, dataset and run.
    unique = sorted({tuple(m) for m in theirs["linked"]})
    assert len(ours["linked"]) == len(unique) == len(theirs["metrics"])
    for mine, want in zip(ours["linked"], unique, strict=True):
        assert mine[0] == want[0]
        assert _close(want[1], mine[1]), mine[0]
        assert tuple(mine[2:]) == tuple(want[2:])
    assert ours["model_inputs"] == theirs["model_inputs"] == [True]
    assert (ours["history"], theirs["history"]) == (1, 2)
