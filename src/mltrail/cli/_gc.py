"""``mltrail gc``: permanently remove deleted runs, experiments and logged models, with their
artifacts."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from mltrail._exceptions import InvalidArgument, MltrailError
from mltrail.artifacts import LocalArtifactRepository, get_artifact_repository
from mltrail.cli._common import (
    handle_errors,
    id_list_callback,
    make_client,
    progress,
    tracking_uri_option,
)
from mltrail.entities import LifecycleStage, LoggedModel, RunInfo, ViewType
from mltrail.store import artifact_root_for

if TYPE_CHECKING:
    from mltrail.store import Backend
    from mltrail.store._logged_models_base import LoggedModelStore

__all__ = ["Duration", "gc"]

_UNITS_MS = {"w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000}
_DURATION_RE = re.compile(r"(?:\d+[wdhms])+")
_PART_RE = re.compile(r"(\d+)([wdhms])")


if TYPE_CHECKING:
    _IntParamType = click.ParamType[int]  # generic from Click 8.2 on
else:
    _IntParamType = click.ParamType


class Duration(_IntParamType):
    """A span of time such as ``30d``, ``12h``, ``90m``, ``45s`` or ``1d12h``, in milliseconds."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if not _DURATION_RE.fullmatch(text):
            self.fail(
                f"{value!r} is not a duration: use numbers with the units w, d, h, m or s, "
                "such as 30d, 12h, 90m or 1d12h",
                param,
                ctx,
            )
        return sum(int(n) * _UNITS_MS[unit] for n, unit in _PART_RE.findall(text))


@dataclass
class _Item:
    """One thing to remove: a run, a logged model, or an experiment with all its runs and
    logged models."""

    kind: str  # "run", "model" or "experiment"
    id: str
    runs: list[RunInfo] = field(default_factory=list)
    models: list[LoggedModel] = field(default_factory=list)

    def describe(self) -> str:
        if self.kind == "run":
            return f"run {self.id} (experiment {self.runs[0].experiment_id})"
        if self.kind == "model":
            return f"logged model {self.id} (experiment {self.models[0].experiment_id})"
        text = f"experiment {self.id} with {_count(len(self.runs), 'run')}"
        if self.models:
            text += f" and {_count(len(self.models), 'logged model')}"
        return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _experiment_runs(store: Backend, experiment_id: str) -> list[RunInfo]:
    """Every run of an experiment, whatever its lifecycle stage."""
    infos: list[RunInfo] = []
    token: str | None = None
    while True:
        page = store.runs.search_runs([experiment_id], None, ViewType.ALL, 1000, None, token)
        infos.extend(run.info for run in page)
        token = page.token
        if token is None:
            return infos


def _experiment_models(
    lm: LoggedModelStore | None, experiment_id: str, deleted: list[LoggedModel]
) -> list[LoggedModel]:
    """Every logged model of an experiment: its active ones and its deleted ones."""
    if lm is None:
        return []
    models = [m for m in deleted if m.experiment_id == experiment_id]
    token: str | None = None
    while True:
        page = lm.search_logged_models([experiment_id], max_results=1000, page_token=token)
        models.extend(page)
        token = page.token
        if token is None:
            return models


def _chosen_models(
    lm: LoggedModelStore | None, cutoff_ms: int | None, model_ids: list[str]
) -> list[LoggedModel]:
    """The named logged models, each checked to be deleted (long enough ago)."""
    if not model_ids:
        return []
    if lm is None:
        raise InvalidArgument("This tracking store keeps no logged models")
    deleted = {m.model_id for m in lm.deleted_logged_models()}
    old = (
        deleted if cutoff_ms is None else {m.model_id for m in lm.deleted_logged_models(cutoff_ms)}
    )
    chosen: list[LoggedModel] = []
    for model_id in dict.fromkeys(model_ids):
        model = lm.get_logged_model(model_id, allow_deleted=True)  # NotFound for an unknown id
        if model_id not in deleted:
            raise InvalidArgument(
                f"Logged model {model_id} is not deleted; delete it first "
                "(MlflowClient().delete_logged_model)"
            )
        if model_id not in old:
            raise InvalidArgument(
                f"Logged model {model_id} was not deleted long enough ago for --older-than"
            )
        chosen.append(model)
    return chosen


