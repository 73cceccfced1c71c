"""``mltrail import``: bring another store's history in (MLflow, TensorBoard, mltrail).

The group, the ``mltrail`` subcommand, and what every subcommand shares: the options of
:class:`~mltrail.importers.ImportOptions` (:func:`import_options`), progress bars on stderr
(:class:`ClickProgress`) and the closing table (:func:`echo_report`).  A subcommand opens
its :class:`~mltrail.importers.Source` and hands it to :func:`import_and_report`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from mltrail.cli._common import echo_table, handle_errors, tracking_uri_option
from mltrail.tracking._uri import get_tracking_uri, resolve_tracking_uri

if TYPE_CHECKING:  # the import engine loads when an import runs, not at `mltrail --help`
    from mltrail.importers import ImportOptions, ImportReport, Source

__all__ = [
    "OPTION_NAMES",
    "ClickProgress",
    "echo_report",
    "import_",
    "import_and_report",
    "import_command",
    "import_options",
    "options_from",
]

P = ParamSpec("P")
R = TypeVar("R")

_OPTIONS = (
    tracking_uri_option,
    click.option(
        "--artifact-root",
        metavar="URI",
        default=None,
        help=(
            "Where the destination keeps the artifacts of new experiments (a folder, s3://...); "
            "default: the destination's own (beside an SQLite file)."
        ),
    ),
    click.option(
        "--experiment",
        "experiments",
        multiple=True,
        metavar="NAME_OR_ID",
        help="Import only this source experiment (repeatable); default: all of them.",
    ),
    click.option(
        "--dry-run",
        is_flag=True,
        help="Compare the source with the destination and print the table; write nothing.",
    ),
    click.option(
        "--keep-artifact-locations",
        is_flag=True,
        help=(
            "Keep the runs' and models' artifact URIs as the source has them (an S3 bucket "
            "you already have) instead of copying the artifacts into the destination's store."
        ),
    ),
    click.option(
        "--experiment-prefix",
        default="",
        metavar="PREFIX",
        help="Prepend PREFIX to the names of the imported experiments (resolves name conflicts).",
    ),
    click.option(
        "--new-experiment-ids",
        is_flag=True,
        help=(
            "Give imported experiments whose id the destination already uses for another "
            "experiment new ids (resolves id conflicts; run ids are always kept)."
        ),
    ),
    click.option(
        "--model-prefix",
        default="",
        metavar="PREFIX",
        help=(
            "Prepend PREFIX to the names of the imported registered models (resolves name "
            "conflicts)."
        ),
    ),
    click.option(
        "--workers",
        type=click.IntRange(min=1, max=64),
        default=4,
        show_default=True,
        help="Threads listing and copying artifacts.",
    ),
    click.option("--quiet", "-q", is_flag=True, help="No progress bars."),
)

#: The names :func:`import_options` adds to a command's keyword arguments.
OPTION_NAMES = (
    "tracking_uri",
    "artifact_root",
    "experiments",
    "dry_run",
    "keep_artifact_locations",
    "experiment_prefix",
    "new_experiment_ids",
    "model_prefix",
    "workers",
    "quiet",
)


def import_options(fn: Callable[P, R]) -> Callable[P, R]:
    """Add the options every ``mltrail import`` subcommand takes (see :data:`OPTION_NAMES`)."""
    for option in reversed(_OPTIONS):
        fn = option(fn)
    return fn


def options_from(values: dict[str, Any]) -> ImportOptions:
    """The :class:`ImportOptions` of a subcommand's keyword arguments."""
    from mltrail.importers import ImportOptions  # the engine: when an import runs

    return ImportOptions(
        experiments=tuple(values["experiments"]),
        dry_run=values["dry_run"],
        keep_artifact_locations=values["keep_artifact_locations"],
        experiment_prefix=values["experiment_prefix"],
        model_prefix=values["model_prefix"],
        new_experiment_ids=values["new_experiment_ids"],
        artifact_root=values["artifact_root"],
        workers=values["workers"],
    )


