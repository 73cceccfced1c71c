"""Tracking stores: interfaces, and the registry that finds a backend by URI scheme.

Backends register under the entry-point group ``mltrail.tracking_store`` (ours too, see
``pyproject.toml``); each entry point names a class taking ``(store_uri, default_artifact_root)``.
"""

from __future__ import annotations

import functools
from importlib import import_module
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.store._base import ExperimentStore, MetricStore, PagedList, RunStore, TrackingStore

__all__ = [
    "BUILTIN_SCHEMES",
    "ExperimentStore",
    "MetricStore",
    "PagedList",
    "RunStore",
    "TrackingStore",
    "get_tracking_store",
    "store_class_for_scheme",
]

_GROUP = "mltrail.tracking_store"


# The schemes mltrail itself ships.  They are registered as entry points too (pyproject.toml;
# a test keeps the two in step), but are resolved from this table so that opening the default
# store never pays for reading package metadata (importlib.metadata costs ~15 ms at start-up).
BUILTIN_SCHEMES: dict[str, str] = {
    "sqlite": "mltrail.store.sql:SqlStore",
    "postgresql": "mltrail.store.sql:SqlStore",
    "mysql": "mltrail.store.sql:SqlStore",
    "mariadb": "mltrail.store.sql:SqlStore",
    "http": "mltrail.store.rest:RestStore",
    "https": "mltrail.store.rest:RestStore",
}


@functools.cache
def _installed_entry_points() -> dict[str, str]:
    """Every registration in the group, third parties' included."""
    from importlib import metadata

    return {ep.name: ep.value for ep in metadata.entry_points(group=_GROUP)}


def store_class_for_scheme(scheme: str) -> Any:
    """The store class registered for a URI scheme (``postgresql+psycopg`` -> ``postgresql``)."""
    base = scheme.split("+", 1)[0]
    target = BUILTIN_SCHEMES.get(base) or _installed_entry_points().get(base)
    if target is None:
        known = sorted(set(BUILTIN_SCHEMES) | set(_installed_entry_points()))
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
