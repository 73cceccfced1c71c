"""Fingerprints: short digests of entities that change whenever anything in them does."""

from __future__ import annotations

import hashlib
from dataclasses import fields, is_dataclass
from typing import Any

__all__ = ["digest", "digest_text"]


def _canonical(value: Any) -> Any:
    """A form of *value* whose repr is the same whenever the value is."""
    if is_dataclass(value) and not isinstance(value, type):
        items = [(f.name, _canonical(getattr(value, f.name))) for f in fields(value)]
        return (type(value).__name__, *items)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _canonical(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, float):
        return repr(value)  # nan and the infinities compare equal to themselves this way
    return value


def digest(*parts: Any) -> str:
    """A short fingerprint of *parts* (any mix of entities, containers and scalars)."""
    raw = repr(_canonical(parts)).encode()
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:20]


def digest_text(*parts: str) -> str:
    """A short fingerprint of strings (the fast path for many small entities)."""
    raw = "\x1f".join(parts).encode()
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:20]
