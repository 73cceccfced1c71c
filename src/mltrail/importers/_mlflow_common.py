"""What the three MLflow sources share: fingerprints, run ordering, URIs without passwords, and
opening an artifact location as MLflow recorded it.

An MLflow store records artifact locations as URIs of several kinds:

* a local path or ``file:`` URI (a file store, a database used without a server, a server whose
  artifact root is a folder);
* ``s3://...`` and other object stores (read by mltrail's repository for the scheme);
* ``mlflow-artifacts:/<path>`` when the server proxies artifacts: the files are below the
  server's ``--artifacts-destination``, reached through the server (a server source) or, for a
  database read directly, below the destination the user names.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts import ArtifactRepository, get_artifact_repository
from mltrail.artifacts._registry import is_local_uri
from mltrail.entities import RunInfo

__all__ = [
    "INF_STORED",
    "fingerprint",
    "local_path",
    "model_id_from_source",
    "open_location",
    "parents_first",
    "redact_uri",
]

#: MLflow's SQL store keeps +-infinity as +-the largest double (its columns take no infinity);
#: read back, those values are the infinities the user logged.
INF_STORED = 1.7976931348623157e308

_MODEL_ID_SOURCE = re.compile(r"^models:/(m-[0-9a-f]{32})(?:/.*)?$")


def fingerprint(*parts: Any) -> str:
    """A short digest of *parts* (their ``repr``): equal parts give equal fingerprints."""
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def redact_uri(uri: str) -> str:
    """*uri* without a password (``postgresql://user:***@host/db``)."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username}:***@{host}" if parts.username else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def local_path(uri: str) -> str | None:
    """The local path of a ``file:`` URI or a plain path; None for any other scheme."""
    if not is_local_uri(uri):
        return None
    if uri.lower().startswith("file:"):
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            return None
        return unquote(parts.path)
    return os.path.abspath(uri)


def model_id_from_source(source: str | None) -> str | None:
    """The logged model a version was registered from, when its source is ``models:/m-...``
    (MLflow 3's ``log_model(registered_model_name=...)``)."""
    match = _MODEL_ID_SOURCE.match(source or "")
    return match.group(1) if match else None


def parents_first(infos: Iterable[RunInfo], parents: Mapping[str, str]) -> list[RunInfo]:
    """*infos* ordered so that every run comes after its parent (``mlflow.parentRunId``) when
    the parent is among them; otherwise by start time, then id (a stable order)."""
    by_id = {info.run_id: info for info in infos}
    depth: dict[str, int] = {}

    def depth_of(run_id: str) -> int:
        chain: list[str] = []
        current: str | None = run_id
        while current is not None and current in by_id and current not in depth:
            if current in chain:  # a cycle of parent tags: break it here
                break
            chain.append(current)
            current = parents.get(current)
        base = depth.get(current, -1) if current is not None else -1
        for offset, member in enumerate(reversed(chain), start=1):
            depth[member] = base + offset
        return depth[run_id]

    return sorted(
        by_id.values(),
        key=lambda info: (depth_of(info.run_id), info.start_time or 0, info.run_id),
    )


def open_location(
    uri: str,
    *,
    artifacts_destination: str | None = None,
    tracking_uri: str | None = None,
    relocated: Sequence[tuple[str, str]] = (),
) -> ArtifactRepository | None:
    """A repository reading the artifacts MLflow recorded at *uri*, or None when nothing is
    stored there (a local folder that was never created: MLflow makes it on the first file).

    ``mlflow-artifacts:`` URIs go through *tracking_uri* (the server's proxy) when given, else
    below *artifacts_destination*; without either they are an error naming the option.
    *relocated* lists ``(recorded prefix, actual prefix)`` pairs for a folder that moved (an
    ``mlruns`` folder copied elsewhere): a missing local path under a recorded prefix is looked
    for under the actual one.
    """
    if not uri:
        return None
    scheme = urlsplit(uri).scheme.lower()
    if scheme == "mlflow-artifacts":
        if tracking_uri is not None:
            return get_artifact_repository(uri, tracking_uri=tracking_uri)
        if artifacts_destination is None:
            raise InvalidArgument(
                f"The artifacts at {uri!r} are stored through an MLflow server's artifact proxy: "
                "pass the server's --artifacts-destination (the folder or URI where it keeps "
                "them) as --artifacts-destination, or import from the running server instead"
            )
        return open_location(_below(artifacts_destination, urlsplit(uri).path))
    path = local_path(uri)
    if path is None:
        return get_artifact_repository(uri)
    if not os.path.isdir(path):
        for recorded, actual in relocated:
            if path == recorded or path.startswith(recorded.rstrip("/") + "/"):
                moved = os.path.join(actual, os.path.relpath(path, recorded))
                if os.path.isdir(moved):
                    return get_artifact_repository(moved)
        return None
    return get_artifact_repository(path)


def _below(root: str, path: str) -> str:
    """*path* (``/1/abc/artifacts``) below *root*, a folder or a URI."""
    rel = posixpath.normpath("/" + path.lstrip("/")).lstrip("/")
    if local_path(root) is not None:
        return os.path.join(local_path(root) or root, *rel.split("/")) if rel else root
    return root.rstrip("/") + ("/" + rel if rel else "")