class ClickProgress:
    """Progress bars on stderr, one per phase of the import."""

    def __init__(self) -> None:
        self._bar: Any = None

    def begin(self, label: str, total: int | None) -> None:
        self.end()
        if total is None:
            click.echo(f"{label}...", err=True)
            return
        self._bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
        self._bar.__enter__()

    def advance(self, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def end(self) -> None:
        if self._bar is not None:
            bar, self._bar = self._bar, None
            bar.__exit__(None, None, None)


def _cell(value: int | None) -> str:
    return "-" if value is None else str(value)


def echo_report(report: ImportReport) -> None:
    """The closing table: what the source holds, what the destination holds, and what differs;
    then what was written (or, for a dry run, would be)."""
    click.echo(f"Source:      {report.source_description}")
    click.echo(f"Destination: {report.destination_uri}")
    click.echo()
    rows = []
    from mltrail.importers._importer import COUNT_FIELDS  # the engine: when an import runs

    for name, label in COUNT_FIELDS:
        ours, theirs = getattr(report.source, name), getattr(report.destination, name)
        rows.append([label, _cell(ours), _cell(theirs), "" if ours == theirs else "differs"])
    echo_table(["", "source", "destination", ""], rows)
    click.echo()
    verb = "Would write" if report.dry_run else "Wrote"
    click.echo(
        f"{verb}: {report.experiments_written} experiments, {report.runs_written} runs "
        f"({report.runs_unchanged} unchanged), {report.logged_models_written} logged models, "
        f"{report.registered_models_written} registered models, "
        f"{report.artifact_files_copied} artifact files ({report.artifact_bytes_copied} bytes)."
    )
    if report.dry_run:
        click.echo("Dry run: nothing was written.")
    for conflict in report.conflicts:
        click.echo(f"Conflict: {conflict}")
    differences = report.differences()
    if not report.dry_run:
        if differences:
            click.echo("Differences:")
            for label, ours, theirs in differences:
                click.echo(f"  {label}: source {_cell(ours)}, destination {_cell(theirs)}")
        else:
            click.echo("The destination holds everything the source holds.")


def import_and_report(open_source: Callable[[], Source], values: dict[str, Any]) -> ImportReport:
    """Open the source, import it with the subcommand's options, print the table; the
    source is closed afterwards.  Returns the report (for the subcommand's tests)."""
    from mltrail.importers import run_import  # the engine: when an import runs

    uri = values["tracking_uri"]
    destination = resolve_tracking_uri(uri) if uri else get_tracking_uri()
    options = options_from(values)
    source = open_source()
    try:
        progress = None if values["quiet"] else ClickProgress()
        report = run_import(source, destination, options, progress)
    finally:
        source.close()
    echo_report(report)
    return report


def import_command(fn: Callable[P, R]) -> Callable[P, R]:
    """``import_options`` and error handling around a subcommand."""
    return import_options(handle_errors(fn))


@click.group("import")
def import_() -> None:
    """Bring another store's history in: MLflow, TensorBoard, another mltrail store.

    Ids are kept, artifacts copied (streamed) into the destination's artifact store, and a
    repeated import copies only what is new or changed. The destination is --tracking-uri,
    which must be a database URI (or a local folder).
    """


@import_.command("mltrail")
@click.argument("source_uri")
@import_command
def import_mltrail(source_uri: str, **values: Any) -> None:
    """Copy the mltrail store at SOURCE_URI into --tracking-uri.

    SOURCE_URI is a database URI (sqlite:///file.db, postgresql://..., mysql://...), a folder
    holding mltrail.db, or an mltrail tracking server (http://...), which is read through its
    API. For example a laptop's SQLite store into the team's PostgreSQL and S3:
    mltrail import mltrail sqlite:///mltrail.db --tracking-uri postgresql://host/db
    --artifact-root s3://bucket/mltrail
    """
    from mltrail.importers._mltrail import MltrailSource, resolve_source_uri, source_key

    resolved = resolve_source_uri(source_uri)
    uri = values["tracking_uri"]
    destination = resolve_tracking_uri(uri) if uri else get_tracking_uri()
    if source_key(resolved) == source_key(destination):
        raise click.UsageError(
            f"The source and the destination are the same store ({resolved}): give the "
            "destination as --tracking-uri"
        )
    import_and_report(lambda: MltrailSource(resolved), values)
