"""``mltrail gc``: permanently remove deleted runs and experiments, with their artifacts."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from mltrail._exceptions import MltrailError
from mltrail.cli._common import (
    handle_errors,
    id_list_callback,
    make_client,
    progress,
    tracking_uri_option,
)

if TYPE_CHECKING:
    from mltrail.entities import RunInfo
    from mltrail.store import TrackingStore

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
    """One thing to remove: a run, or an experiment with all its runs."""

    kind: str  # "run" or "experiment"
    id: str
    runs: list[RunInfo] = field(default_factory=list)

    def describe(self) -> str:
        if self.kind == "run":
            return f"run {self.id} (experiment {self.runs[0].experiment_id})"
        return f"experiment {self.id} with {_count(len(self.runs), 'run')}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _experiment_runs(store: TrackingStore, experiment_id: str) -> list[RunInfo]:
    """Every run of an experiment, whatever its lifecycle stage."""
    from mltrail.entities import ViewType

    infos: list[RunInfo] = []
    token: str | None = None
    while True:
        page = store.search_runs([experiment_id], None, ViewType.ALL, 1000, None, token)
        infos.extend(run.info for run in page)
        token = page.token
        if token is None:
            return infos


def _plan(
    store: TrackingStore,
    cutoff_ms: int | None,
    experiment_ids: list[str],
    run_ids: list[str],
) -> list[_Item]:
    """What to remove; raises before anything is removed when an id may not be removed."""
    from mltrail._exceptions import InvalidArgument
    from mltrail.entities import LifecycleStage

    if experiment_ids or run_ids:
        chosen_exps: list[str] = []
        for experiment_id in experiment_ids:
            exp = store.get_experiment(experiment_id)  # NotFound for an unknown id
            if exp.lifecycle_stage != LifecycleStage.DELETED:
                raise InvalidArgument(
                    f"Experiment {experiment_id} is not deleted ({exp.lifecycle_stage}); "
                    "delete it first with 'mltrail experiments delete'"
                )
            chosen_exps.append(exp.experiment_id)
        chosen_runs: list[RunInfo] = []
        for run_id in run_ids:
            info = store.get_run(run_id).info  # NotFound for an unknown id
            if info.lifecycle_stage != LifecycleStage.DELETED:
                raise InvalidArgument(
                    f"Run {run_id} is not deleted ({info.lifecycle_stage}); "
                    "delete it first with 'mltrail runs delete'"
                )
            chosen_runs.append(info)
        if cutoff_ms is not None:
            old_exps = {exp.experiment_id for exp in store.deleted_experiments(cutoff_ms)}
            for experiment_id in chosen_exps:
                if experiment_id not in old_exps:
                    raise InvalidArgument(
                        f"Experiment {experiment_id} was not deleted long enough ago for "
                        "--older-than"
                    )
            old_runs = {info.run_id for info in store.deleted_runs(cutoff_ms)} if run_ids else set()
            for info in chosen_runs:
                if info.run_id not in old_runs:
                    raise InvalidArgument(
                        f"Run {info.run_id} was not deleted long enough ago for --older-than"
                    )
    else:
        chosen_exps = [exp.experiment_id for exp in store.deleted_experiments(cutoff_ms)]
        chosen_runs = store.deleted_runs(cutoff_ms)

    items: list[_Item] = []
    covered: set[str] = set()
    for experiment_id in dict.fromkeys(chosen_exps):
        infos = _experiment_runs(store, experiment_id)
        active = [i.run_id for i in infos if i.lifecycle_stage != LifecycleStage.DELETED]
        if active:
            raise InvalidArgument(
                f"Experiment {experiment_id} is deleted but has runs that are not: "
                f"{', '.join(active)}; delete them first with 'mltrail runs delete'"
            )
        items.append(_Item("experiment", experiment_id, infos))
        covered.update(i.run_id for i in infos)
    runs = {i.run_id: i for i in chosen_runs if i.run_id not in covered}
    return [*(_Item("run", i.run_id, [i]) for i in runs.values()), *items]


def _delete_artifacts(info: RunInfo) -> None:
    """Delete the run's artifacts, and its local run folder when that is left empty."""
    import contextlib
    import os

    from mltrail.artifacts import LocalArtifactRepository, get_artifact_repository

    if not info.artifact_uri:
        return
    repo = get_artifact_repository(info.artifact_uri)
    repo.delete_artifacts()
    if isinstance(repo, LocalArtifactRepository):
        run_folder = os.path.dirname(repo.root)  # <experiment location>/<run id>/artifacts
        if os.path.basename(run_folder) == info.run_id:
            with contextlib.suppress(OSError):  # not empty: something else lives there
                os.rmdir(run_folder)


@click.command("gc", short_help="Remove deleted runs and experiments for good.")
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
@click.option("--dry-run", is_flag=True, help="Print what would be removed; remove nothing.")
@tracking_uri_option
@handle_errors
def gc(
    older_than: int | None,
    experiment_ids: list[str],
    run_ids: list[str],
    dry_run: bool,
    tracking_uri: str | None,
) -> None:
    """Permanently remove deleted runs and experiments, and their artifacts.

    Without --experiment-ids and --run-ids, every deleted run and experiment is removed
    (only those deleted before --older-than, if given). Naming a run or experiment that is
    not deleted is an error, and then nothing is removed. Artifacts are removed before the
    database rows, so an interrupted gc can simply be run again.
    """
    store = make_client(tracking_uri)._store
    cutoff_ms = None if older_than is None else time.time_ns() // 1_000_000 - older_than
    items = _plan(store, cutoff_ms, experiment_ids, run_ids)
    if dry_run:
        for item in items:
            click.echo(f"Would remove {item.describe()}")
        click.echo(f"Dry run: {_count(len(items), 'item')} would be removed")
        return

    failures: list[str] = []
    removed_runs = removed_exps = 0
    with progress(items, "Removing") as bar:
        for item in bar:
            try:
                for info in item.runs:
                    _delete_artifacts(info)
                    store.hard_delete_run(info.run_id)
                    removed_runs += 1
                if item.kind == "experiment":
                    store.hard_delete_experiment(item.id)
                    removed_exps += 1
            except MltrailError as exc:
                failures.append(f"{item.describe()}: {exc.message}")
            except OSError as exc:
                failures.append(f"{item.describe()}: {exc}")
    click.echo(
        f"Removed {_count(removed_runs, 'run')} and {_count(removed_exps, 'experiment')} for good"
    )
    if failures:
        for failure in failures:
            click.echo(f"Failed: {failure}", err=True)
        raise click.ClickException(
            f"{_count(len(failures), 'item')} could not be removed; run 'mltrail gc' again "
            "after fixing the cause"
        )
