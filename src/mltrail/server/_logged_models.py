"""MLflow 3's logged-model endpoints, as far as this server supports them.

MLflow 3 clients look for a run's logged models whenever they list a run's artifacts below a
path (``logged-models/search``), and create one whenever a model is logged.  This server does
not store logged models (models logged by mltrail live in the run's artifacts): the search
checks its request and answers, truthfully, an empty page; creating one answers
``NOT_IMPLEMENTED`` (501), which MLflow's autologging reports as a warning without stopping
training.
"""

from __future__ import annotations

from typing import Any

from mltrail._exceptions import NotImplementedYet
from mltrail.server._context import ServerContext
from mltrail.server._routing import Endpoint
from mltrail.server._schema import array, int32, key_value, numeric_id, obj, string

__all__ = ["logged_model_endpoints"]


def _search(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    for experiment_id in args.get("experiment_ids", []):
        ctx.store.get_experiment(experiment_id)  # 404 for an unknown experiment
    return {"models": []}


def _create(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    raise NotImplementedYet(
        "Logged models (MLflow 3's LoggedModel) are not stored by this mltrail server; "
        "log models as run artifacts (mltrail's log_model does)"
    )


def logged_model_endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            "POST",
            "/mlflow/logged-models/search",
            "Search logged models (this server stores none: always an empty page)",
            obj(
                {
                    "experiment_ids": array(numeric_id()),
                    "filter": string(),
                    "max_results": int32(minimum=1, maximum=50000),
                    "page_token": string(),
                }
            ),
            obj({"models": array(obj({})), "next_page_token": string()}),
            _search,
        ),
        Endpoint(
            "POST",
            "/mlflow/logged-models",
            "Create a logged model (not supported: 501 NOT_IMPLEMENTED)",
            obj(
                {
                    "experiment_id": numeric_id(),
                    "name": string(max_length=500),
                    "model_type": string(max_length=500),
                    "source_run_id": string(max_length=256),
                    "params": array(key_value()),
                    "tags": array(key_value()),
                }
            ),
            handler=_create,
        ),
    ]
