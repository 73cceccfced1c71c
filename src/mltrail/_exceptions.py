"""The one exception tree of mltrail.

Every error mltrail raises on purpose derives from :class:`MltrailError`, which carries MLflow's
error code and the HTTP status the tracking server answers with.  The REST client maps an error
body back to the same class, so ``except NotFound`` behaves the same locally and remotely::

    MltrailError (INTERNAL_ERROR, 500)            also importable as MlflowException
    ├── InvalidArgument (INVALID_PARAMETER_VALUE, 400)
    │   └── BadRequest (BAD_REQUEST, 400)
    │       ├── ModelValidationFailedException (BAD_REQUEST, 400): an evaluation result
    │       │   missed its thresholds (``validate_evaluation_results``; MLflow's name)
    │       ├── PayloadTooLarge (BAD_REQUEST, 413): a body over the server's limit
    │       └── UnsupportedMediaType (BAD_REQUEST, 415): a content type the server does not read
    ├── AlreadyExists (RESOURCE_ALREADY_EXISTS, 400)
    ├── NotFound (RESOURCE_DOES_NOT_EXIST, 404)
    │   └── EndpointNotFound (ENDPOINT_NOT_FOUND, 404)
    ├── Unauthenticated (UNAUTHENTICATED, 401)
    ├── PermissionDenied (PERMISSION_DENIED, 403)
    ├── Conflict (RESOURCE_CONFLICT, 409)
    │   └── Aborted (ABORTED, 409)
    ├── RequestLimitExceeded (REQUEST_LIMIT_EXCEEDED, 429)
    ├── NotImplementedYet (NOT_IMPLEMENTED, 501)
    ├── TemporarilyUnavailable (TEMPORARILY_UNAVAILABLE, 503)
    ├── SchemaOutOfDate (INTERNAL_ERROR, 500): the database needs ``mltrail db upgrade``
    ├── ExecutionException (INTERNAL_ERROR, 500): a project's run failed (MLflow's name)
    └── MissingDependency (INTERNAL_ERROR, 500): an optional package is not installed; the
        message names the extra to install.  Also an ``ImportError``.

Details travel as fields, not inside the prose: an error may carry a ``details`` mapping (a
filter error's ``position``), sent as the ``details`` field of the error body beside MLflow's
``error_code`` and ``message``, and rebuilt by the REST client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mltrail._error_codes import ERROR_CODE_TO_HTTP_STATUS, code_name

__all__ = [
    "Aborted",
    "AlreadyExists",
    "BadRequest",
    "Conflict",
    "EndpointNotFound",
    "ExecutionException",
    "InvalidArgument",
    "MissingDependency",
    "MltrailError",
    "ModelValidationFailedException",
    "NotFound",
    "NotImplementedYet",
    "PayloadTooLarge",
    "PermissionDenied",
    "RequestLimitExceeded",
    "SchemaOutOfDate",
    "TemporarilyUnavailable",
    "Unauthenticated",
    "UnsupportedMediaType",
    "error_class_for_code",
]


class MltrailError(Exception):
    """Base of every mltrail error: a message, MLflow's error code and an HTTP status.

    *details* are facts about the error that a program reads (``{"position": 17}`` for a
    filter error); they are sent as the ``details`` field of the error body.
    """

    error_code: ClassVar[str] = "INTERNAL_ERROR"
    http_status: ClassVar[int] = 500

    def __init__(
        self,
        message: str,
        error_code: str | int | None = None,
        sqlstate: str | None = None,
        error_class: str | None = None,
        *,
        details: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        message = str(message)
        # MLflow's optional SQL state and error class names (Databricks' error taxonomy):
        # kept for callers that set or read them; the error body carries error_code only.
        self.sqlstate = sqlstate
        self.error_class = error_class
        super().__init__(message)
        self.message = message
        if error_code is not None:
            name = code_name(error_code)  # MLflow's code numbers are taken too
            if name != type(self).error_code:
                # An explicit code (e.g. from a REST error body) is kept on the instance.
                self.error_code = name  # type: ignore[misc]
        self.details: dict[str, Any] = dict(details or {})
        self.json_kwargs = kwargs

    @classmethod
    def invalid_parameter_value(
        cls,
        message: str,
        sqlstate: str | None = None,
        error_class: str | None = None,
        **kwargs: Any,
    ) -> MltrailError:
        """MLflow's shorthand for an INVALID_PARAMETER_VALUE error."""
        return cls(message, "INVALID_PARAMETER_VALUE", sqlstate, error_class, **kwargs)

    def get_http_status_code(self) -> int:
        """MLflow's name for the HTTP status of this error (a code set on the instance has
        that code's status)."""
        if "http_status" in vars(self) or self.error_code == type(self).error_code:
            return self.http_status
        return ERROR_CODE_TO_HTTP_STATUS.get(self.error_code, 500)

    def serialize_as_json(self) -> str:
        import json

        return json.dumps(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The error body the server sends: ``{"error_code": ..., "message": ...}``, with
        ``"details"`` when the error carries any."""
        body = {"error_code": self.error_code, "message": self.message, **self.json_kwargs}
        if self.details:
            body["details"] = self.details
        return body


class InvalidArgument(MltrailError):
    """A request carried a value that breaks a rule; the message names the field and the rule."""

    error_code = "INVALID_PARAMETER_VALUE"
    http_status = 400


class BadRequest(InvalidArgument):
    error_code = "BAD_REQUEST"


class ModelValidationFailedException(BadRequest):
    """An evaluation result missed one or more metric thresholds; the message lists each
    failed check (``mlflow.models.evaluation.validation.ModelValidationFailedException``)."""


class PayloadTooLarge(BadRequest):
    """The request body is larger than the server's limit."""

    http_status = 413


class UnsupportedMediaType(BadRequest):
    """The request's content type (or one of its parameters) is not one the server reads."""

    http_status = 415


class AlreadyExists(MltrailError):
    error_code = "RESOURCE_ALREADY_EXISTS"
    http_status = 400


class NotFound(MltrailError):
    error_code = "RESOURCE_DOES_NOT_EXIST"
    http_status = 404


class EndpointNotFound(NotFound):
    error_code = "ENDPOINT_NOT_FOUND"


class Unauthenticated(MltrailError):
    error_code = "UNAUTHENTICATED"
    http_status = 401


class PermissionDenied(MltrailError):
    error_code = "PERMISSION_DENIED"
    http_status = 403


class Conflict(MltrailError):
    error_code = "RESOURCE_CONFLICT"
    http_status = 409


class Aborted(Conflict):
    error_code = "ABORTED"


class RequestLimitExceeded(MltrailError):
    error_code = "REQUEST_LIMIT_EXCEEDED"
    http_status = 429


class NotImplementedYet(MltrailError):
    error_code = "NOT_IMPLEMENTED"
    http_status = 501


class TemporarilyUnavailable(MltrailError):
    error_code = "TEMPORARILY_UNAVAILABLE"
    http_status = 503


class SchemaOutOfDate(MltrailError):
    """The database schema is older than this mltrail; ``mltrail db upgrade`` fixes it."""


class ExecutionException(MltrailError):
    """A project's run failed: its command exited with an error, or it could not start
    (``mlflow.exceptions.ExecutionException``)."""


class MissingDependency(MltrailError, ImportError):
    """An optional package a feature needs is not installed (see ``mltrail._optional``).

    The message is one line naming the package and the extra: ``PostgreSQL support needs
    psycopg: pip install 'mltrail[postgres]'``.  It is an ``ImportError`` too, so code that
    catches a failed import keeps working.
    """


_BY_CODE: dict[str, type[MltrailError]] = {
    cls.error_code: cls
    for cls in (
        InvalidArgument,
        BadRequest,
        AlreadyExists,
        NotFound,
        EndpointNotFound,
        Unauthenticated,
        PermissionDenied,
        Conflict,
        Aborted,
        RequestLimitExceeded,
        NotImplementedYet,
        TemporarilyUnavailable,
    )
}


_BY_STATUS: dict[tuple[str, int], type[MltrailError]] = {
    (cls.error_code, cls.http_status): cls for cls in (PayloadTooLarge, UnsupportedMediaType)
}


def error_class_for_code(error_code: str, http_status: int | None = None) -> type[MltrailError]:
    """The exception class for an MLflow error code (``MltrailError`` for unknown codes).

    *http_status* tells apart the classes that share a code (``BAD_REQUEST`` with 413 is
    :class:`PayloadTooLarge`).
    """
    if http_status is not None:
        cls = _BY_STATUS.get((error_code, http_status))
        if cls is not None:
            return cls
    return _BY_CODE.get(error_code, MltrailError)
