"""The one exception tree of mltrail.

Every error mltrail raises on purpose derives from :class:`MltrailError`, which carries MLflow's
error code and the HTTP status the tracking server answers with.  The REST client maps an error
body back to the same class, so ``except NotFound`` behaves the same locally and remotely::

    MltrailError (INTERNAL_ERROR, 500)            also importable as MlflowException
    ├── InvalidArgument (INVALID_PARAMETER_VALUE, 400)
    │   └── BadRequest (BAD_REQUEST, 400)
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
    └── MissingDependency (INTERNAL_ERROR, 500): an optional package is not installed; the
        message names the extra to install.  Also an ``ImportError``.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "Aborted",
    "AlreadyExists",
    "BadRequest",
    "Conflict",
    "EndpointNotFound",
    "InvalidArgument",
    "MissingDependency",
    "MltrailError",
    "NotFound",
    "NotImplementedYet",
    "PermissionDenied",
    "RequestLimitExceeded",
    "SchemaOutOfDate",
    "TemporarilyUnavailable",
    "Unauthenticated",
    "error_class_for_code",
]


class MltrailError(Exception):
    """Base of every mltrail error: a message, MLflow's error code and an HTTP status."""

    error_code: ClassVar[str] = "INTERNAL_ERROR"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, error_code: str | None = None, **kwargs: Any) -> None:
        super().__init__(message)
        self.message = message
        if error_code is not None and error_code != type(self).error_code:
            # An explicit code (e.g. from a REST error body) is kept on the instance.
            self.error_code = error_code  # type: ignore[misc]
        self.json_kwargs = kwargs

    def get_http_status_code(self) -> int:
        """MLflow's name for the HTTP status of this error."""
        return self.http_status

    def serialize_as_json(self) -> str:
        import json

        return json.dumps(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The error body the server sends: ``{"error_code": ..., "message": ...}``."""
        return {"error_code": self.error_code, "message": self.message, **self.json_kwargs}


class InvalidArgument(MltrailError):
    """A request carried a value that breaks a rule; the message names the field and the rule."""

    error_code = "INVALID_PARAMETER_VALUE"
    http_status = 400


class BadRequest(InvalidArgument):
    error_code = "BAD_REQUEST"


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


def error_class_for_code(error_code: str) -> type[MltrailError]:
    """The exception class for an MLflow error code (``MltrailError`` for unknown codes)."""
    return _BY_CODE.get(error_code, MltrailError)
