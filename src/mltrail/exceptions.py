"""MLflow-compatible exception names (``mlflow.exceptions.MlflowException``)."""

from mltrail._exceptions import (
    AlreadyExists,
    InvalidArgument,
    MissingDependency,
    MltrailError,
    NotFound,
    PermissionDenied,
)

MlflowException = MltrailError
RestException = MltrailError

__all__ = [
    "AlreadyExists",
    "InvalidArgument",
    "MissingDependency",
    "MlflowException",
    "MltrailError",
    "NotFound",
    "PermissionDenied",
    "RestException",
]
