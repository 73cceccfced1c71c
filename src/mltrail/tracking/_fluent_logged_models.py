"""The fluent API of MLflow 3's logged models: module-level delegations to MlflowClient.

``search_logged_models`` pages through every result (up to *max_results*) and returns a
pandas DataFrame (MLflow's columns: one per ``LoggedModel`` attribute) or, with
``output_format="list"``, the ``LoggedModel`` objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import InvalidArgument
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
    "search_logged_models",
    "set_logged_model_tags",
]

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
