"""Optional dependencies: the one seam where a missing package becomes a one-line error.

Every optional package mltrail imports goes through :func:`require` (or, where a third party
imports it for us, such as SQLAlchemy loading a database driver, through
:func:`missing_dependency`).  A missing package raises :class:`~mltrail.MissingDependency`
whose message names what needs it and the extra that installs it::

    PostgreSQL support needs psycopg: pip install 'mltrail[postgres]'

The command line prints that line and exits 1.  A package that is installed but fails to
import for another reason (a broken build, an ABI mismatch) keeps its own error.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import NamedTuple

from mltrail._exceptions import MissingDependency

__all__ = ["OPTIONAL", "OptionalPackage", "missing_dependency", "require"]


class OptionalPackage(NamedTuple):
    """An optional package: its pip name, what needs it, and the mltrail extra installing it."""

    package: str
    purpose: str
    extra: str


# Top-level import name -> the package, the feature needing it and its extra (pyproject.toml).
OPTIONAL: dict[str, OptionalPackage] = {
    "psycopg": OptionalPackage("psycopg", "PostgreSQL support", "postgres"),
    "pymysql": OptionalPackage("pymysql", "MySQL and MariaDB support", "mysql"),
    "boto3": OptionalPackage("boto3", "S3 artifact storage", "s3"),
    "botocore": OptionalPackage("boto3", "S3 artifact storage", "s3"),
    "psutil": OptionalPackage("psutil", "System metrics", "system-metrics"),
    "PIL": OptionalPackage("pillow", "Images", "plots"),
    "matplotlib": OptionalPackage("matplotlib", "Matplotlib figures", "plots"),
    "plotly": OptionalPackage("plotly", "Plotly figures", "plots"),
    "shap": OptionalPackage("shap", "Model explainability (SHAP)", "shap"),
    "sklearn": OptionalPackage("scikit-learn", "The scikit-learn flavor", "sklearn"),
    "skops": OptionalPackage("skops", "The scikit-learn flavor's skops format", "sklearn"),
    "xgboost": OptionalPackage("xgboost", "The XGBoost flavor", "xgboost"),
    "statsmodels": OptionalPackage("statsmodels", "The statsmodels flavor", "statsmodels"),
    "lightgbm": OptionalPackage("lightgbm", "The LightGBM flavor", "lightgbm"),
    "catboost": OptionalPackage("catboost", "The CatBoost flavor", "catboost"),
    "keras": OptionalPackage("keras", "The Keras flavor", "keras"),
    "onnx": OptionalPackage("onnx", "The ONNX flavor", "onnx"),
    "onnxruntime": OptionalPackage("onnxruntime", "ONNX models' predictions", "onnx"),
    "torch": OptionalPackage("torch", "The PyTorch flavor", "pytorch"),
    "transformers": OptionalPackage("transformers", "The transformers flavor", "transformers"),
    "datasets": OptionalPackage("datasets", "Hugging Face datasets", "huggingface"),
    "peft": OptionalPackage("peft", "PEFT adapters of transformers models", "peft"),
    "lightning": OptionalPackage("lightning", "PyTorch Lightning autologging", "lightning"),
    "pyarrow": OptionalPackage("pyarrow", "Parquet input", "serving"),
    "tensorboard": OptionalPackage("tensorboard", "Importing TensorBoard logs", "tensorboard"),
    "uv": OptionalPackage("uv", "The uv environment manager", "serving"),
    "virtualenv": OptionalPackage("virtualenv", "The virtualenv environment manager", "serving"),
    "argon2": OptionalPackage("argon2-cffi", "Authentication (--app-name basic-auth)", "auth"),
}


def require(module: str) -> ModuleType:
    """Import *module* (one of :data:`OPTIONAL`'s packages, or a submodule of one).

    Raises :class:`~mltrail.MissingDependency` when it (or a package it needs) is missing.
    """
    found = sys.modules.get(module)
    if found is not None:
        return found
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise missing_dependency(exc, module) from None


def missing_dependency(exc: ModuleNotFoundError, wanted: str | None = None) -> MissingDependency:
    """The one-line error for a failed import of an optional package.

    *wanted* is the module that was being imported; without it, the missing module itself
    (``exc.name``) must be one of :data:`OPTIONAL`'s, else *exc* is raised as it is.
    """
    missing = (exc.name or "").partition(".")[0]
    entry = OPTIONAL.get(missing) or OPTIONAL.get((wanted or "").partition(".")[0])
    if entry is None:
        raise exc
    message = f"{entry.purpose} needs {entry.package}: pip install 'mltrail[{entry.extra}]'"
    if missing and missing not in OPTIONAL:
        message += f" (its dependency {missing} is missing)"
    error = MissingDependency(message)
    error.name = entry.package
    return error
