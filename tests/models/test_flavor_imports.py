"""Importing a flavor package imports no ML framework (only saving or loading a model does)."""

from __future__ import annotations

import json
import subprocess
import sys

FRAMEWORKS = (
    "catboost",
    "keras",
    "lightgbm",
    "onnx",
    "onnxruntime",
    "torch",
    "xgboost",
    "sklearn",
    "skops",
    "statsmodels",
    "transformers",
    "tokenizers",
    "safetensors",
    "huggingface_hub",
    "shap",
    "matplotlib",
)


def test_flavor_packages_import_no_framework() -> None:
    probe = (
        "import sys, json\n"
        "import mltrail\n"
        "for name in ('catboost', 'keras', 'lightgbm', 'onnx', 'pytorch', 'xgboost', 'sklearn',"
        "'statsmodels', 'transformers', 'pyfunc', 'shap'):\n"
        "    getattr(mltrail, name).load_explainer if name == 'shap' else "
        "getattr(mltrail, name).load_model\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    flavors = (
        "catboost",
        "keras",
        "lightgbm",
        "onnx",
        "pytorch",
        "shap",
        "statsmodels",
        "transformers",
    )
    assert {f"mltrail.{name}" for name in flavors} <= loaded
    assert sorted(m for m in loaded if m.split(".")[0] in FRAMEWORKS) == []


def test_flavor_packages_load_no_save_or_uri_machinery() -> None:
    """What saving a model (requirement pinning, the probe) or resolving a runs:/ or models:/
    URI (the registry, the S3 and HTTP repositories) needs loads when it is done."""
    probe = (
        "import sys, json\n"
        "import mltrail.lightgbm, mltrail.onnx, mltrail.pytorch, mltrail.pyfunc\n"
        "import mltrail.sklearn, mltrail.xgboost, mltrail.statsmodels, mltrail.catboost\n"
        "import mltrail.keras\n"
        "import mltrail.transformers, mltrail.shap\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    later = {
        "importlib.metadata",
        "subprocess",
        "mltrail.models._env",
        "mltrail.registry",
        "mltrail.tracking._model_uris",
        "mltrail.artifacts.s3",
        "mltrail.artifacts.http",
    }
    assert sorted(loaded & later) == []


def test_the_tracking_layer_serves_the_models_layer() -> None:
    from mltrail._model_tracking import model_tracking
    from mltrail.tracking._for_models import TrackingForModels

    assert isinstance(model_tracking(), TrackingForModels)
