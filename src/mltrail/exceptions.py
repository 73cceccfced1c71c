"""MLflow-compatible exception names (``mlflow.exceptions.MlflowException``)."""

from mltrail._exceptions import (
    AlreadyExists,
    InvalidArgument,
    MltrailError,
    NotFound,
    PermissionDenied,
)

MlflowException = MltrailError
RestException = MltrailError

__all__ = [
    "AlreadyExists",
    "InvalidArgument",
    "MlflowException",
    "MltrailError",
    "NotFound",
    "PermissionDenied",
    "RestException",
]
