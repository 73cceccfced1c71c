"""mltrail's exception tree (see :mod:`mltrail._exceptions`) under MLflow's module name
(``mlflow.exceptions.MlflowException``)."""

from mltrail._exceptions import (
    Aborted,
    AlreadyExists,
    BadRequest,
    Conflict,
    EndpointNotFound,
    ExecutionException,
    InvalidArgument,
    MissingDependency,
    MltrailError,
    ModelValidationFailedException,
    NotFound,
    NotImplementedYet,
    PayloadTooLarge,
    PermissionDenied,
    RequestLimitExceeded,
    SchemaOutOfDate,
    TemporarilyUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
)

MlflowException = MltrailError
RestException = MltrailError

__all__ = [
    "Aborted",
    "AlreadyExists",
    "BadRequest",
    "Conflict",
    "EndpointNotFound",
    "ExecutionException",
    "InvalidArgument",
    "MissingDependency",
    "MlflowException",
    "MltrailError",
    "ModelValidationFailedException",
    "NotFound",
    "NotImplementedYet",
    "PayloadTooLarge",
    "PermissionDenied",
    "RequestLimitExceeded",
    "RestException",
    "SchemaOutOfDate",
    "TemporarilyUnavailable",
    "Unauthenticated",
    "UnsupportedMediaType",
]
