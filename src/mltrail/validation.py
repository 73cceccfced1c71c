"""Input rules with MLflow's limits; every error names the field and the rule.

Unlike MLflow nothing is silently truncated: an over-long value is an error naming the key and
the limit, and NaN and infinities are kept exactly.
"""

from __future__ import annotations

import math
import posixpath
import re
import unicodedata
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from mltrail._exceptions import InvalidArgument

__all__ = [
    "MAX_ALIAS_LENGTH",
    "MAX_ENTITIES_PER_BATCH",
    "MAX_EXPERIMENT_NAME_LENGTH",
    "MAX_EXPERIMENT_TAG_VALUE_LENGTH",
    "MAX_KEY_LENGTH",
    "MAX_METRICS_PER_BATCH",
    "MAX_MODEL_NAME_LENGTH",
    "MAX_PARAMS_PER_BATCH",
    "MAX_PARAM_VALUE_LENGTH",
    "MAX_REGISTRY_TAG_VALUE_LENGTH",
    "MAX_RESULTS_LIMIT",
    "MAX_RUN_NAME_LENGTH",
    "MAX_TAGS_PER_BATCH",
    "MAX_TAG_VALUE_LENGTH",
    "MAX_URL_LENGTH",
    "DestinationRefused",
    "model_name_key",
    "parse_version",
    "validate_alias",
    "validate_batch_limits",
    "validate_destination_url",
    "validate_experiment_name",
    "validate_int",
    "validate_key",
    "validate_max_results",
    "validate_metric_value",
    "validate_model_name",
    "validate_param_value",
    "validate_run_id",
    "validate_tag_value",
    "without_credentials",
]

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 20000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_RUN_NAME_LENGTH = 250
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_RESULTS_LIMIT = 50000

_KEY_RE = re.compile(r"[A-Za-z0-9_\-./ :]+")
_RUN_ID_RE = re.compile(r"[a-zA-Z0-9_-]{1,256}")
_valid_keys: set[tuple[str, str]] = set()


def validate_key(key: Any, kind: str = "metric") -> str:
    """Check a metric, param or tag key; *kind* names the field in the error."""
    if (kind, key) in _valid_keys:  # the hot path of log_metric: keys repeat
        return key  # type: ignore[no-any-return]
    if not isinstance(key, str) or not key:
        raise InvalidArgument(f"Invalid {kind} key {key!r}: a key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidArgument(
            f"Invalid {kind} key '{key[:40]}...': {len(key)} characters, "
            f"the limit is {MAX_KEY_LENGTH}"
        )
    if _KEY_RE.fullmatch(key) is None:
        raise InvalidArgument(
            f"Invalid {kind} key '{key}': keys may contain only letters, digits, "
            "underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)"
        )
    norm = posixpath.normpath(key)
    if norm != key or norm == "." or norm.startswith(("..", "/")):
        raise InvalidArgument(
            f"Invalid {kind} key '{key}': a key must be a unique relative path "
            "(no '..' or '.' segments, no leading '/', no '//')"
        )
    if len(_valid_keys) < 100_000:
        _valid_keys.add((kind, key))
    return key


def validate_metric_value(key: str, value: Any) -> float:
    """A metric value as float; bools and non-numbers are refused. NaN/Inf are kept."""
    if type(value) is float:
        return value
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        raise InvalidArgument(
            f"Invalid value {value!r} for metric '{key}': a metric value must be a number"
        )
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidArgument(
            f"Invalid value {value!r} for metric '{key}': a metric value must be a number"
        ) from None


def validate_int(field: str, value: Any) -> int:
    """An integer field (timestamp, step): ints and integral floats/strings only."""
    if type(value) is int:
        return value
    if isinstance(value, bool):
        raise InvalidArgument(f"Invalid {field} {value!r}: must be an integer")
    try:
        as_int = int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"Invalid {field} {value!r}: must be an integer") from None
    if isinstance(value, float) and (not math.isfinite(value) or as_int != value):
        raise InvalidArgument(f"Invalid {field} {value!r}: must be an integer")
    return as_int


