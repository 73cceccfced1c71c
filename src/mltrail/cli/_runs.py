"""``mltrail runs``: create, list, describe, delete and restore runs."""

from __future__ import annotations

import click

from mltrail.cli._common import (
    collect_pages,
    echo_json,
    echo_json_lines,
    echo_table,
    format_time,
    handle_errors,
    json_option,
    make_client,
    max_results_option,
    tracking_uri_option,
    view_option,
)
from mltrail.tracking._fluent import end_run, start_run
from mltrail.tracking._fluent_experiments import set_experiment
from mltrail.tracking._uri import set_tracking_uri

__all__ = ["runs"]

_STATUSES = ("finished", "failed", "killed")

run_id_option = click.option("--run-id", required=True, metavar="ID", help="The run's id.")


@click.group("runs")
def runs() -> None:
    """Create, list, describe, delete and restore runs."""


@runs.command("list")
@click.option(
    "--experiment-id",
    "-x",
    "experiment_ids",
    required=True,
    multiple=True,
    metavar="ID",
    help="The experiment whose runs to list; repeat to list runs of several experiments.",
)
@view_option
@click.option(
    "--filter",
    "filter_string",
    default=None,
    metavar="FILTER",
    help="A filter such as \"metrics.loss < 0.1 and params.model = 'cnn'\".",
)
@click.option(
    "--order-by",
    multiple=True,
    metavar="KEY",
    help="Sort key, e.g. 'metrics.loss ASC' or 'start_time DESC'; repeat for more keys.",
)
@max_results_option
@json_option
@tracking_uri_option
@handle_errors
def list_runs(
    experiment_ids: tuple[str, ...],
    view: str,
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int | None,
    as_json: bool,
    tracking_uri: str | None,
) -> None:
    """List the runs of experiments.

    Prints a table, or with --json one line per run, shaped as 'runs describe' prints it.
    """
    client = make_client(tracking_uri)
    ids = list(dict.fromkeys(experiment_ids))
    for experiment_id in ids:
        client.get_experiment(experiment_id)  # NotFound for an unknown id
    found = collect_pages(
        lambda size, token: client.search_runs(
            ids, filter_string or "", view, size, list(order_by) or None, token
        ),
        max_results,
        "Fetching runs",
    )
    if as_json:
        echo_json_lines(run.to_dictionary() for run in found)
        return
    echo_table(
        ["Run ID", "Experiment", "Name", "Status", "Stage", "Started"],
        (
            [
                run.info.run_id,
                run.info.experiment_id,
                run.info.run_name,
                run.info.status,
                run.info.lifecycle_stage,
                format_time(run.info.start_time),
            ]
            for run in found
        ),
    )


@runs.command("describe")
@run_id_option
@tracking_uri_option
@handle_errors
def describe(run_id: str, tracking_uri: str | None) -> None:
    """Print a run as JSON.

    The JSON holds the run's info, its latest metric values, params, tags and inputs.
    """
    echo_json(make_client(tracking_uri).get_run(run_id).to_dictionary())


@runs.command("delete")
@run_id_option
@tracking_uri_option
@handle_errors
def delete(run_id: str, tracking_uri: str | None) -> None:
    """Mark a run as deleted (undo with 'restore').

    Deleted runs are removed for good, with their artifacts, by 'mltrail gc'.
    """
    make_client(tracking_uri).delete_run(run_id)
    click.echo(f"Run {run_id} deleted")


@runs.command("restore")
@run_id_option
@tracking_uri_option
@handle_errors
def restore(run_id: str, tracking_uri: str | None) -> None:
    """Restore a deleted run."""
    make_client(tracking_uri).restore_run(run_id)
    click.echo(f"Run {run_id} restored")


def _tag_pairs(tags: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for text in tags:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise click.UsageError(f"Invalid tag {text!r}: expected key=value")
        if key in out:
            raise click.UsageError(f"Tag {key!r} is given twice")
        out[key] = value
    return out


@runs.command("create")
@click.option("--experiment-id", default=None, metavar="ID", help="The experiment of the run.")
@click.option(
    "--experiment-name",
    default=None,
    metavar="NAME",
    help="The experiment of the run, by name (created when no experiment has the name).",
)
@click.option("--run-name", default=None, metavar="NAME", help="The run's name.")
@click.option("--description", default=None, metavar="TEXT", help="The run's description.")
@click.option(
    "--tags", "-t", multiple=True, metavar="KEY=VALUE", help="A tag of the run; repeat for more."
)
@click.option(
    "--status",
    type=click.Choice(_STATUSES, case_sensitive=False),
    default="finished",
    show_default=True,
    metavar="STATUS",
    help="The status the run ends with: finished, failed or killed.",
)
@click.option(
    "--parent-run-id", default=None, metavar="ID", help="Make the run a child of this run."
)
@tracking_uri_option
@handle_errors
def create(
    experiment_id: str | None,
    experiment_name: str | None,
    run_name: str | None,
    description: str | None,
    tags: tuple[str, ...],
    status: str,
    parent_run_id: str | None,
    tracking_uri: str | None,
) -> None:
    """Create a run and end it at once with --status; prints its id, experiment, status and
    name as JSON.  Give exactly one of --experiment-id and --experiment-name.

    Example: mltrail runs create --experiment-name demo --run-name baseline -t team=vision
    """
    if (experiment_id is None) == (experiment_name is None):
        raise click.UsageError("Give exactly one of --experiment-id and --experiment-name.")
    tag_dict = _tag_pairs(tags)
    if tracking_uri:
        set_tracking_uri(tracking_uri)
    if experiment_name is not None:
        experiment_id = set_experiment(experiment_name).experiment_id
    run = start_run(
        experiment_id=experiment_id,
        run_name=run_name,
        nested=parent_run_id is not None,
        parent_run_id=parent_run_id,
        tags=tag_dict,
        description=description,
    )
    end_run(status.upper())
    echo_json(
        {
            "run_id": run.info.run_id,
            "experiment_id": run.info.experiment_id,
            "status": status.upper(),
            "run_name": run_name,
        }
    )
