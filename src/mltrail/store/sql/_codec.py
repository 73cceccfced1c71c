"""Encodings between Python values and columns: exact floats, packed series, page tokens."""

from __future__ import annotations

import base64
import json
import math
import sys
from array import array
from collections.abc import Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument

__all__ = [
    "decode_float",
    "decode_token",
    "encode_float",
    "encode_token",
    "pack_float64",
    "pack_int64",
    "unpack_float64",
    "unpack_int64",
]

DBL_MAX = sys.float_info.max
NORMAL, NAN, POS_INF, NEG_INF = 0, 1, 2, 3
_LITTLE = sys.byteorder == "little"


def encode_float(value: float) -> tuple[float | None, int]:
    """A sortable column value and a special code; together they restore *value* exactly."""
    if math.isfinite(value):
        return value, NORMAL
    if math.isnan(value):
        return None, NAN
    return (DBL_MAX, POS_INF) if value > 0 else (-DBL_MAX, NEG_INF)


def decode_float(value: float | None, special: int) -> float:
    if special == NORMAL and value is not None:
        return float(value)
    if special == POS_INF:
        return math.inf
    if special == NEG_INF:
        return -math.inf
    return math.nan


def _pack(typecode: str, values: Sequence[Any]) -> bytes:
    arr = array(typecode, values)
    if not _LITTLE:  # pragma: no cover - big-endian hosts
        arr.byteswap()
    return arr.tobytes()


def _unpack(typecode: str, blob: bytes) -> array[Any]:
    arr = array(typecode)
    arr.frombytes(blob)
    if not _LITTLE:  # pragma: no cover
        arr.byteswap()
    return arr


def pack_float64(values: Sequence[float]) -> bytes:
    return _pack("d", values)


def pack_int64(values: Sequence[int]) -> bytes:
    return _pack("q", values)


def unpack_float64(blob: bytes) -> array[float]:
    return _unpack("d", blob)


def unpack_int64(blob: bytes) -> array[int]:
    return _unpack("q", blob)


def encode_token(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), allow_nan=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, kind: str) -> dict[str, Any]:
    """Decode a page token, refusing one from another query kind or a damaged one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        state = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument(
            f"Invalid page_token {token!r}: not a token this server issued"
        ) from None
    if not isinstance(state, dict) or state.get("t") != kind:
        raise InvalidArgument(f"Invalid page_token {token!r}: not a token for this {kind} query")
    return state
