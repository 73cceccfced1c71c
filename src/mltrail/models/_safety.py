"""The setting that refuses pickle-based models, and private working directories.

``MLTRAIL_ALLOW_PICKLE=false`` makes every loader refuse a model whose files are read with
pickle or cloudpickle (sklearn's pickle formats, python_function models, whole PyTorch modules):
loading such a file runs code chosen by whoever wrote it.  skops files holding only standard
scikit-learn, numpy and scipy types, XGBoost, LightGBM and CatBoost native files, ONNX graphs,
PyTorch state dicts (read with ``weights_only=True``), Keras ``.keras`` files (read in Keras'
safe mode; ``safe_mode=False`` is refused unless it is allowed) and transformers models in
safetensors never need it (transformers weights in ``pytorch_model.bin`` do).
"""

from __future__ import annotations

import os

from mltrail._exceptions import PermissionDenied

__all__ = ["ALLOW_PICKLE_VARIABLE", "check_pickle_allowed", "pickle_allowed"]

ALLOW_PICKLE_VARIABLE = "MLTRAIL_ALLOW_PICKLE"


def pickle_allowed() -> bool:
    """False when ``MLTRAIL_ALLOW_PICKLE`` is set to false, 0, no or off."""
    value = os.environ.get(ALLOW_PICKLE_VARIABLE, "true").strip().lower()
    return value not in ("false", "0", "no", "off")


def check_pickle_allowed(what: str) -> None:
    """PermissionDenied when pickle-based models are refused; *what* names the file."""
    if not pickle_allowed():
        raise PermissionDenied(
            f"Refusing to load {what}: it is read with pickle, which can run arbitrary code, "
            f"and {ALLOW_PICKLE_VARIABLE} is false. Load it only if you trust its source "
            f"(set {ALLOW_PICKLE_VARIABLE}=true), or save the model in a safe format."
        )
