"""The REST backend: ``http://`` and ``https://`` tracking URIs, a tracking server's API.

One part per aggregate, each over the same :class:`~mltrail.store.rest._context.RestContext`
(the server's HTTP client).
"""

from __future__ import annotations

import httpx

from mltrail.store._backend import Backend
from mltrail.store._batches import MLFLOW_BATCH_LIMITS
from mltrail.store._imports_base import UnsupportedImports
from mltrail.store.rest._config import HttpConfig
from mltrail.store.rest._context import RestContext
from mltrail.store.rest._http import RestClient
from mltrail.store.rest._logged_models import RestLoggedModels
from mltrail.store.rest._registry import RestRegistry, RestWebhooks
from mltrail.store.rest._store import RestExperiments, RestMetrics, RestRuns
from mltrail.store.rest._workspaces import RestWorkspaces

__all__ = ["RestBackend"]


class RestBackend(Backend):
    """A tracking server, through its REST API.

    ``RestBackend("http://host:5000")``; *transport* replaces the network (an
    ``httpx.MockTransport``, an in-process transport to an app); *config* replaces the
    environment's settings.  Thread-safe: its threads share one pool of kept-alive
    connections.  A ``log-batch`` request carries at most MLflow's limits
    (:attr:`batch_limits`); the background logger cuts its batches to them.
    """

    experiments: RestExperiments
    runs: RestRuns
    metrics: RestMetrics
    registry: RestRegistry
    webhooks: RestWebhooks
    logged_models: RestLoggedModels
    workspaces: RestWorkspaces

    def __init__(
        self,
        store_uri: str,
        default_artifact_root: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        config: HttpConfig | None = None,
    ) -> None:
        self._ctx = ctx = RestContext(RestClient(store_uri, config, transport))
        self.base_url = ctx.base_url
        super().__init__(
            uri=store_uri,
            artifact_root=default_artifact_root or "",
            experiments=RestExperiments(ctx),
            runs=RestRuns(ctx),
            metrics=RestMetrics(ctx),
            registry=RestRegistry(ctx),
            webhooks=RestWebhooks(ctx),
            logged_models=RestLoggedModels(ctx),
            imports=UnsupportedImports(
                f"Importing through a tracking server ({ctx.base_url}) is not supported: "
                "import into the server's database URI instead (its --backend-store-uri, "
                "e.g. mltrail import ... --tracking-uri postgresql://...), with its artifact "
                "root as --artifact-root"
            ),
            workspaces=RestWorkspaces(ctx),
            batch_limits=MLFLOW_BATCH_LIMITS,
        )

    def __repr__(self) -> str:
        return f"RestBackend({self.base_url!r})"

    def close(self) -> None:
        self._ctx.client.close()
