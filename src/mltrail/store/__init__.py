"""Tracking stores: one interface per aggregate, and backends found by URI scheme.

:func:`open_backend` opens the :class:`Backend` of a tracking URI: its parts
(``experiments``, ``runs``, ``metrics``, ``registry``, ``webhooks``, ``logged_models``) are
declared in its type.  Searches take ``visible=`` (a :class:`Visibility`) to return only what
a caller may read.  Backends register under the entry-point group
``mltrail.tracking_store`` (ours too, see ``pyproject.toml``).  :func:`open_auth_store` opens
the :class:`AuthStore` of an authenticating server (users, permissions, tokens, sessions, the
audit trail) in an SQL database.  The database administration
the command line needs (:func:`upgrade_database`, :func:`artifact_root_for`) is here too, so
that no face imports a concrete backend.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any

from mltrail.store._backend import BUILTIN_SCHEMES, Backend, backend_class_for_scheme, open_backend
from mltrail.store._base import (
    ExperimentStore,
    MetricStore,
    PagedList,
    RunStore,
    series_from_histories,
)
from mltrail.store._batches import BatchLimits
from mltrail.store._visibility import LoggedModelVisibility, Visibility

if TYPE_CHECKING:
    from mltrail.store._auth_base import AuthStore
    from mltrail.store._logged_models_base import LoggedModelStore
    from mltrail.store._registry_base import (
        DeliveryFilter,
        ModelRegistryStore,
        UrlCheck,
        WebhookSender,
        WebhookStore,
    )
    from mltrail.store.rest._auth import AuthClient
    from mltrail.store.sql._upgrade import UpgradeResult

# The registry's, webhooks', logged models' and authentication's interfaces (and their
# entities) load on first use, off ``import mltrail``.
_LAZY = {
    "AuthClient": "mltrail.store.rest._auth",
    "DeliveryFilter": "mltrail.store._registry_base",
    "AuthStore": "mltrail.store._auth_base",
    "LoggedModelStore": "mltrail.store._logged_models_base",
    "ModelRegistryStore": "mltrail.store._registry_base",
    "UrlCheck": "mltrail.store._registry_base",
    "WebhookSender": "mltrail.store._registry_base",
    "WebhookStore": "mltrail.store._registry_base",
}

__all__ = [
    "BUILTIN_SCHEMES",
    "AuthClient",
    "AuthStore",
    "Backend",
    "BatchLimits",
    "DeliveryFilter",
    "ExperimentStore",
    "LoggedModelStore",
    "LoggedModelVisibility",
    "MetricStore",
    "ModelRegistryStore",
    "PagedList",
    "RunStore",
    "UrlCheck",
    "Visibility",
    "WebhookSender",
    "WebhookStore",
    "artifact_root_for",
    "backend_class_for_scheme",
    "open_auth_store",
    "open_backend",
    "series_from_histories",
    "upgrade_database",
]


def upgrade_database(
    uri: str, *, backup: bool = True, before_migrating: Callable[[], None] | None = None
) -> UpgradeResult:
    """Upgrade the SQL database at *uri* to this mltrail's schema (``mltrail db upgrade``).

    *before_migrating* runs right before the first change; an MLflow store is refused first.
    """
    # SQLAlchemy and Alembic load here, not with ``import mltrail.store``.
    from mltrail.store.sql._upgrade import upgrade_database as upgrade

    return upgrade(uri, backup=backup, before_migrating=before_migrating)


def open_auth_store(uri: str) -> AuthStore:
    """The auth store in the SQL database at *uri* (the caller closes it).

    Its tables (``auth_*``, versioned apart from the tracking schema) are created in a fresh
    database and upgraded in an older one; a newer auth schema, and MLflow's databases, are
    refused.  The database may be the tracking database or one of its own.
    """
    # SQLAlchemy and Alembic load here, not with ``import mltrail.store``.
    from mltrail.store.sql._auth_open import open_auth_store as open_store

    return open_store(uri)


def artifact_root_for(db_uri: str) -> str:
    """The default artifact root of a database URI (beside an SQLite file, else the cwd)."""
    from mltrail.store.sql._backend import artifact_root_for as root_for

    return root_for(db_uri)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
