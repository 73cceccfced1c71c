"""Error responses: MLflow's JSON error body with the status of our exception tree.

Every error leaves the server as ``{"error_code": ..., "message": ...}``.  Errors raised on
purpose (:class:`~mltrail.MltrailError` and its subclasses) carry their own code, status and
message; anything else is logged here with its traceback and answered with a bare
``INTERNAL_ERROR``, so no stack trace, SQL text or file path reaches a client.  A database
that cannot be reached (refused or lost connections, a database locked past the store's
retries) answers ``TEMPORARILY_UNAVAILABLE`` (503), which clients retry; any other database
error (a query the database refuses, such as SQLite's "Expression tree is too large") is the
request's doing or a bug, never unavailability, and answers 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mltrail._exceptions import MltrailError

__all__ = [
    "INTERNAL_MESSAGE",
    "error_body",
    "error_response",
    "http_exception_response",
    "json_response",
    "unexpected_error_response",
]

logger = logging.getLogger("mltrail.server")

INTERNAL_MESSAGE = "An internal error occurred on the server; the details are in its log."
_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    405: "ENDPOINT_NOT_FOUND",
    413: "BAD_REQUEST",
    429: "REQUEST_LIMIT_EXCEEDED",
    503: "TEMPORARILY_UNAVAILABLE",
}


def json_response(
    data: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(dumps(data), status_code, headers, media_type="application/json")


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON; values orjson refuses (integers past 64 bits, non-string keys)
    go through the standard encoder, which refuses NaN as before."""
    try:
        return orjson.dumps(data)
    except (orjson.JSONEncodeError, TypeError):
        text = json.dumps(data, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
        return text.encode("utf-8")


def error_body(error_code: str, message: str) -> dict[str, str]:
    return {"error_code": error_code, "message": message}


def error_response(exc: MltrailError) -> Response:
    status = exc.get_http_status_code()
    if exc.error_code == "INTERNAL_ERROR" and type(exc) is MltrailError:
        status = 500
    return json_response(exc.to_dict(), status)


# Signs of a database that cannot serve now, as opposed to one that refuses this query:
# PostgreSQL SQLSTATE classes (connection exception, insufficient resources, operator
# intervention, transaction rollback), MySQL/MariaDB error numbers (client-side connection
# errors are 2000-2999; too many connections, server shutdown, lock wait timeout, deadlock) and
# the words of SQLite's and the drivers' messages.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P", "40")
_UNAVAILABLE_MYSQL_ERRORS = frozenset({1040, 1053, 1205, 1213})
_UNAVAILABLE_WORDS = (
    "database is locked",
    "database table is locked",
    "database is busy",
    "unable to open database",
    "connection refused",
    "could not connect",
    "can't connect",
    "connection failed",
    "server closed the connection",
    "server has gone away",
    "lost connection",
    "too many connections",
    "deadlock",
    "lock wait timeout",
    "could not serialize",
)


def _is_database_unavailable(exc: BaseException) -> bool:
    try:
        from sqlalchemy.exc import DisconnectionError, OperationalError
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency
        return False
    if isinstance(exc, DisconnectionError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate:
        return sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return 2000 <= args[0] < 3000 or args[0] in _UNAVAILABLE_MYSQL_ERRORS
    text = str(orig).lower()
    return any(words in text for words in _UNAVAILABLE_WORDS)


def unexpected_error_response(request: Request, exc: BaseException) -> Response:
    """Log *exc* with its traceback; answer without any detail."""
    if _is_database_unavailable(exc):
        logger.warning("Database unavailable during %s %s: %s", request.method, request.url, exc)
        body = error_body(
            "TEMPORARILY_UNAVAILABLE", "The tracking database is unavailable; try again."
        )
        return json_response(body, 503)
    logger.error("Unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return json_response(error_body("INTERNAL_ERROR", INTERNAL_MESSAGE), 500)


def http_exception_response(request: Request, exc: HTTPException) -> Response:
    """Starlette's 404/405 (and others) as MLflow error bodies."""
    status = exc.status_code
    code = _HTTP_CODES.get(status, "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR")
    if status == 404:
        message = f"No endpoint {request.method} {request.url.path}"
    elif status == 405:
        message = f"Method {request.method} is not allowed for {request.url.path}"
    else:
        message = str(exc.detail)
    return json_response(error_body(code, message), status, dict(exc.headers or {}))
