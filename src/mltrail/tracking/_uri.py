"""Where tracking data goes: the tracking URI and its resolution."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DEFAULT_DB_NAME",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "resolve_tracking_uri",
    "set_tracking_uri",
]

DEFAULT_DB_NAME = "mltrail.db"
_ENV_VARS = ("MLTRAIL_TRACKING_URI", "MLFLOW_TRACKING_URI")
_tracking_uri: str | None = None


def set_tracking_uri(uri: str | Path | None) -> None:
    """Set the tracking URI for this process (None goes back to the environment/default)."""
    global _tracking_uri
    _tracking_uri = None if uri is None else str(uri)


def is_tracking_uri_set() -> bool:
    return _tracking_uri is not None or any(os.environ.get(v) for v in _ENV_VARS)


def get_tracking_uri() -> str:
    """The URI as set, or from MLTRAIL_TRACKING_URI/MLFLOW_TRACKING_URI, or the default."""
    if _tracking_uri is not None:
        return resolve_tracking_uri(_tracking_uri)
    for var in _ENV_VARS:
        value = os.environ.get(var)
        if value:
            return resolve_tracking_uri(value)
    return resolve_tracking_uri(f"sqlite:///{DEFAULT_DB_NAME}")


def resolve_tracking_uri(uri: str) -> str:
    """Make a URI absolute: relative SQLite paths and local folders are pinned to the cwd.

    A local folder (``./mlruns``, ``file:./mlruns``; MLflow's file store) holds an SQLite
    database named ``mltrail.db`` inside it.
    """
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        rest = uri[len("sqlite:///") :]
        if rest and not rest.startswith(":memory:"):
            return "sqlite:///" + os.path.abspath(rest)
        return uri
    if uri.startswith("file:"):
        path = uri[len("file://") :] if uri.startswith("file://") else uri[len("file:") :]
        return "sqlite:///" + os.path.join(os.path.abspath(path), DEFAULT_DB_NAME)
    if "://" not in uri:
        return "sqlite:///" + os.path.join(os.path.abspath(uri), DEFAULT_DB_NAME)
    return uri
