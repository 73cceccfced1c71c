"""scikit-learn autologging records what MLflow's records: the same scenarios
(tests/autolog/_sklearn_scenarios.py) run under the real ``mlflow`` and under ``mltrail``, each
in its own process with its own SQLite store, and the runs are compared.

Known, deliberate differences (asserted as such):
- dataset digests: mltrail.data digests a bounded sample of the data by its own scheme, so the
  digest strings differ; names, source types and contexts are MLflow's.
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path
from typing import Any

import pytest
from tests._differential import record_both

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("_sklearn_scenarios.py")
SCENARIOS = [
    "logistic_regression_iris",
    "pipeline_binary",
    "linear_regression",
    "grid_search",
    "post_training",
]
#: Tags of the run context (user, source, git, name), which differ.
CONTEXT_TAGS = {
    "mlflow.user",
    "mlflow.source.name",
    "mlflow.source.type",
    "mlflow.source.git.commit",
    "mlflow.source.git.branch",
    "mlflow.source.git.repoURL",
    "mltrail.source.git.dirty",
    "mlflow.runName",
}
#: Metrics that are timings.
TIMINGS = {"mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"}
MODEL_DIRS = ("model/", "best_estimator/")

Summary = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> tuple[Summary, Summary]:
    """One recording per library (both processes run at the same time), made once per test
    session: xdist workers share it through a file lock in the session's shared folder."""
    pytest.importorskip("mlflow")
    pytest.importorskip("matplotlib")
    if worker_id == "master":
        summaries = record_both(SCRIPT, tmp_path_factory.mktemp("sklearn-autolog"))
    else:
        shared = tmp_path_factory.getbasetemp().parent / "sklearn-autolog"
        shared.mkdir(exist_ok=True)
        with open(shared / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker records, the others read
            done = shared / "recordings.json"
            if not done.exists():
                done.write_text(json.dumps(record_both(SCRIPT, shared)))
            summaries = json.loads(done.read_text())
    return summaries["mlflow"], summaries["mltrail"]


def _key(run: dict[str, Any]) -> tuple[bool, str, str]:
    """Parent first, then children by their candidate's params."""
    params = run["params"]
    return (
        "mlflow.parentRunId" in run["tags"],
        params.get("C", ""),
        params.get("fit_intercept", ""),
    )


def _pairs(recordings: tuple[Summary, Summary], scenario: str) -> list[tuple[Any, Any]]:
    theirs, ours = (sorted(r[scenario], key=_key) for r in recordings)
    assert len(ours) == len(theirs), f"{scenario}: {len(ours)} runs, MLflow made {len(theirs)}"
    return list(zip(theirs, ours, strict=True))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_params_are_mlflows(recordings: tuple[Summary, Summary], scenario: str) -> None:
    for theirs, ours in _pairs(recordings, scenario):
        assert ours["params"] == theirs["params"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_metrics_are_mlflows(recordings: tuple[Summary, Summary], scenario: str) -> None:
    for theirs, ours in _pairs(recordings, scenario):
        assert set(ours["metrics"]) == set(theirs["metrics"])
        for key, value in theirs["metrics"].items():
            if key not in TIMINGS:
                assert ours["metrics"][key] == pytest.approx(value, rel=1e-9), key


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_tags_are_mlflows(recordings: tuple[Summary, Summary], scenario: str) -> None:
    for theirs, ours in _pairs(recordings, scenario):
        assert set(ours["tags"]) - CONTEXT_TAGS == set(theirs["tags"]) - CONTEXT_TAGS
        for key in ("estimator_name", "estimator_class", "mlflow.autologging"):
            assert ours["tags"][key] == theirs["tags"][key]
        assert ours["status"] == theirs["status"] == "FINISHED"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_artifacts_and_models_are_mlflows(
    recordings: tuple[Summary, Summary], scenario: str
) -> None:
    for theirs, ours in _pairs(recordings, scenario):
        assert ours["artifacts"] == theirs["artifacts"]
        assert not any(p.startswith(MODEL_DIRS) for p in ours["artifacts"])
        # Both log the models as MLflow 3's logged models, with the same files and params,
        # and the same metric values linked to them (training scores, post-training metrics,
        # the search's best score and its best candidates' results).
        assert ours["models"] == theirs["models"]
        assert ours["text"] == theirs["text"]  # metric_info.json


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_dataset_inputs_are_mlflows(recordings: tuple[Summary, Summary], scenario: str) -> None:
    for theirs, ours in _pairs(recordings, scenario):
        described = sorted((name, source, context) for name, _, source, context in ours["inputs"])
        assert described == sorted((n, s, c) for n, _, s, c in theirs["inputs"])


def test_search_children_share_the_parents_training_dataset(
    recordings: tuple[Summary, Summary],
) -> None:
    _, ours = recordings
    runs = ours["grid_search"]
    assert len({tuple(map(tuple, run["inputs"])) for run in runs}) == 1


def test_post_training_metrics_are_named_as_mlflow_names_them(
    recordings: tuple[Summary, Summary],
) -> None:
    _, ours = recordings
    (run,) = ours["post_training"]
    assert {
        "accuracy_score_X_test",
        "accuracy_score-2_X_test",
        "f1_score_X_test",
        "LogisticRegression_score_X_test",
        "LogisticRegression_score-2_X_train",
    } <= set(run["metrics"])
    info = run["text"]["metric_info.json"]
    assert info["accuracy_score-2_X_test"] == "accuracy_score(y_true=y_test, y_pred=y_pred)"
