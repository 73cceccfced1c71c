"""MLflow's module-level artifact helpers (``mlflow.artifacts``): download, list and load.

They resolve ``runs:/`` and ``models:/`` URIs with a tracking client, so they live in the
tracking layer; :mod:`mltrail.artifacts` re-exports them under MLflow's names
(``mltrail.artifacts.download_artifacts``, ...) on first use, so that importing the artifact
repositories never imports the tracking layer.

An artifact URI is split into the root of an artifact repository and a path below it the way
MLflow splits it, so files land where MLflow puts them:

* ``runs:/<run_id>/<dir>/<name>``, a local path, ``file:``, ``s3://``,
  ``mlflow-artifacts:/``, ``http(s)://`` ...: the parent and the last segment, so a download
  is ``<dst>/<name>``; a URI ending in ``/`` is a root itself (its contents land in
  ``<dst>``), and so is ``runs:/<run_id>`` (the whole run);
* ``models:/<name>/<version|stage|latest>[/<path>]`` and ``models:/<name>@<alias>[/<path>]``:
  the version's files, found in the registry (:mod:`mltrail.registry._uris`), and all of
  ``<path>``: the whole model lands in ``<dst>`` itself, ``.../sub/f.txt`` in
  ``<dst>/sub/f.txt``; ``models:/<model_id>`` is a logged model's files, and a ``runs:/``
  path whose first segment names a logged model of the run is below that model's files
  (:func:`mltrail.registry.resolve_runs_uri`), as MLflow 3 resolves both.

Downloads go into a new private (``0o700``) temporary directory unless ``dst_path`` is given;
the repositories never write outside it.  Unlike MLflow, a local artifact is copied too (the
caller always gets a copy of its own), and no ``registered_model_meta`` file is added to a
downloaded model.  YAML and Pillow are imported when a file is loaded.

``mltrail.models._uri.download_model`` resolves the same URIs for models, but against the
process-wide tracking URI only and always into ``<dst>/<last segment>``; these helpers take a
``tracking_uri`` and keep MLflow's layout, so they share its parsers and registry lookups
(``resolve_runs_uri``, ``parse_models_uri``, ``resolve_model_version``) rather than its
downloader.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import BadRequest, InvalidArgument
from mltrail._optional import require
from mltrail.artifacts._paths import validate_artifact_path
from mltrail.artifacts._registry import get_artifact_repository, is_local_uri
from mltrail.artifacts.local import LocalArtifactRepository
from mltrail.registry._uris import parse_models_uri, resolve_model_version, resolve_runs_uri
from mltrail.tracking._client import MlflowClient
from mltrail.tracking._fluent_registry import get_registry_uri
from mltrail.tracking._uri import get_tracking_uri, resolve_tracking_uri
from mltrail.validation import validate_run_id

if TYPE_CHECKING:
    from mltrail.artifacts._base import ArtifactRepository, FileInfo

__all__ = [
    "download_artifacts",
    "list_artifacts",
    "load_dict",
    "load_image",
    "load_text",
]

_MAX_INDIRECTIONS = 5


class _Clients:
    """The tracking and registry client, built on first use (most URIs need neither)."""

    def __init__(self, tracking_uri: str | None, registry_uri: str | None) -> None:
        self._tracking_uri = tracking_uri
        self._registry_uri = registry_uri
        self._client: MlflowClient | None = None

    @property
    def tracking_uri(self) -> str:
        if self._tracking_uri is None:
            return get_tracking_uri()
        return resolve_tracking_uri(self._tracking_uri)

    @property
    def client(self) -> MlflowClient:
        if self._client is None:
            registry_uri = self._registry_uri
            if registry_uri is None and self._tracking_uri is None:
                registry_uri = get_registry_uri()
            self._client = MlflowClient(tracking_uri=self._tracking_uri, registry_uri=registry_uri)
        return self._client

    def repository(self, root: str) -> ArtifactRepository:
        """The repository of *root*; ``mlflow-artifacts:`` resolves against the tracking URI."""
        return get_artifact_repository(root, tracking_uri=self.tracking_uri)


def _below(root: str, path: str) -> str:
    """The URI of *path* (already checked) below the repository root *root*."""
    return root.rstrip("/") + "/" + path if path else root


def _run_root(uri: str, clients: _Clients) -> tuple[str, str]:
    """(the run's artifact root, the checked path below it) of a ``runs:/`` URI; a path below
    a logged model of the run is below that model's files (as MLflow 3 resolves it)."""
    root, path, _ = resolve_runs_uri(uri, clients.client)
    return root, path


def _model_split(uri: str, clients: _Clients, depth: int) -> tuple[str, str]:
    """(the version's files, the checked path below them) of a ``models:/`` URI."""
    parsed = parse_models_uri(uri)
    assert parsed is not None
    if parsed.model_id is not None:  # a logged model (MLflow 3)
        location = clients.client.get_logged_model(parsed.model_id).artifact_location
        return _directory(location, clients, depth + 1), ""
    name, version = resolve_model_version(parsed, clients.client)
    location = clients.client.get_model_version_download_uri(name, version)
    return _directory(location, clients, depth + 1), parsed.path


def _directory(location: str, clients: _Clients, depth: int) -> str:
    """The repository root of a location that names a directory (a version's files)."""
    if depth > _MAX_INDIRECTIONS:
        raise InvalidArgument(f"Cannot resolve artifact URI {location!r}: too many indirections")
    lower = location.lower()
    if lower.startswith("models:"):
        return _below(*_model_split(location, clients, depth))
    if lower.startswith("runs:"):
        return _below(*_run_root(location, clients))
    return location


def _split(artifact_uri: str, clients: _Clients) -> tuple[str, str]:
    """(repository root, artifact path below it) of an artifact URI, as MLflow splits it.

    The path is the last segment (downloads land in ``<dst>/<last segment>``), except below
    ``models:/<name>/<version>``, where it is all of the rest; a URI ending in ``/`` is a
    root of its own (its contents land in ``<dst>`` itself).
    """
    lower = artifact_uri.lower()
    if lower.startswith("models:"):
        return _model_split(artifact_uri, clients, 0)
    whole = artifact_uri.endswith("/")
    if lower.startswith("runs:"):
        root, path = _run_root(artifact_uri, clients)
        if whole or not path:
            return _below(root, path), ""
        parent, leaf = posixpath.split(path)
        return _below(root, parent), leaf
    if is_local_uri(artifact_uri):
        # file: URIs unquoted and checked, relative paths made absolute.
        local = LocalArtifactRepository(artifact_uri).root
        if whole or artifact_uri.endswith(os.sep):
            return local, ""
        return os.path.dirname(local), os.path.basename(local)
    parent, _, leaf = artifact_uri.rpartition("/")
    bare = parent.rstrip("/")
    if whole or not bare or (bare.endswith(":") and "/" not in bare):
        return artifact_uri, ""  # s3://bucket, mlflow-artifacts:/x: the root itself
    return parent, leaf


def _check_arguments(
    artifact_uri: str | os.PathLike[str] | None, run_id: str | None, artifact_path: str | None
) -> str | None:
    """MLflow's rules for the argument combinations; the artifact URI as a string."""
    if (artifact_uri is None) == (run_id is None):
        raise InvalidArgument("Exactly one of `run_id` or `artifact_uri` must be specified")
    if artifact_uri is not None and artifact_path is not None:
        raise InvalidArgument("`artifact_path` cannot be specified if `artifact_uri` is specified")
    if run_id is not None:
        validate_run_id(run_id)
        return None
    uri = os.fspath(artifact_uri) if isinstance(artifact_uri, os.PathLike) else artifact_uri
    if not isinstance(uri, str) or not uri:
        raise InvalidArgument(
            f"Invalid `artifact_uri` {artifact_uri!r}: expected a non-empty string"
        )
    return uri


def _locate(
    artifact_uri: str | None,
    run_id: str | None,
    artifact_path: str | None,
    clients: _Clients,
    *,
    listing: bool,
) -> tuple[str, str]:
    if artifact_uri is not None:
        return _split(artifact_uri, clients)
    assert run_id is not None
    path = validate_artifact_path(artifact_path)
    if path and not listing:
        # As MLflow: a download by run_id and artifact_path is one of runs:/<run_id>/<path>.
        return _split(f"runs:/{run_id}/{artifact_path}", clients)
    return clients.client.get_run(run_id).info.artifact_uri, path


def download_artifacts(
    artifact_uri: str | os.PathLike[str] | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
    registry_uri: str | None = None,
) -> str:
    """Download an artifact file or directory and return its local path.

    Give exactly one of *artifact_uri* (``runs:/``, ``models:/``, a local path, ``s3://``,
    ``mlflow-artifacts:/``, ...) and *run_id* (with an optional *artifact_path* below the
    run's artifact root).  *dst_path* is created when missing; without it a new private
    (``0o700``) temporary directory is used.  A directory's local path is returned for a
    directory.  ``NotFound`` when nothing exists there; ``InvalidArgument`` for bad arguments.

    ``runs:/`` and ``models:/`` URIs are looked up at *tracking_uri* and *registry_uri*
    (default: the tracking URI in use and the registry URI in use; when only *tracking_uri*
    is given the registry is there too).
    """
    uri = _check_arguments(artifact_uri, run_id, artifact_path)
    clients = _Clients(tracking_uri, registry_uri)
    root, path = _locate(uri, run_id, artifact_path, clients, listing=False)
    # The repository creates dst_path (after checking it is not inside what is downloaded).
    return clients.repository(root).download_artifacts(path, dst_path)


def list_artifacts(
    artifact_uri: str | os.PathLike[str] | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    tracking_uri: str | None = None,
) -> list[FileInfo]:
    """The direct children of an artifact directory (``[]`` when it does not exist).

    The arguments are those of :func:`download_artifacts`; paths in the listing are relative
    to the repository root the URI was split into, as in MLflow (``runs:/<id>/model`` lists
    ``model/MLmodel``, ``models:/<name>/1`` lists ``MLmodel``).
    """
    uri = _check_arguments(artifact_uri, run_id, artifact_path)
    clients = _Clients(tracking_uri, None)
    root, path = _locate(uri, run_id, artifact_path, clients, listing=True)
    return clients.repository(root).list_artifacts(path or None)


def _download_file(artifact_uri: str, tmp: str) -> str:
    """Download one artifact file into *tmp*; its local path."""
    local = download_artifacts(artifact_uri, dst_path=tmp)
    if os.path.isdir(local):
        raise InvalidArgument(f"Cannot load artifact {artifact_uri!r}: it is a directory")
    return local


def _read_text(artifact_uri: str) -> tuple[str, str]:
    """(text, file name) of an artifact file."""
    with tempfile.TemporaryDirectory(prefix="mltrail-load-") as tmp:
        local = _download_file(artifact_uri, tmp)
        with open(local, "rb") as stream:
            data = stream.read()
    try:
        return data.decode("utf-8"), os.path.basename(local)
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"Artifact {artifact_uri!r} is not valid UTF-8: download it with "
            "download_artifacts and open it with its encoding"
        ) from exc