def _plan(
    store: Backend,
    cutoff_ms: int | None,
    experiment_ids: list[str],
    run_ids: list[str],
    model_ids: list[str],
) -> list[_Item]:
    """What to remove; raises before anything is removed when an id may not be removed."""
    lm = store.logged_models
    if experiment_ids or run_ids or model_ids:
        chosen_exps: list[str] = []
        for experiment_id in experiment_ids:
            exp = store.experiments.get_experiment(experiment_id)  # NotFound for an unknown id
            if exp.lifecycle_stage != LifecycleStage.DELETED:
                raise InvalidArgument(
                    f"Experiment {experiment_id} is not deleted ({exp.lifecycle_stage}); "
                    "delete it first with 'mltrail experiments delete'"
                )
            chosen_exps.append(exp.experiment_id)
        chosen_runs: list[RunInfo] = []
        for run_id in run_ids:
            info = store.runs.get_run(run_id).info  # NotFound for an unknown id
            if info.lifecycle_stage != LifecycleStage.DELETED:
                raise InvalidArgument(
                    f"Run {run_id} is not deleted ({info.lifecycle_stage}); "
                    "delete it first with 'mltrail runs delete'"
                )
            chosen_runs.append(info)
        if cutoff_ms is not None:
            old_exps = {
                exp.experiment_id for exp in store.experiments.deleted_experiments(cutoff_ms)
            }
            for experiment_id in chosen_exps:
                if experiment_id not in old_exps:
                    raise InvalidArgument(
                        f"Experiment {experiment_id} was not deleted long enough ago for "
                        "--older-than"
                    )
            old_runs = (
                {info.run_id for info in store.runs.deleted_runs(cutoff_ms)} if run_ids else set()
            )
            for info in chosen_runs:
                if info.run_id not in old_runs:
                    raise InvalidArgument(
                        f"Run {info.run_id} was not deleted long enough ago for --older-than"
                    )
        chosen_models = _chosen_models(lm, cutoff_ms, model_ids)
    else:
        chosen_exps = [
            exp.experiment_id for exp in store.experiments.deleted_experiments(cutoff_ms)
        ]
        chosen_runs = store.runs.deleted_runs(cutoff_ms)
        chosen_models = [] if lm is None else lm.deleted_logged_models(cutoff_ms)

    items: list[_Item] = []
    covered: set[str] = set()
    deleted_models = lm.deleted_logged_models() if lm is not None and chosen_exps else []
    for experiment_id in dict.fromkeys(chosen_exps):
        infos = _experiment_runs(store, experiment_id)
        active = [i.run_id for i in infos if i.lifecycle_stage != LifecycleStage.DELETED]
        if active:
            raise InvalidArgument(
                f"Experiment {experiment_id} is deleted but has runs that are not: "
                f"{', '.join(active)}; delete them first with 'mltrail runs delete'"
            )
        models = _experiment_models(lm, experiment_id, deleted_models)
        items.append(_Item("experiment", experiment_id, infos, models))
        covered.update(i.run_id for i in infos)
        covered.update(m.model_id for m in models)
    runs = {i.run_id: i for i in chosen_runs if i.run_id not in covered}
    lone = {m.model_id: m for m in chosen_models if m.model_id not in covered}
    return [
        *(_Item("run", i.run_id, [i]) for i in runs.values()),
        *(_Item("model", m.model_id, models=[m]) for m in lone.values()),
        *items,
    ]


def _proxied(uri: str, destination: str) -> str:
    """Where the artifact proxy keeps an ``mlflow-artifacts:`` location: below
    *destination* (the server's ``--artifacts-destination``); other URIs as they are."""
    if not uri.startswith("mlflow-artifacts:"):
        return uri
    path = urlsplit(uri).path.strip("/")
    return f"{destination.rstrip('/')}/{path}" if path else destination


def _delete_artifacts(uri: str | None, owner_id: str, destination: str) -> None:
    """Delete a run's or a logged model's artifacts at *uri* (proxied ones below
    *destination*), and its local folder (named by *owner_id*: ``<experiment>/<run id>/
    artifacts``, ``<experiment>/models/<model id>/artifacts``) when that is left empty."""
    import contextlib
    import os

    if not uri:
        return
    repo = get_artifact_repository(_proxied(uri, destination))
    repo.delete_artifacts()
    if isinstance(repo, LocalArtifactRepository):
        folder = os.path.dirname(repo.root)
        if os.path.basename(folder) == owner_id:
            with contextlib.suppress(OSError):  # not empty: something else lives there
                os.rmdir(folder)


