"""The root ``mltrail`` command group and its subcommands."""

from __future__ import annotations

import click

from mltrail._doctor import doctor_report
from mltrail.cli._artifacts import artifacts
from mltrail.cli._auth import auth
from mltrail.cli._db import db
from mltrail.cli._experiments import experiments
from mltrail.cli._gc import gc
from mltrail.cli._import import import_
from mltrail.cli._import_mlflow import import_mlflow
from mltrail.cli._import_tensorboard import import_tensorboard
from mltrail.cli._models import models
from mltrail.cli._projects import run
from mltrail.cli._registry import MODEL_COMMANDS, webhooks
from mltrail.cli._runs import runs
from mltrail.cli._server import server, ui

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mltrail")
def cli() -> None:
    """mltrail: track experiments, manage models, compatible with MLflow."""


cli.add_command(experiments)
cli.add_command(run)
cli.add_command(runs)
cli.add_command(artifacts)
cli.add_command(db)
cli.add_command(gc)
import_.add_command(import_mlflow)
import_.add_command(import_tensorboard)
cli.add_command(import_)
for _command in MODEL_COMMANDS:
    models.add_command(_command)
cli.add_command(models)
cli.add_command(webhooks)
cli.add_command(auth)
cli.add_command(server)
cli.add_command(ui)


@cli.command("doctor")
@click.option(
    "--mask-envs",
    is_flag=True,
    help="Show the MLFLOW_*/MLTRAIL_* variables' values as *** and remove passwords from the "
    "URIs (the output is meant for a bug report).",
)
def doctor(mask_envs: bool) -> None:
    """Print what a bug report needs: system, Python and mltrail versions, the tracking and
    registry URIs, the environment's MLFLOW_*/MLTRAIL_* variables and the installed versions
    of mltrail's dependencies."""
    click.echo(doctor_report(mask_envs))


def main() -> None:
    cli()
