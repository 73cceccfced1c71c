"""transformers autologging: while a ``Trainer`` trains, scikit-learn (and Lightning)
autologging is off, and, from transformers 5 on, the trainer reports its arguments and logs
to a run, as under MLflow's ``mlflow.transformers.autolog``.

The differential test runs ``transformers_scenarios.py`` under the real ``mlflow`` and under
``mltrail`` (one process each, concurrently) and compares every run each store holds.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from tests._differential import run_both

pytest.importorskip("mlflow")
pytest.importorskip("torch")
pytest.importorskip("sklearn")
transformers = pytest.importorskip("transformers")

import mltrail  # noqa: E402
import mltrail.transformers  # noqa: E402
from mltrail.tracking.autolog import autologging_is_disabled  # noqa: E402
from mltrail.tracking.autolog._config import suspended  # noqa: E402

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
SCENARIO = HERE / "transformers_scenarios.py"


def _record_both(folder: Path) -> dict[str, list[dict[str, Any]]]:
    return dict(run_both(SCENARIO, folder))


def test_trainer_runs_as_under_mlflow(tmp_path: Path) -> None:
    recorded = _record_both(tmp_path)
    theirs, ours = recorded["mlflow"], recorded["mltrail"]
    # The trainer's run, then the scikit-learn fit after training: the fits inside training
    # (one per epoch) started no runs.
    assert [r["autologging"] for r in ours] == [r["autologging"] for r in theirs]
    assert [r["autologging"] for r in ours] == [None, "sklearn"]
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine["status"] == reference["status"] == "FINISHED"
        assert mine["params"] == reference["params"]
        assert mine["metrics"] == reference["metrics"]  # keys and steps
    trainer_run = ours[0]
    assert trainer_run["params"]["model_type"] == "bert"  # the model's config
    assert trainer_run["params"]["num_train_epochs"] == "2"  # the training arguments
    assert trainer_run["metrics"]["loss"] == [2, 4, 6, 8]
    assert trainer_run["metrics"]["train_loss"] == [8]
    # MLflow turns scikit-learn autologging back on with its default options after training
    # (its log_models=False is lost, and the next fit logs a model); mltrail keeps them.
    assert theirs[1]["models"] == 1
    assert ours[1]["models"] == 0


def test_suspended_integrations_keep_their_configuration(sqlite_uri: str) -> None:
    mltrail.set_tracking_uri(sqlite_uri)
    mltrail.sklearn.autolog(log_models=False)
    try:
        with suspended(["sklearn", "pytorch"]):
            assert autologging_is_disabled("sklearn")
            with suspended(["xgboost"]):
                assert autologging_is_disabled("sklearn")
        assert not autologging_is_disabled("sklearn")
        assert mltrail.tracking.autolog.get_autologging_config("sklearn", "log_models") is False
    finally:
        mltrail.sklearn.autolog(disable=True)


def test_autolog_patches_and_disable_restores_train() -> None:
    originals = {c: inspect.getattr_static(c, "train") for c in (transformers.Trainer,)}
    mltrail.transformers.autolog()
    try:
        assert not autologging_is_disabled("transformers")
        for cls, original in originals.items():
            assert inspect.getattr_static(cls, "train") is not original
        assert "train" in vars(transformers.Seq2SeqTrainer)  # patched on the subclass too
    finally:
        mltrail.transformers.autolog(disable=True)
    for cls, original in originals.items():
        assert inspect.getattr_static(cls, "train") is original
    assert "train" not in vars(transformers.Seq2SeqTrainer)