def _destination(given: str | None, store_uri: str) -> str:
    """The artifact proxy's root: *given* (a local path made absolute), else what
    ``mltrail server`` uses for the store at *store_uri*."""
    if given:
        if "://" in given or given.startswith("file:"):
            return given.rstrip("/")
        return Path(given).expanduser().resolve().as_uri()
    return artifact_root_for(store_uri)


@click.command("gc", short_help="Remove deleted runs, experiments and models for good.")
@click.option(
    "--older-than",
    type=Duration(),
    default=None,
    metavar="DURATION",
    help=(
        "Only what was deleted at least this long ago: a number with a unit, w(eeks), d(ays), "
        "h(ours), m(inutes) or s(econds), e.g. 30d, 12h, 90m, 1d12h. Default: no age limit."
    ),
)
@click.option(
    "--experiment-ids",
    "experiment_ids",
    default=None,
    metavar="IDS",
    callback=id_list_callback("experiment ids"),
    help="Comma-separated ids of deleted experiments to remove (with all their runs).",
)
@click.option(
    "--run-ids",
    "run_ids",
    default=None,
    metavar="IDS",
    callback=id_list_callback("run ids"),
    help="Comma-separated ids of deleted runs to remove.",
)
@click.option(
    "--logged-model-ids",
    "model_ids",
    default=None,
    metavar="IDS",
    callback=id_list_callback("logged model ids"),
    help="Comma-separated ids of deleted logged models (m-...) to remove.",
)
@click.option("--dry-run", is_flag=True, help="Print what would be removed; remove nothing.")
@click.option(
    "--backend-store-uri",
    default=None,
    metavar="URI",
    help="The database to remove from (MLflow's option; it wins over --tracking-uri).",
)
@click.option(
    "--artifacts-destination",
    default=None,
    metavar="URI",
    help=(
        "Where the server's artifact proxy stores artifacts (its --artifacts-destination), "
        "to remove those of runs and models logged through it (mlflow-artifacts:/...). "
        "Default: the server's default for this database."
    ),
)
@tracking_uri_option
@handle_errors
def gc(
    older_than: int | None,
    experiment_ids: list[str],
    run_ids: list[str],
    model_ids: list[str],
    dry_run: bool,
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    tracking_uri: str | None,
) -> None:
    """Permanently remove deleted runs, experiments and logged models, and their artifacts.

    Without --experiment-ids, --run-ids and --logged-model-ids, everything deleted is removed
    (only what was deleted before --older-than, if given). An experiment goes with all its
    runs and logged models. Naming something that is not deleted is an error, and then
    nothing is removed. Artifacts are removed before the database rows, so an interrupted gc
    can simply be run again.
    """
    client = make_client(backend_store_uri or tracking_uri)
    store = client._backend
    destination = _destination(artifacts_destination, client.tracking_uri)
    cutoff_ms = None if older_than is None else time.time_ns() // 1_000_000 - older_than
    items = _plan(store, cutoff_ms, experiment_ids, run_ids, model_ids)
    lm = store.logged_models
    if dry_run:
        for item in items:
            click.echo(f"Would remove {item.describe()}")
        click.echo(f"Dry run: {_count(len(items), 'item')} would be removed")
        return

    failures: list[str] = []
    removed_runs = removed_exps = removed_models = 0
    with progress(items, "Removing") as bar:
        for item in bar:
            try:
                for info in item.runs:
                    _delete_artifacts(info.artifact_uri, info.run_id, destination)
                    store.runs.hard_delete_run(info.run_id)
                    removed_runs += 1
                for model in item.models:
                    _delete_artifacts(model.artifact_location, model.model_id, destination)
                    if item.kind == "model" and lm is not None:
                        lm.hard_delete_logged_model(model.model_id)
                    removed_models += 1
                if item.kind == "experiment":
                    store.experiments.hard_delete_experiment(item.id)  # its models' rows go with it
                    removed_exps += 1
            except MltrailError as exc:
                failures.append(f"{item.describe()}: {exc.message}")
            except OSError as exc:
                failures.append(f"{item.describe()}: {exc}")
    removed = [_count(removed_runs, "run"), _count(removed_exps, "experiment")]
    if removed_models:
        removed.append(_count(removed_models, "logged model"))
    click.echo(f"Removed {', '.join(removed[:-1])} and {removed[-1]} for good")
    if failures:
        for failure in failures:
            click.echo(f"Failed: {failure}", err=True)
        raise click.ClickException(
            f"{_count(len(failures), 'item')} could not be removed; run 'mltrail gc' again "
            "after fixing the cause"
        )