def _check_length(kind: str, key: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidArgument(
            f"Invalid value for {kind} '{key}': {len(value)} characters, the limit is {limit} "
            "(mltrail does not truncate values)"
        )
    return value


def validate_param_value(key: str, value: Any) -> str:
    return _check_length("param", key, str(value), MAX_PARAM_VALUE_LENGTH)


def validate_tag_value(key: str, value: Any, limit: int = MAX_TAG_VALUE_LENGTH) -> str:
    return _check_length("tag", key, "" if value is None else str(value), limit)


def validate_experiment_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(f"Invalid experiment name {name!r}: must be a non-empty string")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidArgument(
            f"Invalid experiment name: {len(name)} characters, the limit is "
            f"{MAX_EXPERIMENT_NAME_LENGTH}"
        )
    return name


def validate_run_id(run_id: Any) -> str:
    if not isinstance(run_id, str) or _RUN_ID_RE.fullmatch(run_id) is None:
        raise InvalidArgument(
            f"Invalid run_id {run_id!r}: must be 1-256 letters, digits, '_' or '-'"
        )
    return run_id


def validate_max_results(max_results: Any, limit: int = MAX_RESULTS_LIMIT) -> int:
    value = validate_int("max_results", max_results)
    if not 1 <= value <= limit:
        raise InvalidArgument(f"Invalid max_results {max_results!r}: must be between 1 and {limit}")
    return value


def validate_batch_limits(
    metrics: Sequence[Any], params: Sequence[Any], tags: Sequence[Any]
) -> None:
    """MLflow's log_batch limits: 1000 metrics, 100 params, 100 tags, 1000 entities in all."""
    for name, items, limit in (
        ("metrics", metrics, MAX_METRICS_PER_BATCH),
        ("params", params, MAX_PARAMS_PER_BATCH),
        ("tags", tags, MAX_TAGS_PER_BATCH),
    ):
        if len(items) > limit:
            raise InvalidArgument(
                f"A batch logging request can contain at most {limit} {name}; got {len(items)}"
            )
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_ENTITIES_PER_BATCH:
        raise InvalidArgument(
            f"A batch logging request can contain at most {MAX_ENTITIES_PER_BATCH} "
            f"metrics, params and tags in all; got {total}"
        )


# -- the model registry's names, aliases and version numbers ------------------------------
#
# Registered model names, aliases and version numbers.
#
# A name is compared by its *key*: the name percent-decoded until it stops changing, then NFKC
# normalised.  Two names with the same key are the same model, so an URL-encoded spelling
# (``churn%2Dmodel``) can neither create a look-alike of an existing model nor reach a different
# one than its decoded form names (CVE-2024-3099).

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


MAX_URL_LENGTH = 2000


class DestinationRefused(InvalidArgument):
    """A destination that is never contacted (as opposed to one that cannot be resolved now)."""


def without_credentials(url: str) -> str:
    """*url* with any ``user:password@`` replaced by ``***@``, for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc="***@" + host))


def validate_destination_url(
    url: Any, *, what: str, credentials_hint: str = ""
) -> tuple[str, str, int]:
    """The scheme, host and port of a URL a server may be asked to contact: ``http(s)``, a
    host, no credentials (:class:`DestinationRefused` otherwise; messages never repeat
    credentials).  *what* names the URL in messages (``"webhook URL"``).  Whether the host
    may be contacted is decided where it is contacted (:mod:`mltrail.artifacts._destinations`).
    """
    if not isinstance(url, str) or not url:
        raise DestinationRefused(f"Invalid {what}: must be a non-empty string")
    if len(url) > MAX_URL_LENGTH:
        raise DestinationRefused(f"Invalid {what}: longer than {MAX_URL_LENGTH} characters")
    shown = without_credentials(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DestinationRefused(f"Invalid {what} {shown!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise DestinationRefused(f"Invalid {what} {shown!r}: the scheme must be http or https")
    host = parts.hostname
    if not host:
        raise DestinationRefused(f"Invalid {what} {shown!r}: no host")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused(
            f"Invalid {what} {shown!r}: credentials in the URL are not allowed{credentials_hint}"
        )
    return scheme, host, port or (443 if scheme == "https" else 80)
