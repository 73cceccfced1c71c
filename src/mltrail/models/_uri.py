"""Model URIs to local model directories.

* a local path or ``file:`` URI is used where it is (nothing is copied);
* ``runs:/<run_id>/<path>`` is downloaded from the run's artifacts, or, when the path's first
  segment names a logged model the run produced (MLflow 3 clients log models that way, below
  the model's own location), from that model's files;
* ``models:/<name>/<version|stage|latest>`` and ``models:/<name>@<alias>`` are resolved in the
  current registry (:func:`mltrail.registry.resolve_model_uri`), then downloaded from where
  the version's files are; ``models:/<model_id>`` is a logged model of the tracking store;
  both lookups need a tracking client, so the tracking layer does them
  (:mod:`mltrail.tracking._model_uris`, reached through :mod:`mltrail._model_tracking`);
* any other URI (``s3://``, ``mlflow-artifacts:/``, ...) is downloaded through the artifact
  repository registered for its scheme.

Downloads go into a new private (``0o700``) temporary directory unless a destination is given,
and the artifact repositories never write outside the destination.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail._model_tracking import model_tracking
from mltrail.artifacts._registry import get_artifact_repository, is_local_uri

if TYPE_CHECKING:
    from mltrail.artifacts import ArtifactRepository

__all__ = [
    "download_model",
    "download_model_file",
    "is_local_uri",
    "upload_model_dir",
    "upload_model_file",
    "writable_location",
]

_MAX_REDIRECTS = 5


def _local_path(uri: str) -> str:
    if uri.lower().startswith("file:"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise InvalidArgument(f"Invalid model URI {uri!r}: file URIs name no host")
        return unquote(parsed.path)
    return os.path.abspath(uri)


def _private_dir(dst_path: str | None) -> str:
    if dst_path is not None:
        os.makedirs(dst_path, exist_ok=True)
        return os.path.abspath(dst_path)
    return tempfile.mkdtemp(prefix="mltrail-model-")  # mode 0o700


def _repository(uri: str) -> ArtifactRepository:
    """The repository of *uri*; ``mlflow-artifacts:`` URIs resolve against the tracking URI in
    use (set by ``set_tracking_uri`` or the environment), as the runs they belong to do."""
    return get_artifact_repository(uri, tracking_uri=model_tracking().tracking_uri())


def _resolve_models_uri(uri: str) -> str:
    """Where the files of a ``models:/`` URI are, asked of the current registry (or, for
    ``models:/<model_id>``, of the tracking store)."""
    return model_tracking().models_uri_location(uri)


def _is_logged_model_uri(uri: str) -> bool:
    """Whether *uri* is ``models:/<model_id>`` (a logged model's id: ``m-...``, one segment)."""
    rest = uri[len("models:") :].strip("/")
    return rest.startswith("m-") and "/" not in rest and "@" not in rest


def _run_artifact_location(uri: str) -> tuple[str, str]:
    """(root, path below it) of a ``runs:/`` URI naming a model: the run's artifacts, or the
    files of the logged model the path names (:func:`mltrail.registry.resolve_runs_uri`)."""
    return model_tracking().runs_uri_location(uri)


def _download(uri: str, dst_path: str | None, depth: int = 0) -> str:
    if depth > _MAX_REDIRECTS:
        raise InvalidArgument(f"Cannot resolve model URI {uri!r}: too many indirections")
    lower = uri.lower()
    if lower.startswith("models:"):
        return _download(_resolve_models_uri(uri), dst_path, depth + 1)
    if lower.startswith("runs:"):
        root, path = _run_artifact_location(uri)
        return _repository(root).download_artifacts(path, _private_dir(dst_path))
    if is_local_uri(uri):
        local = _local_path(uri)
        if not os.path.exists(local):
            raise NotFound(f"No model at {uri!r}: the path does not exist")
        if dst_path is None:
            return local
        return _repository(os.path.dirname(local)).download_artifacts(
            os.path.basename(local), _private_dir(dst_path)
        )
    trimmed = uri.rstrip("/")
    parent, _, leaf = trimmed.rpartition("/")
    if not leaf or not parent or parent.endswith(":"):
        return _repository(trimmed).download_artifacts("", _private_dir(dst_path))
    return _repository(parent).download_artifacts(leaf, _private_dir(dst_path))


def download_model(uri: str, dst_path: str | None = None) -> str:
    """A local directory holding the model *uri* names (downloaded when it is remote)."""
    if not isinstance(uri, str) or not uri:
        raise InvalidArgument(f"Invalid model URI {uri!r}: expected a non-empty string")
    return _download(os.fspath(uri), dst_path)


def download_model_file(uri: str, name: str) -> str:
    """One file of the model *uri* names, as a local path (for reading ``MLmodel`` only)."""
    if is_local_uri(uri):
        return os.path.join(_local_path(uri), name)
    lower = uri.lower()
    if lower.startswith("models:"):
        return download_model_file(_resolve_models_uri(uri), name)
    if lower.startswith("runs:"):
        root, path = _run_artifact_location(uri)
        target = posixpath.join(path, name) if path else name
        return _repository(root).download_artifacts(target, _private_dir(None))
    return _repository(uri.rstrip("/")).download_artifacts(name, _private_dir(None))


def writable_location(uri: str) -> tuple[ArtifactRepository, str | None]:
    """The repository holding the model *uri* names and the model's path in it (None: its
    root).  A registered version (``models:/<name>/...``) is refused: its files are what it was
    registered as; a logged model (``models:/<model_id>``) is written in place, as MLflow 3
    does."""
    if uri.lower().startswith("models:") and _is_logged_model_uri(uri):
        return _repository(_resolve_models_uri(uri)), None
    if uri.lower().startswith("models:"):
        raise InvalidArgument(
            f"Invalid model URI {uri!r}: a registered model version cannot be changed; use the "
            "URI of the logged model it came from (models:/<model_id> or runs:/<run_id>/<name>)"
        )
    if is_local_uri(uri):
        local = _local_path(uri)
        if not os.path.isdir(local):
            raise NotFound(f"No model directory at {uri!r}")
        return _repository(local), None
    if uri.lower().startswith("runs:"):
        root, path = _run_artifact_location(uri)
        return _repository(root), path or None
    return _repository(uri.rstrip("/")), None


def upload_model_file(uri: str, local_file: str) -> None:
    """Write *local_file* into the model *uri* names, under its own name (replacing the file
    there): a local directory, a run's model (``runs:/``) or any artifact location (see
    :func:`writable_location` for ``models:/`` URIs)."""
    repository, path = writable_location(uri)
    repository.log_artifact(local_file, path)


def upload_model_dir(uri: str, local_dir: str, name: str) -> None:
    """Write the files of *local_dir* into the directory *name* of the model *uri* names (the
    same locations as :func:`upload_model_file`)."""
    repository, path = writable_location(uri)
    repository.log_artifacts(local_dir, posixpath.join(path, name) if path else name)
