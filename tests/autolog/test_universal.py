"""``mltrail.autolog()``: every installed framework, those imported after the call included;
a flavor's own ``autolog`` configuration wins; ``exclude_flavors`` leaves one alone."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import mltrail as mlflow

    mlflow.set_tracking_uri(sys.argv[1])
    mlflow.sklearn.autolog(log_models=False)  # the flavor's own configuration
    mlflow.autolog(exclude_flavors=sys.argv[2].split(",") if sys.argv[2] else None)
    assert "sklearn" not in sys.modules and "xgboost" not in sys.modules

    import numpy as np
    import xgboost as xgb
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    LogisticRegression().fit(X, y)
    xgb.train({"objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(X, label=y), 3)

    client = mlflow.MlflowClient()
    runs = client.search_runs(["0"])
    print(json.dumps({
        run.data.tags.get("mlflow.autologging", "-"): sorted(
            [a.path for a in client.list_artifacts(run.info.run_id)]
            + [client.get_logged_model(o.model_id).name for o in run.outputs.model_outputs]
        )
        for run in runs
    }))
    """
)


def _record(tmp_path: Path, exclude: str) -> dict[str, list[str]]:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script), f"sqlite:///{tmp_path / 'mltrail.db'}", exclude],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    recorded: dict[str, list[str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return recorded


def test_frameworks_imported_after_autolog_are_autologged(tmp_path: Path) -> None:
    runs = _record(tmp_path, "")
    assert set(runs) == {"sklearn", "xgboost"}
    # scikit-learn kept its own log_models=False; XGBoost took mltrail.autolog's defaults
    assert "model" not in runs["sklearn"]
    assert "training_confusion_matrix.png" in runs["sklearn"]
    assert {"model", "feature_importance_weight.json"} <= set(runs["xgboost"])


def test_an_excluded_flavor_is_left_alone(tmp_path: Path) -> None:
    runs = _record(tmp_path, "xgboost")
    assert set(runs) == {"sklearn"}
