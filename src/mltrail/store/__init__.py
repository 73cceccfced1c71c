"""Tracking stores: interfaces, and the registry that finds a backend by URI scheme.

Backends register under the entry-point group ``mltrail.tracking_store`` (ours too, see
``pyproject.toml``); each entry point names a class taking ``(store_uri, default_artifact_root)``.
"""

from __future__ import annotations

import functools
from importlib import import_module, metadata
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.store._base import ExperimentStore, MetricStore, PagedList, RunStore, TrackingStore

__all__ = [
    "ExperimentStore",
    "MetricStore",
    "PagedList",
    "RunStore",
    "TrackingStore",
    "get_tracking_store",
    "store_class_for_scheme",
]

_GROUP = "mltrail.tracking_store"


@functools.cache
def _own_entry_points() -> dict[str, str]:
    """Our distribution's registrations (read from one distribution: fast)."""
    try:
        eps = metadata.distribution("mltrail").entry_points
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return {
            "sqlite": "mltrail.store.sql:SqlStore",
            "postgresql": "mltrail.store.sql:SqlStore",
            "mysql": "mltrail.store.sql:SqlStore",
            "mariadb": "mltrail.store.sql:SqlStore",
        }
    return {ep.name: ep.value for ep in eps if ep.group == _GROUP}


@functools.cache
def _all_entry_points() -> dict[str, str]:
    return {ep.name: ep.value for ep in metadata.entry_points(group=_GROUP)}


def store_class_for_scheme(scheme: str) -> Any:
    base = scheme.split("+", 1)[0]
    target = _own_entry_points().get(base) or _all_entry_points().get(base)
    if target is None:
        known = sorted(set(_own_entry_points()) | set(_all_entry_points()))
        raise InvalidArgument(
            f"Unsupported tracking URI scheme '{scheme}': known schemes are {', '.join(known)}"
        )
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)


_stores: dict[tuple[str, str | None], TrackingStore] = {}


def get_tracking_store(store_uri: str, default_artifact_root: str | None = None) -> TrackingStore:
    """The (cached, per process) store for a resolved tracking URI."""
    key = (store_uri, default_artifact_root)
    store = _stores.get(key)
    if store is None:
        scheme = store_uri.split(":", 1)[0]
        store = store_class_for_scheme(scheme)(store_uri, default_artifact_root)
        _stores[key] = store
    return store
