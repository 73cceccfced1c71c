"""A backend: what opening a tracking URI gives, its parts declared in its type.

Every backend offers every part; an operation a backend refuses (permanent deletion through
a tracking server, say) raises ``NotImplementedYet`` from the part's method.  Backends are
found by URI scheme: mltrail's own in :data:`BUILTIN_SCHEMES`, third parties' under the
entry-point group ``mltrail.tracking_store`` (ours are registered there too, see
``pyproject.toml``); an entry point names a :class:`Backend` subclass taking
``(uri, default_artifact_root)``.
"""

from __future__ import annotations

import functools
from importlib import import_module
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import InvalidArgument
from mltrail.store._workspace_base import UnsupportedWorkspaces, WorkspaceStore

if TYPE_CHECKING:  # the parts' interfaces (and their entities) load with a backend
    from mltrail.store._base import ExperimentStore, MetricStore, RunStore
    from mltrail.store._batches import BatchLimits
    from mltrail.store._imports_base import ImportStore
    from mltrail.store._logged_models_base import LoggedModelStore
    from mltrail.store._registry_base import ModelRegistryStore, WebhookStore

__all__ = ["BUILTIN_SCHEMES", "Backend", "backend_class_for_scheme", "open_backend"]

_GROUP = "mltrail.tracking_store"

# The schemes mltrail itself ships.  They are registered as entry points too (pyproject.toml;
# a test keeps the two in step), but are resolved from this table so that opening the default
# store never pays for reading package metadata (importlib.metadata costs ~15 ms at start-up).
BUILTIN_SCHEMES: dict[str, str] = {
    "sqlite": "mltrail.store.sql:SqlBackend",
    "postgresql": "mltrail.store.sql:SqlBackend",
    "mysql": "mltrail.store.sql:SqlBackend",
    "mariadb": "mltrail.store.sql:SqlBackend",
    "http": "mltrail.store.rest:RestBackend",
    "https": "mltrail.store.rest:RestBackend",
}


class Backend:
    """A tracking backend: one part per aggregate, the URI it was opened with, the default
    artifact root of new experiments, and the request limits of a batch (None: no limits).

    ``imports`` writes what ``mltrail import`` copies (ids kept, with a ledger); a backend
    that gives none gets a part that refuses every import with ``NotImplementedYet``."""

    uri: str
    artifact_root: str
    batch_limits: BatchLimits | None
    experiments: ExperimentStore
    runs: RunStore
    metrics: MetricStore
    registry: ModelRegistryStore
    webhooks: WebhookStore
    logged_models: LoggedModelStore
    imports: ImportStore
    workspaces: WorkspaceStore

    def __init__(
        self,
        *,
        uri: str,
        artifact_root: str,
        experiments: ExperimentStore,
        runs: RunStore,
        metrics: MetricStore,
        registry: ModelRegistryStore,
        webhooks: WebhookStore,
        logged_models: LoggedModelStore,
        imports: ImportStore | None = None,
        workspaces: WorkspaceStore | None = None,
        batch_limits: BatchLimits | None = None,
    ) -> None:
        self.uri = uri
        self.artifact_root = artifact_root
        self.batch_limits = batch_limits
        self.experiments = experiments
        self.runs = runs
        self.metrics = metrics
        self.registry = registry
        self.webhooks = webhooks
        self.logged_models = logged_models
        if imports is None:
            from mltrail.store._imports_base import UnsupportedImports  # off `import mltrail`

            imports = UnsupportedImports(
                f"The {type(self).__name__} backend cannot be imported into: import into an "
                "SQL database URI (sqlite:///..., postgresql://..., mysql://...)"
            )
        self.imports = imports
        if workspaces is None:
            workspaces = UnsupportedWorkspaces(type(self).__name__)
        self.workspaces = workspaces

    def close(self) -> None:
        """Release connections (a subclass holding any overrides this)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@functools.cache
def _installed_entry_points() -> dict[str, str]:
    """Every registration in the group, third parties' included."""
    from importlib import metadata

    return {ep.name: ep.value for ep in metadata.entry_points(group=_GROUP)}


def backend_class_for_scheme(scheme: str) -> Any:
    """The backend class registered for a URI scheme (``postgresql+psycopg`` -> ``postgresql``)."""
    base = scheme.split("+", 1)[0]
    target = BUILTIN_SCHEMES.get(base) or _installed_entry_points().get(base)
    if target is None:
        known = sorted(set(BUILTIN_SCHEMES) | set(_installed_entry_points()))
        raise InvalidArgument(
            f"Unsupported tracking URI scheme '{scheme}': known schemes are {', '.join(known)}"
        )
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)


def open_backend(uri: str, default_artifact_root: str | None = None) -> Backend:
    """Open the backend of a resolved tracking URI (the caller closes it).

    A ``file:`` URI is what an MLflow ``mlruns`` folder resolves to: it is refused with the
    command that imports it, and nothing in the folder is created or changed.
    """
    scheme = uri.split(":", 1)[0]
    if scheme.lower() == "file":
        from mltrail.store._foreign import folder_uri_error  # off `import mltrail`

        raise folder_uri_error(uri)
    backend = backend_class_for_scheme(scheme)(uri, default_artifact_root)
    if not isinstance(backend, Backend):
        raise InvalidArgument(
            f"The backend registered for {uri.split(':', 1)[0]!r} is not an mltrail Backend"
        )
    return backend
