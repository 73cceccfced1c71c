"""The fluent API of MLflow 3's logged models: module-level delegations to MlflowClient.

``search_logged_models`` pages through every result (up to *max_results*) and returns a
pandas DataFrame (MLflow's columns: one per ``LoggedModel`` attribute) or, with
``output_format="list"``, the ``LoggedModel`` objects.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import InvalidArgument
from mltrail._run_context import resolve_run_context_tags
from mltrail.tracking._active import run_stack
from mltrail.tracking._fluent import _client, current_experiment_id
from mltrail.tracking._fluent_registry import _all_pages
from mltrail.validation import validate_int

if TYPE_CHECKING:
    from mltrail.entities import LoggedModel
    from mltrail.store._logged_models_base import OrderBy

__all__ = [
    "delete_logged_model_tag",
    "finalize_logged_model",
    "get_logged_model",
    "initialize_logged_model",
    "last_logged_model",
    "log_model_params",
    "remember_logged_model",
    "search_logged_models",
    "set_logged_model_tags",
]

#: The id of the model this thread created last (MLflow keeps it per thread too).
_last = threading.local()

#: The page size of the fluent search's requests (the server's largest page).
_PAGE = 1000
#: MLflow's DataFrame columns (``LoggedModel.to_dictionary()``, sorted by name).
_COLUMNS = (
    "artifact_location",
    "creation_timestamp",
    "experiment_id",
    "last_updated_timestamp",
    "metrics",
    "model_id",
    "model_type",
    "name",
    "params",
    "source_run_id",
    "status",
    "status_message",
    "tags",
)


def remember_logged_model(model_id: str) -> None:
    """Make *model_id* what :func:`last_logged_model` answers in this thread."""
    _last.model_id = model_id


def last_logged_model() -> LoggedModel | None:
    """The logged model this thread created last (None before the first)."""
    model_id = getattr(_last, "model_id", None)
    return None if model_id is None else get_logged_model(model_id)


def initialize_logged_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """A new PENDING logged model, as MLflow's: of the active run (its source, its experiment)
    unless given, else of the current experiment; tagged with who and what created it (the
    run context tags) beside *tags*.  Finalize it with :func:`finalize_logged_model`."""
    stack = run_stack()
    active = stack[-1] if stack else None
    client = _client()
    if source_run_id is None and active is not None:
        source_run_id = active.info.run_id
    if experiment_id is None:
        if active is not None:
            experiment_id = active.info.experiment_id
        elif source_run_id is not None:
            experiment_id = client.get_run(source_run_id).info.experiment_id
        else:
            experiment_id = current_experiment_id(client)
    all_tags = {**resolve_run_context_tags(check_dirty=False), **(tags or {})}
    model = client.create_logged_model(
        experiment_id, name, source_run_id, all_tags, params, model_type
    )
    remember_logged_model(model.model_id)
    return model


def log_model_params(params: Mapping[str, str], model_id: str | None = None) -> None:
    """Log *params* on logged model *model_id* (else the one ``MLFLOW_ACTIVE_MODEL_ID`` names,
    as MLflow's active model when set from the environment)."""
    target = (
        model_id
        or os.environ.get("MLTRAIL_ACTIVE_MODEL_ID")
        or os.environ.get("MLFLOW_ACTIVE_MODEL_ID")
    )
    if not target:
        raise InvalidArgument(
            "Missing model_id: log_model_params needs the id of a logged model (or "
            "MLFLOW_ACTIVE_MODEL_ID set)"
        )
    _client().log_model_params(target, params)


def get_logged_model(model_id: str) -> LoggedModel:
    """The logged model *model_id* (NotFound for an unknown or deleted one)."""
    return _client().get_logged_model(model_id)


def finalize_logged_model(model_id: str, status: Any) -> LoggedModel:
    """Set the model's status, ``"READY"`` or ``"FAILED"`` (or MLflow's LoggedModelStatus)."""
    return _client().finalize_logged_model(model_id, status)


def set_logged_model_tags(model_id: str, tags: Mapping[str, Any]) -> None:
    _client().set_logged_model_tags(model_id, tags)


def delete_logged_model_tag(model_id: str, key: str) -> None:
    _client().delete_logged_model_tag(model_id, key)


def search_logged_models(
    experiment_ids: Sequence[str] | str | None = None,
    filter_string: str | None = None,
    datasets: Sequence[Mapping[str, Any]] | None = None,
    max_results: int | None = None,
    order_by: Sequence[OrderBy] | None = None,
    output_format: str = "pandas",
) -> Any:
    """Logged models as a pandas DataFrame (default) or, with ``output_format="list"``, a list.

    With no experiment given, searches the active run's experiment, else the current one.
    """
    if output_format not in ("pandas", "list"):
        raise InvalidArgument(f"Invalid output_format '{output_format}': use 'pandas' or 'list'")
    if max_results is not None and validate_int("max_results", max_results) < 1:
        raise InvalidArgument(f"Invalid max_results {max_results!r}: must be at least 1")
    client = _client()
    ids: list[str]
    if isinstance(experiment_ids, (str, int)):
        ids = [str(experiment_ids)]
    elif experiment_ids:
        ids = [str(i) for i in experiment_ids]
    else:
        active = run_stack()
        ids = [active[-1].info.experiment_id] if active else [current_experiment_id(client)]
    models: list[LoggedModel] = _all_pages(
        lambda size, token: client.search_logged_models(
            ids, filter_string, datasets, size, order_by, token
        ),
        max_results,
        _PAGE,
    )
    if output_format == "list":
        return models
    return _to_dataframe(models)


def _to_dataframe(models: Sequence[LoggedModel]) -> Any:
    import pandas as pd

    rows = [{column: getattr(m, column) for column in _COLUMNS} for m in models]
    return pd.DataFrame(rows, columns=list(_COLUMNS))
