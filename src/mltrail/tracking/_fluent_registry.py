"""The fluent API of the model registry: register_model, searches, the registry URI."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import AlreadyExists
from mltrail.tracking._client import MlflowClient
from mltrail.tracking._fluent import _client
from mltrail.tracking._uri import get_tracking_uri, resolve_tracking_uri

if TYPE_CHECKING:
    from mltrail.entities import ModelVersion, RegisteredModel

__all__ = [
    "get_registry_uri",
    "register_model",
    "search_model_versions",
    "search_registered_models",
    "set_model_version_tag",
    "set_registry_uri",
]

_ENV_VARS = ("MLTRAIL_REGISTRY_URI", "MLFLOW_REGISTRY_URI")
_registry_uri: str | None = None


def set_registry_uri(uri: str | Path | None) -> None:
    """Keep registered models at *uri* instead of the tracking URI (None: back to default)."""
    global _registry_uri
    _registry_uri = None if uri is None else str(uri)


def get_registry_uri() -> str:
    """The registry URI as set, or from MLTRAIL_REGISTRY_URI/MLFLOW_REGISTRY_URI, or the
    tracking URI."""
    if _registry_uri is not None:
        return resolve_tracking_uri(_registry_uri)
    for var in _ENV_VARS:
        value = os.environ.get(var)
        if value:
            return resolve_tracking_uri(value)
    return get_tracking_uri()


def _registry_client() -> MlflowClient:
    client = _client()
    uri = get_registry_uri()
    if uri == client.tracking_uri:
        return client

    return MlflowClient(client.tracking_uri, uri)


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int = 300,
    *,
    tags: Mapping[str, Any] | None = None,
) -> ModelVersion:
    """Register the model at *model_uri* as the next version of *name* (created if missing).

    *model_uri* is ``runs:/<run_id>/<path>`` (the run is linked to the new version),
    ``models:/<name>/<version>`` (or any ``models:/`` form) or a location inside a run's
    artifacts.  The version is READY when this returns.  A ``runs:/`` URI whose path names a
    logged model the run produced registers that model (source ``models:/<model_id>``), as
    MLflow 3 does.
    """
    from mltrail.registry import parse_runs_uri, resolve_runs_uri

    client = _registry_client()
    client.flush()
    with contextlib.suppress(AlreadyExists):
        client.create_registered_model(name)
    runs = parse_runs_uri(model_uri)
    run_id = runs[0] if runs is not None else None
    if runs is not None:
        _, rest, model_id = resolve_runs_uri(model_uri, client)
        if model_id is not None and not rest:
            model_uri = f"models:/{model_id}"
    return client.create_model_version(
        name, model_uri, run_id=run_id, tags=tags, await_creation_for=await_registration_for
    )


def set_model_version_tag(
    name: str, version: int | str | None = None, key: str | None = None, value: Any = None
) -> None:
    """Tag version *version* of registered model *name* (in the registry URI's store)."""
    _registry_client().set_model_version_tag(name, version, key, value)


def search_registered_models(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[RegisteredModel]:
    """Every registered model matching *filter_string* (all pages), up to *max_results*."""
    client = _registry_client()
    return _all_pages(
        lambda n, token: client.search_registered_models(filter_string, n, order_by, token),
        max_results,
        1000,
    )


def search_model_versions(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[ModelVersion]:
    """Every model version matching *filter_string* (all pages), up to *max_results*."""
    client = _registry_client()
    return _all_pages(
        lambda n, token: client.search_model_versions(filter_string, n, order_by, token),
        max_results,
        10_000,
    )


def _all_pages(fetch: Any, max_results: int | None, page_size: int) -> list[Any]:
    out: list[Any] = []
    token: str | None = None
    while max_results is None or len(out) < max_results:
        size = page_size if max_results is None else min(page_size, max_results - len(out))
        page = fetch(size, token)
        out.extend(page)
        token = page.token
        if not token:
            break
    return out
