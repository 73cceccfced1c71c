"""Model URIs resolved with a tracking client: ``runs:/`` and ``models:/``.

:func:`mltrail.models._uri.download_model` (which every flavor's ``load_model`` uses) asks
these of the tracking layer through :mod:`mltrail._model_tracking`: the registry in use finds a
version's files, the tracking store a run's artifacts and a logged model's location.
"""

from __future__ import annotations

from mltrail._exceptions import InvalidArgument
from mltrail.registry._uris import parse_runs_uri, resolve_model_uri, resolve_runs_uri
from mltrail.tracking._client import MlflowClient
from mltrail.tracking._fluent_registry import get_registry_uri

__all__ = ["models_uri_location", "runs_uri_location"]


def models_uri_location(uri: str) -> str:
    """Where the files of a ``models:/`` URI are, asked of the current registry (or, for
    ``models:/<model_id>``, of the tracking store)."""
    return resolve_model_uri(uri, MlflowClient(registry_uri=get_registry_uri()))


def runs_uri_location(uri: str) -> tuple[str, str]:
    """(root, path below it) of a ``runs:/`` URI naming a model: the run's artifacts, or the
    files of the logged model the path names (:func:`mltrail.registry.resolve_runs_uri`)."""
    parsed = parse_runs_uri(uri)
    if parsed is None or not parsed[1]:
        raise InvalidArgument(f"Invalid model URI {uri!r}: expected runs:/<run_id>/<path>")
    root, path, _ = resolve_runs_uri(uri, MlflowClient())
    return root, path
