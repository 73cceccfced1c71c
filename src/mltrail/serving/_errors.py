"""The scoring server's own errors, in the one exception tree.

They are :class:`~mltrail.BadRequest` subclasses with the HTTP status the scoring protocol
answers with, so the same error body (``{"error_code": ..., "message": ...}``) reaches the
client for every failure::

    BadRequest (BAD_REQUEST, 400)
    ├── UnsupportedContentType (BAD_REQUEST, 415)
    └── PayloadTooLarge (BAD_REQUEST, 413)
    TemporarilyUnavailable (TEMPORARILY_UNAVAILABLE, 503): a prediction passed the timeout
"""

from __future__ import annotations

from mltrail._exceptions import BadRequest

__all__ = ["PayloadTooLarge", "UnsupportedContentType"]


class UnsupportedContentType(BadRequest):
    """The request's content type (or one of its parameters) is not one the server reads."""

    http_status = 415


class PayloadTooLarge(BadRequest):
    """The request body is larger than the server's limit."""

    http_status = 413
