"""HTTP error responses turned back into mltrail's exception classes.

A tracking server answers an error with ``{"error_code": ..., "message": ...}``; the code picks
the class (``RESOURCE_DOES_NOT_EXIST`` -> :class:`~mltrail.exceptions.NotFound`, ...), so
``except NotFound`` works the same on a local store and over HTTP; the body's ``details`` (a
filter error's position) become the exception's ``details``.  Anything else (a proxy's HTML
page for a 502, a login redirect) becomes an error that names the request and the HTTP status.
"""

from __future__ import annotations

import json
import re

from mltrail._exceptions import (
    EndpointNotFound,
    MltrailError,
    PermissionDenied,
    RequestLimitExceeded,
    TemporarilyUnavailable,
    Unauthenticated,
    error_class_for_code,
)

__all__ = ["error_from_response"]

# Used when a response carries no error body of ours: the class that the status implies.
_CLASS_BY_STATUS: dict[int, type[MltrailError]] = {
    401: Unauthenticated,
    403: PermissionDenied,
    404: EndpointNotFound,
    429: RequestLimitExceeded,
    503: TemporarilyUnavailable,
}
_SNIPPET_CHARS = 200
_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _snippet(content: bytes) -> str:
    """The start of a body as one line of text (HTML tags dropped)."""
    text = content[: _SNIPPET_CHARS * 8].decode("utf-8", "replace")
    text = _SPACE.sub(" ", _TAGS.sub(" ", text)).strip()
    return text if len(text) <= _SNIPPET_CHARS else text[: _SNIPPET_CHARS - 3] + "..."


def error_from_response(
    what: str, status: int, reason: str, content: bytes, location: str | None = None
) -> MltrailError:
    """The exception for an error response to the request *what* (``"POST <url>"``)."""
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error_code"), str):
        code = body["error_code"]
        message = body.get("message")
        text = message if isinstance(message, str) and message else f"{code} (HTTP {status})"
        details = body.get("details")
        cls = error_class_for_code(code, status)
        return cls(text, error_code=code, details=details if isinstance(details, dict) else None)
    cls = _CLASS_BY_STATUS.get(status, MltrailError)
    detail = f"{what} failed with HTTP {status} {reason}".rstrip()
    if 300 <= status < 400:
        detail += (
            f", a redirect to {location or 'another address'}: point the tracking URI at the "
            "tracking server itself"
        )
    elif content:
        detail += f"; the response is not an error of a tracking server: {_snippet(content)!r}"
    return cls(detail)
