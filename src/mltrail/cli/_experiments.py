"""``mltrail experiments``: create, search, get, delete, restore and rename experiments, and
export an experiment's runs as CSV."""

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
from mltrail.tracking._dataframe import runs_to_dataframe

__all__ = ["experiments"]

experiment_id_option = click.option(
    "--experiment-id", "-x", required=True, metavar="ID", help="The experiment's id."
)


def _absolute_location(location: str | None) -> str | None:
    """A local folder becomes an absolute ``file://`` URI; URIs pass through unchanged."""
    if not location or "://" in location or location.startswith("file:"):
        return location
    from pathlib import Path

    return Path(location).expanduser().resolve().as_uri()


@click.group("experiments")
def experiments() -> None:
    """Create, search, get, delete, restore and rename experiments; export runs as CSV."""


@experiments.command("create")
@click.option(
    "--experiment-name", "-n", required=True, metavar="NAME", help="A name no experiment has yet."
)
@click.option(
    "--artifact-location",
    "-l",
    default=None,
    metavar="URI",
    help=(
        "Where the experiment's runs keep their artifacts: a URI or a local folder. "
        "Default: a folder named after the experiment id below the store's artifact root."
    ),
)
@tracking_uri_option
@handle_errors
def create(experiment_name: str, artifact_location: str | None, tracking_uri: str | None) -> None:
    """Create an experiment and print its id."""
    client = make_client(tracking_uri)
    experiment_id = client.create_experiment(experiment_name, _absolute_location(artifact_location))
    click.echo(f"Experiment {experiment_name!r} created with id {experiment_id}")


@experiments.command("search")
@view_option
@click.option(
    "--filter",
    "filter_string",
    default=None,
    metavar="FILTER",
    help="A filter such as \"name LIKE 'fraud%'\" or \"tags.team = 'risk'\".",
)
@click.option(
    "--order-by",
    multiple=True,
    metavar="KEY",
    help="Sort key, e.g. 'name ASC' or 'creation_time DESC'; repeat for more keys.",
)
@max_results_option
@json_option
@tracking_uri_option
@handle_errors
def search(
    view: str,
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int | None,
    as_json: bool,
    tracking_uri: str | None,
) -> None:
    """List experiments.

    Prints a table, or with --json one line per experiment.
    """
    client = make_client(tracking_uri)
    found = collect_pages(
        lambda size, token: client.search_experiments(
            view, size, filter_string, list(order_by) or None, token
        ),
        max_results,
        "Fetching experiments",
    )
    if as_json:
        echo_json_lines(exp.to_dict() for exp in found)
        return
    echo_table(
        ["ID", "Name", "Stage", "Created", "Artifact location"],
        (
            [
                exp.experiment_id,
                exp.name,
                exp.lifecycle_stage,
                format_time(exp.creation_time),
                exp.artifact_location,
            ]
            for exp in found
        ),
    )


@experiments.command("delete")
@experiment_id_option
@tracking_uri_option
@handle_errors
def delete(experiment_id: str, tracking_uri: str | None) -> None:
    """Mark an experiment and its runs as deleted (undo with 'restore').

    Deleted experiments and runs are removed for good, with their artifacts, by 'mltrail gc'.
    """
    make_client(tracking_uri).delete_experiment(experiment_id)
    click.echo(f"Experiment {experiment_id} deleted")


@experiments.command("restore")
@experiment_id_option
@tracking_uri_option
@handle_errors
def restore(experiment_id: str, tracking_uri: str | None) -> None:
    """Restore a deleted experiment and its runs."""
    make_client(tracking_uri).restore_experiment(experiment_id)
    click.echo(f"Experiment {experiment_id} restored")


@experiments.command("rename")
@experiment_id_option
@click.option("--new-name", required=True, metavar="NAME", help="The experiment's new name.")
@tracking_uri_option
@handle_errors
def rename(experiment_id: str, new_name: str, tracking_uri: str | None) -> None:
    """Rename an active experiment."""
    make_client(tracking_uri).rename_experiment(experiment_id, new_name)
    click.echo(f"Experiment {experiment_id} renamed to {new_name!r}")


@experiments.command("get")
@click.option("--experiment-id", "-x", default=None, metavar="ID", help="The experiment's id.")
@click.option(
    "--experiment-name", "-n", default=None, metavar="NAME", help="The experiment's name."
)
@click.option(
    "--output",
    type=click.Choice(["json", "table"]),
    default="table",
    show_default=True,
    help="table: one field a line; json: the experiment as a JSON object.",
)
@tracking_uri_option
@handle_errors
def get(
    experiment_id: str | None, experiment_name: str | None, output: str, tracking_uri: str | None
) -> None:
    """Show an experiment, named by id or by name (exactly one of them): its name, artifact
    location, lifecycle stage, creation and last update times, and tags.

    Example: mltrail experiments get -n "My Experiment" --output json
    """
    if (experiment_id is None) == (experiment_name is None):
        raise click.UsageError("Give exactly one of --experiment-id and --experiment-name.")
    client = make_client(tracking_uri)
    if experiment_id is not None:
        exp = client.get_experiment(experiment_id)
    else:
        found = client.get_experiment_by_name(str(experiment_name))
        if found is None:
            raise click.ClickException(f"No experiment is named {experiment_name!r}")
        exp = found
    if output == "json":
        echo_json(exp.to_dict())
        return
    rows = [
        ("Experiment ID", exp.experiment_id),
        ("Name", exp.name),
        ("Artifact Location", exp.artifact_location),
        ("Lifecycle Stage", exp.lifecycle_stage),
        ("Creation Time", exp.creation_time or "N/A"),  # MLflow's: milliseconds since 1970
        ("Last Update Time", exp.last_update_time or "N/A"),
        ("Tags", ", ".join(f"{k}={v}" for k, v in sorted(exp.tags.items()))),
    ]
    width = max(len(name) for name, _ in rows) + 2
    for name, value in rows:
        click.echo(f"{name.ljust(width)}: {value}")


@experiments.command("csv")
@experiment_id_option
@click.option(
    "--filename",
    "-o",
    default=None,
    metavar="PATH",
    help="The CSV file to write. Default: standard output.",
)
@tracking_uri_option
@handle_errors
def csv(experiment_id: str, filename: str | None, tracking_uri: str | None) -> None:
    """Export the experiment's active runs as CSV: one row per run, with the columns of
    search_runs' table (run_id, status, times, metrics.*, params.*, tags.*)."""
    client = make_client(tracking_uri)
    client.get_experiment(experiment_id)  # an unknown id is an error, not an empty file
    frame = runs_to_dataframe(
        collect_pages(
            lambda size, token: client.search_runs(
                [experiment_id], max_results=size, page_token=token
            ),
            None,
            "Fetching runs",
        )
    )
    if filename:
        frame.to_csv(filename, index=False)
        click.echo(f"Runs of experiment {experiment_id} written to {filename}", err=True)
    else:
        click.echo(frame.to_csv(index=False), nl=False)
