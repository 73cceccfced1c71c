"""Where tracking data goes: the tracking URI and its resolution."""

from __future__ import annotations

import os
import re
from pathlib import Path

from mltrail._exceptions import InvalidArgument

__all__ = [
    "ACCEPTED_URIS",
    "DEFAULT_DB_NAME",
    "check_tracking_uri",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "resolve_tracking_uri",
    "set_tracking_uri",
]

DEFAULT_DB_NAME = "mltrail.db"
_ENV_VARS = ("MLTRAIL_TRACKING_URI", "MLFLOW_TRACKING_URI")
_tracking_uri: str | None = None
# MLflow's URIs of hosted services that mltrail cannot stand in for (bare names and schemes).
_HOSTED_NAMES = frozenset({"databricks", "databricks-uc"})
_HOSTED_SCHEMES = frozenset({"databricks", "databricks-uc", "uc"})
# "scheme:" or "scheme://" (a one-letter scheme is a Windows drive: a path).
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):(//)?")
ACCEPTED_URIS = (
    "sqlite:///path/to/file.db, postgresql://..., mysql://..., mariadb://..., "
    "http(s)://host:port (a tracking server) or a local folder (./folder or file:./folder)"
)


def set_tracking_uri(uri: str | Path | None) -> None:
    """Set the tracking URI for this process (None goes back to the environment/default).

    A URI mltrail cannot serve (``databricks``, ``databricks-uc``, ``uc:...``) is refused here.
    """
    global _tracking_uri
    if uri is not None:
        check_tracking_uri(str(uri))
    _tracking_uri = None if uri is None else str(uri)


def check_tracking_uri(uri: str) -> None:
    """Refuse a URI naming a service mltrail cannot serve, or a scheme it cannot read."""
    match = _SCHEME.match(uri)
    scheme = match.group(1).lower() if match else ""
    if uri.lower() in _HOSTED_NAMES or scheme in _HOSTED_SCHEMES:
        raise InvalidArgument(
            f"Unsupported tracking URI {uri!r}: it names a Databricks or Unity Catalog service, "
            f"which mltrail cannot serve. mltrail accepts {ACCEPTED_URIS}"
        )
    if match is not None and match.group(2) is None and scheme != "file":
        raise InvalidArgument(
            f"Unsupported tracking URI {uri!r}: mltrail cannot read scheme '{scheme}:'. "
            f"It accepts {ACCEPTED_URIS}"
        )


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

    A local folder (``./folder``, ``file:./folder``) holds an SQLite database named
    ``mltrail.db`` inside it; the folder is created when missing (as MLflow's file store
    does).  An ``sqlite:///`` file's folder is not: the store refuses a missing one.  A folder
    of MLflow's (its file store ``./mlruns``, or the artifact folder beside its database)
    resolves to its ``file://`` URI, untouched: opening it is refused with the command that
    imports it (see :func:`mltrail.store.open_backend`).
    """
    check_tracking_uri(uri)
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        rest = uri[len("sqlite:///") :]
        if rest and not rest.startswith(":memory:"):
            return "sqlite:///" + os.path.abspath(rest)
        return uri
    if uri.startswith("file:"):
        path = uri[len("file://") :] if uri.startswith("file://") else uri[len("file:") :]
        return _folder_store(path)
    if "://" not in uri:
        return _folder_store(uri)
    return uri


def _folder_store(path: str) -> str:
    """The SQLite URI of a folder store, the folder created if it does not exist yet."""
    from mltrail.store._foreign import mlflow_folder_kind  # off `import mltrail`

    folder = os.path.abspath(path)
    if mlflow_folder_kind(folder) is not None:
        return Path(folder).as_uri()  # MLflow's: nothing is created in it
    if not os.path.isdir(folder):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise InvalidArgument(
                f"Cannot create the tracking folder {folder}: {exc.strerror}"
            ) from None
    return "sqlite:///" + os.path.join(folder, DEFAULT_DB_NAME)
