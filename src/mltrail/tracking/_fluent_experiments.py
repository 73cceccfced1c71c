"""The fluent API for experiments, and search_runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities import Experiment, Run, ViewType
from mltrail.tracking._active import run_stack, state
from mltrail.tracking._dataframe import runs_to_dataframe
from mltrail.tracking._fluent import _client, current_experiment_id

__all__ = [
    "create_experiment",
    "delete_experiment",
    "delete_experiment_tag",
    "get_experiment",
    "get_experiment_by_name",
    "list_experiments",
    "rename_experiment",
    "restore_experiment",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
]

PANDAS_MAX_RESULTS = 100_000


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment the active one, by name (created if missing) or by id."""
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidArgument(
            "set_experiment takes exactly one of experiment_name and experiment_id"
        )
    client = _client()
    if experiment_id is not None:
        exp = client.get_experiment(str(experiment_id))
    else:
        assert experiment_name is not None
        found = client.get_experiment_by_name(experiment_name)
        if found is None:
            eid = client.create_experiment(experiment_name)
            exp = client.get_experiment(eid)
        else:
            exp = found
    if exp.lifecycle_stage != "active":
        raise InvalidArgument(
            f"Cannot set a deleted experiment '{exp.name}' as the active experiment; restore it "
            "first with restore_experiment"
        )
    state.experiment_id = exp.experiment_id
    return exp


def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
) -> str:
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return _client().get_experiment_by_name(name)


def search_experiments(
    view_type: int | str = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Every matching experiment (all pages), or at most *max_results*."""
    client = _client()
    out: list[Experiment] = []
    token: str | None = None
    while True:
        page_size = 1000 if max_results is None else min(1000, max_results - len(out))
        page = client.search_experiments(view_type, page_size, filter_string, order_by, token)
        out.extend(page)
        token = page.token
        if not token or (max_results is not None and len(out) >= max_results):
            return out


def list_experiments(
    view_type: int | str = ViewType.ACTIVE_ONLY, max_results: int | None = None
) -> list[Experiment]:
    """MLflow 1.x's name for search_experiments without a filter."""
    return search_experiments(view_type, max_results)


def delete_experiment(experiment_id: str) -> None:
    _client().delete_experiment(experiment_id)


def restore_experiment(experiment_id: str) -> None:
    _client().restore_experiment(experiment_id)


def rename_experiment(experiment_id: str, new_name: str) -> None:
    _client().rename_experiment(experiment_id, new_name)


def set_experiment_tag(key: Any, value: Any, *rest: Any) -> None:
    """MLflow's ``set_experiment_tag(key, value)`` (also as keywords) on the active experiment;
    ``set_experiment_tag(experiment_id_or_name, key, value)`` names the experiment."""
    client = _client()
    if not rest:
        client.set_experiment_tag(current_experiment_id(client), key, value)
    elif len(rest) == 1:
        client.set_experiment_tag(key, value, rest[0])
    else:
        raise InvalidArgument("set_experiment_tag takes (key, value) or (experiment, key, value)")


def set_experiment_tags(tags: Any, *rest: Any) -> None:
    """MLflow's ``set_experiment_tags(tags)`` on the active experiment;
    ``set_experiment_tags(experiment_id_or_name, tags)`` names the experiment."""
    client = _client()
    if not rest:
        target, mapping = current_experiment_id(client), tags
    elif len(rest) == 1:
        target, mapping = tags, rest[0]
    else:
        raise InvalidArgument("set_experiment_tags takes (tags) or (experiment, tags)")
    if not isinstance(mapping, Mapping):
        raise InvalidArgument(
            f"Invalid tags {type(mapping).__name__}: set_experiment_tags takes a dict"
        )
    for key, value in mapping.items():
        client.set_experiment_tag(target, key, value)


def delete_experiment_tag(key: str) -> None:
    """Remove tag *key* from the active experiment (NotFound when it has no such tag)."""
    client = _client()
    client.delete_experiment_tag(current_experiment_id(client), key)


def search_runs(
    experiment_ids: Sequence[str] | str | None = None,
    filter_string: str = "",
    run_view_type: int | str = ViewType.ACTIVE_ONLY,
    max_results: int = PANDAS_MAX_RESULTS,
    order_by: Sequence[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> Any:
    """Runs as a pandas DataFrame (default) or, with ``output_format="list"``, Run objects.

    With no experiment given, searches the active experiment, or every experiment when
    *search_all_experiments* is true.
    """
    if output_format not in ("pandas", "list"):
        raise InvalidArgument(f"Invalid output_format '{output_format}': use 'pandas' or 'list'")
    client = _client()
    ids: list[str] | None
    if isinstance(experiment_ids, str):
        ids = [experiment_ids]
    else:
        ids = None if experiment_ids is None else [str(i) for i in experiment_ids]
    if experiment_names:
        named = []
        for name in experiment_names:
            exp = client.get_experiment_by_name(name)
            if exp is None:
                raise NotFound(f"No experiment named '{name}' exists")
            named.append(exp.experiment_id)
        ids = (ids or []) + named
    if ids is None and not search_all_experiments:
        active = run_stack()
        ids = [active[-1].info.experiment_id] if active else [current_experiment_id(client)]
    runs: list[Run] = []
    token: str | None = None
    while len(runs) < max_results:
        page = client.search_runs(
            ids, filter_string, run_view_type, min(50_000, max_results - len(runs)), order_by, token
        )
        runs.extend(page)
        token = page.token
        if not token:
            break
    if output_format == "list":
        return runs

    return runs_to_dataframe(runs)
