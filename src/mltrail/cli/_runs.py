"""``mltrail runs``: list, describe, delete and restore runs."""

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

__all__ = ["runs"]

run_id_option = click.option("--run-id", required=True, metavar="ID", help="The run's id.")


@click.group("runs")
def runs() -> None:
    """List, describe, delete and restore runs."""


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
