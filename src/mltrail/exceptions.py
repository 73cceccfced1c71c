"""mltrail's exception tree (see :mod:`mltrail._exceptions`) under MLflow's module name
(``mlflow.exceptions.MlflowException``), with MLflow's error code numbers
(``MlflowException(message, error_code=INVALID_PARAMETER_VALUE)``), their HTTP statuses and
MLflow's other classic exception classes.  (Tracing's exceptions are not here: mltrail has no
tracing.)"""

from mltrail._error_codes import (
    CODES,
    ERROR_CODE_TO_HTTP_STATUS,
    HTTP_STATUS_TO_ERROR_CODE,
    ErrorCode,
    get_error_code,
)
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


class MlflowNotImplementedException(NotImplementedYet):
    """MLflow's name for an operation that is not implemented (NOT_IMPLEMENTED, 501)."""


class InvalidUrlException(MltrailError):
    """A URL that is not valid (INTERNAL_ERROR, 500, as MLflow's)."""


class MissingConfigException(MltrailError):
    """A configuration file or value that is needed is missing (INTERNAL_ERROR, 500)."""


# MLflow's error code numbers, by name (``mlflow.exceptions.INVALID_PARAMETER_VALUE`` is 1000).
INTERNAL_ERROR = CODES["INTERNAL_ERROR"]
TEMPORARILY_UNAVAILABLE = CODES["TEMPORARILY_UNAVAILABLE"]
BAD_REQUEST = CODES["BAD_REQUEST"]
DEADLINE_EXCEEDED = CODES["DEADLINE_EXCEEDED"]
CANCELLED = CODES["CANCELLED"]
RESOURCE_EXHAUSTED = CODES["RESOURCE_EXHAUSTED"]
ABORTED = CODES["ABORTED"]
NOT_FOUND = CODES["NOT_FOUND"]
ALREADY_EXISTS = CODES["ALREADY_EXISTS"]
UNAUTHENTICATED = CODES["UNAUTHENTICATED"]
INVALID_PARAMETER_VALUE = CODES["INVALID_PARAMETER_VALUE"]
ENDPOINT_NOT_FOUND = CODES["ENDPOINT_NOT_FOUND"]
INVALID_STATE = CODES["INVALID_STATE"]
PERMISSION_DENIED = CODES["PERMISSION_DENIED"]
CUSTOMER_UNAUTHORIZED = CODES["CUSTOMER_UNAUTHORIZED"]
REQUEST_LIMIT_EXCEEDED = CODES["REQUEST_LIMIT_EXCEEDED"]
RESOURCE_CONFLICT = CODES["RESOURCE_CONFLICT"]
NOT_IMPLEMENTED = CODES["NOT_IMPLEMENTED"]
DATA_LOSS = CODES["DATA_LOSS"]
RESOURCE_ALREADY_EXISTS = CODES["RESOURCE_ALREADY_EXISTS"]
RESOURCE_DOES_NOT_EXIST = CODES["RESOURCE_DOES_NOT_EXIST"]

__all__ = [
    "ABORTED",
    "ALREADY_EXISTS",
    "BAD_REQUEST",
    "CANCELLED",
    "CUSTOMER_UNAUTHORIZED",
    "DATA_LOSS",
    "DEADLINE_EXCEEDED",
    "ENDPOINT_NOT_FOUND",
    "ERROR_CODE_TO_HTTP_STATUS",
    "HTTP_STATUS_TO_ERROR_CODE",
    "INTERNAL_ERROR",
    "INVALID_PARAMETER_VALUE",
    "INVALID_STATE",
    "NOT_FOUND",
    "NOT_IMPLEMENTED",
    "PERMISSION_DENIED",
    "REQUEST_LIMIT_EXCEEDED",
    "RESOURCE_ALREADY_EXISTS",
    "RESOURCE_CONFLICT",
    "RESOURCE_DOES_NOT_EXIST",
    "RESOURCE_EXHAUSTED",
    "TEMPORARILY_UNAVAILABLE",
    "UNAUTHENTICATED",
    "Aborted",
    "AlreadyExists",
    "BadRequest",
    "Conflict",
    "EndpointNotFound",
    "ErrorCode",
    "ExecutionException",
    "InvalidArgument",
    "InvalidUrlException",
    "MissingConfigException",
    "MissingDependency",
    "MlflowException",
    "MlflowNotImplementedException",
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
    "get_error_code",
]