def load_text(artifact_uri: str) -> str:
    """The contents of an artifact file as a string (UTF-8; ``BadRequest`` otherwise)."""
    return _read_text(artifact_uri)[0]


def load_dict(artifact_uri: str) -> dict[str, Any]:
    """The contents of an artifact file as a dictionary: YAML when the file name ends in
    ``.yaml``/``.yml`` (what ``log_dict`` writes there), JSON otherwise.

    The parsed value is returned as it is, as MLflow does (a top-level list stays a list);
    ``BadRequest`` when the content does not parse.
    """
    text, name = _read_text(artifact_uri)
    value: Any
    if os.path.splitext(name)[1].lower() in (".yaml", ".yml"):
        import yaml

        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise BadRequest(f"Unable to form a YAML object from {artifact_uri!r}: {exc}") from exc
    else:
        import json

        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadRequest(f"Unable to form a JSON object from {artifact_uri!r}: {exc}") from exc
    result: dict[str, Any] = value
    return result


def load_image(artifact_uri: str) -> Any:
    """An artifact image file as a ``PIL.Image.Image``, read into memory (needs Pillow)."""
    require("PIL.Image")
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="mltrail-load-") as tmp:
        local = _download_file(artifact_uri, tmp)
        try:
            image = Image.open(local)
            image.load()
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise BadRequest(
                f"Unable to form a PIL Image object from the content of {artifact_uri!r}: {exc}"
            ) from exc
        return image
