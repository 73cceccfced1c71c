"""Registered model names, aliases and version numbers.

A name is compared by its *key*: the name percent-decoded until it stops changing, then NFKC
normalised.  Two names with the same key are the same model, so an URL-encoded spelling
(``churn%2Dmodel``) can neither create a look-alike of an existing model nor reach a different
one than its decoded form names (CVE-2024-3099).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import unquote

from mltrail._exceptions import InvalidArgument

__all__ = [
    "MAX_ALIAS_LENGTH",
    "MAX_MODEL_NAME_LENGTH",
    "MAX_REGISTRY_TAG_VALUE_LENGTH",
    "model_name_key",
    "parse_version",
    "validate_alias",
    "validate_model_name",
]

MAX_MODEL_NAME_LENGTH = 256
MAX_ALIAS_LENGTH = 255
MAX_REGISTRY_TAG_VALUE_LENGTH = 100_000
_MAX_DECODE_ROUNDS = 8
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_ALIAS_RE = re.compile(r"[\w\-]+")
_VERSION_ALIAS_RE = re.compile(r"[vV]\d+")


def model_name_key(name: str) -> str:
    """The form of *name* that uniqueness and look-ups use (percent-decoded, NFKC)."""
    current = name
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote(current)
        if decoded == current:
            return unicodedata.normalize("NFKC", current)
        current = decoded
    raise InvalidArgument(
        f"Invalid registered model name {name!r}: more than {_MAX_DECODE_ROUNDS} levels of "
        "percent-encoding"
    )


def validate_model_name(name: Any) -> str:
    """Check a registered model name and return its key (see :func:`model_name_key`).

    Refused: empty names, names over 256 characters, and names whose key holds ``/`` or ``:``
    (they would be ambiguous in ``models:/`` URIs), control characters, or is ``.``/``..``.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(f"Invalid registered model name {name!r}: must be a non-empty string")
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidArgument(
            f"Invalid registered model name: {len(name)} characters, the limit is "
            f"{MAX_MODEL_NAME_LENGTH}"
        )
    key = model_name_key(name)
    shown = f"{name!r}" if key == name else f"{name!r} (decoded: {key!r})"
    if "/" in key or ":" in key:
        raise InvalidArgument(
            f"Invalid registered model name {shown}: names cannot contain '/' or ':'"
        )
    if _CONTROL_RE.search(key):
        raise InvalidArgument(
            f"Invalid registered model name {shown}: control characters are not allowed"
        )
    if not key.strip() or not key.strip().strip("."):
        raise InvalidArgument(f"Invalid registered model name {shown}: not a usable name")
    return key


def validate_alias(alias: Any) -> str:
    """An alias: 1-255 letters, digits, ``_`` or ``-``; ``latest`` and ``v<digits>`` are
    reserved (they already mean something in ``models:/`` URIs)."""
    if not isinstance(alias, str) or not alias:
        raise InvalidArgument("Registered model alias name cannot be empty.")
    if _ALIAS_RE.fullmatch(alias) is None:
        raise InvalidArgument(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, "
            "underscores (_) and dashes (-)."
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidArgument(
            f"Invalid alias name: {len(alias)} characters, the limit is {MAX_ALIAS_LENGTH}"
        )
    if alias.lower() == "latest":
        raise InvalidArgument("'latest' alias name (case insensitive) is reserved.")
    if _VERSION_ALIAS_RE.fullmatch(alias):
        raise InvalidArgument(f"Version alias name '{alias}' is reserved.")
    return alias


def parse_version(version: Any) -> int:
    """A version number from an int or its string form."""
    if isinstance(version, bool):
        raise InvalidArgument(f"Invalid version {version!r}: must be an integer")
    try:
        value = int(str(version).strip())
    except ValueError:
        raise InvalidArgument(
            f"Invalid value {version!r} for parameter 'version' supplied: must be an integer"
        ) from None
    if value < 1:
        raise InvalidArgument(f"Invalid version {version!r}: versions are numbered from 1")
    return value
