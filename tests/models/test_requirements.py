"""What ``requirements.txt`` pins: what the saved model needs to load, found in a subprocess.

Every flavor's model is loaded by ``python -m mltrail.models._probe`` and only what the loader
(or the model's own code) imported is pinned, exactly, beside numpy and pandas; what libraries
import for themselves (scikit-learn's rich progress bars, joblib's psutil, ...) is left out.
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mltrail.pyfunc
from mltrail.models._env import infer_requirements, probed_modules
from mltrail.models._probe import ROOT

SPURIOUS = {"torch", "pytest", "rich", "psutil", "joblib", "threadpoolctl", "narwhals", "mlflow"}


def _pin(dist: str) -> str:
    return f"{dist}=={version(dist).split('+', 1)[0]}"


def _requirements(model_dir: Path) -> list[str]:
    return (model_dir / "requirements.txt").read_text().splitlines()


def _names(requirements: list[str]) -> set[str]:
    return {r.split("==", 1)[0].lower() for r in requirements}


def _frame() -> tuple[pd.DataFrame, Any]:
    x = pd.DataFrame(np.random.default_rng(0).random((40, 3)), columns=["a", "b", "c"])
    return x, (x["a"] > 0.5).astype(int)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("skops", {"numpy", "pandas", "scikit-learn", "skops"}),
        ("pickle", {"numpy", "pandas", "scikit-learn"}),
        ("cloudpickle", {"numpy", "pandas", "scikit-learn", "cloudpickle"}),
    ],
)
def test_sklearn_pins_exactly_what_the_model_needs(
    tmp_path: Path, fmt: str, expected: set[str]
) -> None:
    from sklearn.ensemble import RandomForestClassifier

    x, y = _frame()
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(x, y)
    mltrail.sklearn.save_model(model, tmp_path / "m", serialization_format=fmt)
    requirements = _requirements(tmp_path / "m")
    assert _names(requirements) == expected
    assert set(requirements) == {_pin(d) for d in expected}
    assert not _names(requirements) & SPURIOUS


class _Doubler(mltrail.pyfunc.PythonModel):
    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input * 2


def test_python_model_pins_mltrail_and_cloudpickle(tmp_path: Path) -> None:
    # A lambda is pickled by value: the probe's interpreter can load it (this test module is
    # not importable there, so a class defined here would make the probe fall back).
    mltrail.pyfunc.save_model(tmp_path / "m", python_model=lambda df: df * 2)
    requirements = _requirements(tmp_path / "m")
    assert set(requirements) == {_pin(d) for d in ("numpy", "pandas", "cloudpickle", "mltrail")}


def test_imports_of_the_models_own_code_are_pinned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "src"
    code.mkdir()
    (code / "scaled_model.py").write_text(
        "import scipy.special\n"
        "import mltrail.pyfunc\n\n"
        "class Scaled(mltrail.pyfunc.PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return scipy.special.expit(model_input)\n"
    )
    monkeypatch.syspath_prepend(str(code))
    import scaled_model  # type: ignore[import-not-found]

    try:
        mltrail.pyfunc.save_model(
            tmp_path / "m",
            python_model=scaled_model.Scaled(),
            code_paths=[str(code / "scaled_model.py")],
        )
    finally:
        sys.modules.pop("scaled_model", None)
    requirements = _requirements(tmp_path / "m")
    assert _pin("scipy") in requirements
    assert not _names(requirements) & SPURIOUS


def test_xgboost_sklearn_api_pins_scikit_learn(tmp_path: Path) -> None:
    xgb = pytest.importorskip("xgboost")
    x, y = _frame()
    mltrail.xgboost.save_model(xgb.XGBClassifier(n_estimators=2).fit(x, y), tmp_path / "m")
    requirements = _requirements(tmp_path / "m")
    assert {_pin("xgboost"), _pin("numpy"), _pin("pandas"), _pin("scikit-learn")} <= set(
        requirements
    )
    assert not _names(requirements) & SPURIOUS


def test_probe_failure_falls_back_to_the_flavors_list_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "MLmodel").write_text("flavors: {}\n")  # nothing to load
    with caplog.at_level(logging.WARNING, logger="mltrail.models._env"):
        assert infer_requirements(str(tmp_path), ["scikit-learn==1.0"]) == ["scikit-learn==1.0"]
    assert "failed" in caplog.text


def test_probe_timeout_falls_back_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    mltrail.pyfunc.save_model(tmp_path / "m", python_model=_Doubler())
    monkeypatch.setenv("MLTRAIL_REQUIREMENTS_INFERENCE_TIMEOUT", "0.001")
    with caplog.at_level(logging.WARNING, logger="mltrail.models._env"):
        assert infer_requirements(str(tmp_path / "m"), ["x==1"]) == ["x==1"]
    assert "timed out" in caplog.text


def test_only_imports_by_the_loader_count() -> None:
    edges = [[ROOT, "sklearn"], ["sklearn", "rich"], ["joblib", "psutil"], [ROOT, "skops"]]
    assert probed_modules(edges) == {"sklearn", "skops", "numpy", "pandas"}
