"""``mltrail import mlflow SOURCE``: MLflow's history (a database, an ``mlruns`` folder or a
running tracking server) into an mltrail store."""

from __future__ import annotations

import os
from typing import Any

import click

from mltrail._exceptions import InvalidArgument
from mltrail.cli._import import import_and_report, import_command
from mltrail.tracking._uri import get_tracking_uri, resolve_tracking_uri

__all__ = ["import_mlflow"]


def _place(uri: str) -> str:
    """Where a store lives, to tell whether two URIs name the same one: a database file's or a
    folder's real path, else the URI itself."""
    if uri.startswith("sqlite:///"):
        rest = uri[len("sqlite:///") :].split("?", 1)[0]
        return os.path.realpath("/" + rest.lstrip("/") if uri.startswith("sqlite:////") else rest)
    if "://" in uri and not uri.lower().startswith("file:"):
        return uri.rstrip("/")
    from mltrail.importers._mlflow_common import local_path  # the importers: when one runs

    path = local_path(uri)
    return os.path.realpath(path) if path is not None else uri


def check_destination(source: str, destination: str) -> None:
    """Refuse a destination that is the MLflow store itself or lies inside its folder (an
    ``MLFLOW_TRACKING_URI`` still pointing at it, say): the source is never written to."""
    src, dst = _place(source), _place(destination)
    if src == dst or dst.startswith(src.rstrip("/") + "/"):
        raise InvalidArgument(
            f"The destination {destination} is the MLflow store being imported (or inside its "
            "folder): name another one with --tracking-uri, e.g. --tracking-uri "
            "sqlite:///mltrail.db"
        )


@click.command("mlflow")
@click.argument("source")
@click.option(
    "--artifacts-destination",
    metavar="URI",
    default=None,
    help=(
        "Where the MLflow server kept proxied artifacts (its --artifacts-destination: a folder "
        "or s3://...): needed for runs whose artifact location is mlflow-artifacts:/... when "
        "SOURCE is the server's database or folder rather than the running server."
    ),
)
@import_command
def import_mlflow(source: str, artifacts_destination: str | None, **values: Any) -> None:
    """Import MLflow's history from SOURCE into --tracking-uri.

    SOURCE is an MLflow database (sqlite:///mlflow.db or a path to the file,
    postgresql://..., mysql://...; any schema from MLflow 1.x to 3.x), an mlruns folder
    (./mlruns, file:///...), or a running MLflow tracking server (http://host:5000), read
    through its REST API. The source is only read, never written.

    Experiments, runs (ids kept), params, tags, every metric point, datasets, MLflow 3's
    logged models, registered models with their versions, aliases and stages, and artifacts
    are brought over; a repeated import copies only what is new or changed. For example:
    mltrail import mlflow sqlite:///mlflow.db --tracking-uri sqlite:///mltrail.db
    """
    from mltrail.importers._mlflow import open_mlflow_source  # SQLAlchemy and httpx: not at --help

    uri = values["tracking_uri"]
    destination = resolve_tracking_uri(uri) if uri else get_tracking_uri()
    check_destination(source, destination)
    import_and_report(
        lambda: open_mlflow_source(source, artifacts_destination=artifacts_destination), values
    )
