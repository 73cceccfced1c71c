"""Reading a JSON request body: size-limited (413 beyond), depth-limited, strict JSON first.

The endpoints read bodies through these, and so does the guard of a streaming route whose
access rule reads an argument from the body (it then replays the bytes to the route).
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive, Scope

from mltrail._exceptions import InvalidArgument, PayloadTooLarge

__all__ = ["MAX_JSON_DEPTH", "decode_json", "read_body", "read_json_body", "read_raw_body"]

#: The deepest nesting of arrays and objects a JSON body may have (orjson's own bound, applied
#: while decoding; MLflow's requests nest a few levels).
MAX_JSON_DEPTH = 1024
_TOO_DEEP = f"Invalid request body: JSON nested more than {MAX_JSON_DEPTH} levels deep"


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request body too large: the limit for JSON bodies is {limit} bytes")


def decode_json(raw: bytes) -> Any:
    """The JSON value of *raw* (``{}`` for an empty body); InvalidArgument otherwise."""
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):
            raise InvalidArgument(_TOO_DEEP) from None
        # strict JSON only; the standard parser below also takes NaN, Infinity, big integers
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("Invalid request body: not valid JSON") from None
    except RecursionError:
        raise InvalidArgument(_TOO_DEEP) from None


async def read_json_body(request: Request, limit: int) -> Any:
    """The decoded JSON body; at most *limit* bytes are read (413 beyond)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return decode_json(b"".join(chunks))


async def read_raw_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The body's bytes straight from the ASGI messages (413 beyond *limit*;
    ClientDisconnect when the client goes away)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if value.isdigit() and int(value) > limit:
                raise _too_large(limit)
            break
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_body(scope: Scope, receive: Receive, limit: int) -> Any:
    """:func:`read_json_body` straight from the ASGI messages."""
    return decode_json(await read_raw_body(scope, receive, limit))
