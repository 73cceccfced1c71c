"""``evaluate(..., env_manager="uv" | "virtualenv")``: the model predicts in the environment it
was logged with, built (or reused) under ``MLTRAIL_ENV_ROOT``, and the record is the one a
local evaluation of the same model makes, less what a served model cannot give (SHAP)."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mltrail
from mltrail._envs import EnvironmentManager, default_env_root
from mltrail.exceptions import InvalidArgument, MltrailError
from mltrail.models._env import pinned

# A model whose code travels with it (code_paths): predicts 1 where a > its configured threshold.
MODEL_CODE = """
from mltrail.pyfunc import PythonModel


class ThresholdModel(PythonModel):
    def load_context(self, context):
        self.threshold = float(context.model_config.get("threshold", 0.0))

    def predict(self, context, model_input, params=None):
        return (model_input["a"] > self.threshold).astype(int)
"""


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own temporary folder, where evaluate copies the model's files."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def logged(sqlite_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The threshold model's URI, logged with only what it needs as requirements (the
    serving tests' model asks for the same, so the two share one cached environment)."""
    mltrail.set_tracking_uri(sqlite_uri)
    code = tmp_path / "threshold_model.py"
    code.write_text(MODEL_CODE)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__("threshold_model")
    with mltrail.start_run():
        info = mltrail.pyfunc.log_model(
            name="model",
            python_model=module.ThresholdModel(),
            code_paths=[str(code)],
            pip_requirements=[pinned("cloudpickle"), pinned("pandas"), pinned("numpy")],
        )
    monkeypatch.delitem(sys.modules, "threshold_model")
    root = Path(os.environ.get("MLTRAIL_TEST_ENV_ROOT") or default_env_root().parent / "test-envs")
    root.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("MLTRAIL_ENV_ROOT", str(root))
    return str(info.model_uri)


def _frame() -> pd.DataFrame:
    x = np.random.default_rng(5).normal(size=(80, 2))
    return pd.DataFrame(x, columns=["a", "b"]).assign(y=(x[:, 0] + x[:, 1] > 0.3).astype(int))


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_the_model_predicts_in_its_own_environment(
    logged: str, private_tmp: Path, caplog: pytest.LogCaptureFixture
) -> None:
    EnvironmentManager.uv_binary()  # uv is a dev dependency: its absence fails the test
    frame = _frame()
    config = {"threshold": 0.25}
    with caplog.at_level(logging.WARNING, logger="mltrail"), mltrail.start_run() as served_run:
        served = mltrail.evaluate(
            logged,
            frame,
            targets="y",
            model_type="classifier",
            env_manager="uv",
            model_config=config,
        )
    with mltrail.start_run():
        local = mltrail.evaluate(
            logged,
            frame,
            targets="y",
            model_type="classifier",
            model_config=config,
            evaluator_config={"log_model_explainability": False},
        )
    assert served.metrics == pytest.approx(local.metrics)
    expected = ((frame["a"] > 0.25) == frame["y"]).mean()
    assert served.metrics["accuracy_score"] == pytest.approx(expected)
    assert list(served.artifacts) == list(local.artifacts)
    notes = [r.getMessage() for r in caplog.records if "explainability" in r.getMessage()]
    assert len(notes) == 1
    assert "predicts in its own environment" in notes[0]
    recorded = mltrail.get_run(served_run.info.run_id)
    assert recorded.data.metrics == pytest.approx(served.metrics)
    # The environment is a cached uv environment under MLTRAIL_ENV_ROOT, not this Python.
    root = Path(os.environ["MLTRAIL_ENV_ROOT"])
    assert [p for p in root.iterdir() if p.name.startswith("uv-") and p.is_dir()]
    del served, local
    # The served model's private copy of the files is gone (the local load keeps its own).
    assert [p.name for p in private_tmp.iterdir() if p.name.startswith("mltrail-served-")] == []


def test_a_model_object_needs_a_uri_for_a_non_local_environment(sqlite_uri: str) -> None:
    mltrail.set_tracking_uri(sqlite_uri)
    for model in (lambda df: df["a"] > 0, None):
        with pytest.raises(InvalidArgument, match="must be a string URI referring to a model"):
            mltrail.evaluate(
                model, _frame(), targets="y", model_type="classifier", env_manager="virtualenv"
            )
    with pytest.raises(InvalidArgument, match="Invalid env_manager 'pip': must be one of"):
        mltrail.evaluate(
            "runs:/x/model", _frame(), targets="y", model_type="classifier", env_manager="pip"
        )
    assert mltrail.search_runs(search_all_experiments=True).empty


def test_a_missing_model_is_named_and_leaves_nothing(sqlite_uri: str, private_tmp: Path) -> None:
    mltrail.set_tracking_uri(sqlite_uri)
    with pytest.raises(MltrailError, match="0123456789abcdef"):
        mltrail.evaluate(
            "runs:/0123456789abcdef/model",
            _frame(),
            targets="y",
            model_type="classifier",
            env_manager="uv",
        )
    assert mltrail.search_runs(search_all_experiments=True).empty
    assert list(private_tmp.iterdir()) == []
