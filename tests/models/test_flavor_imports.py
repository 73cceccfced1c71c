"""Importing a flavor package imports no ML framework (only saving or loading a model does)."""

from __future__ import annotations

import json
import subprocess
import sys

FRAMEWORKS = ("lightgbm", "onnx", "onnxruntime", "torch", "xgboost", "sklearn", "skops")


def test_flavor_packages_import_no_framework() -> None:
    probe = (
        "import sys, json\n"
        "import mltrail\n"
        "for name in ('lightgbm', 'onnx', 'pytorch', 'xgboost', 'sklearn', 'pyfunc'):\n"
        "    getattr(mltrail, name).load_model\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert {"mltrail.lightgbm", "mltrail.onnx", "mltrail.pytorch"} <= loaded
    assert sorted(m for m in loaded if m.split(".")[0] in FRAMEWORKS) == []
