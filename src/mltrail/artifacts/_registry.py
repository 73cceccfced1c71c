"""Finding the artifact repository for a URI by its scheme.

``file:`` URIs and plain local paths (absolute or relative) are served by
:class:`~mltrail.artifacts.local.LocalArtifactRepository` directly.  Any other scheme is looked
up in the ``mltrail.artifact_repository`` entry-point group, which is where mltrail's own
optional backends are registered too, so a third-party package adds a scheme the same way.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts._base import ArtifactRepository
from mltrail.artifacts.local import LocalArtifactRepository

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = ["ENTRY_POINT_GROUP", "get_artifact_repository", "is_local_uri"]

ENTRY_POINT_GROUP = "mltrail.artifact_repository"

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


def is_local_uri(uri: str) -> bool:
    """Whether *uri* is a local path (absolute or relative; ``C:\\dir`` on Windows) or a
    ``file:`` URI, which :class:`LocalArtifactRepository` serves."""
    match = _SCHEME_RE.match(uri)
    return (
        match is None
        or match.group(1).lower() == "file"
        or (os.name == "nt" and len(match.group(1)) == 1)
    )


@functools.cache
def _entry_points() -> dict[str, EntryPoint]:
    """Entry points of the group by lower-case scheme; the first one installed wins."""
    from importlib import metadata  # read on the first URI of a non-local scheme

    found: dict[str, EntryPoint] = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry_point.name.lower(), entry_point)
    return found


@functools.cache
def _factory(scheme: str) -> Callable[[str], ArtifactRepository]:
    entry_point = _entry_points().get(scheme)
    if entry_point is None:
        known = sorted({"file", *_entry_points()})
        raise InvalidArgument(
            f"Unsupported artifact URI scheme {scheme!r}: no artifact repository is registered "
            f"for it (known schemes: {', '.join(known)}; others are added through the "
            f"{ENTRY_POINT_GROUP!r} entry-point group)"
        )
    try:
        loaded = entry_point.load()
    except ImportError as exc:
        raise InvalidArgument(
            f"The artifact repository for scheme {scheme!r} ({entry_point.value}) cannot be "
            f"imported: {exc}; is the optional dependency installed?"
        ) from exc
    if not callable(loaded):
        raise TypeError(f"Entry point {entry_point.value!r} for scheme {scheme!r} is not callable")
    factory: Callable[[str], ArtifactRepository] = loaded
    return factory


def get_artifact_repository(
    artifact_uri: str, *, tracking_uri: str | None = None
) -> ArtifactRepository:
    """The artifact repository for *artifact_uri*, chosen by its scheme.

    *tracking_uri* is handed to repositories that resolve their URI against the tracking
    server (``mlflow-artifacts:``; they read ``MLTRAIL_TRACKING_URI`` otherwise).
    ``InvalidArgument`` naming the scheme when no repository is registered for it.
    """
    if not isinstance(artifact_uri, str) or not artifact_uri:
        raise InvalidArgument(f"Invalid artifact URI {artifact_uri!r}: expected a non-empty string")
    if is_local_uri(artifact_uri):
        return LocalArtifactRepository(artifact_uri)
    match = _SCHEME_RE.match(artifact_uri)
    assert match is not None
    scheme = match.group(1).lower()
    factory = _factory(scheme)
    if tracking_uri is not None and getattr(factory, "uses_tracking_uri", False):
        repository = factory(artifact_uri, tracking_uri=tracking_uri)  # type: ignore[call-arg]
    else:
        repository = factory(artifact_uri)
    if not isinstance(repository, ArtifactRepository):
        raise TypeError(
            f"The artifact repository factory for scheme {scheme!r} returned "
            f"{type(repository).__name__}, not an ArtifactRepository"
        )
    return repository
