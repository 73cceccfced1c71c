"""``mltrail db``: maintain the tracking database's schema."""

from __future__ import annotations

import click
from click.core import ParameterSource

from mltrail.cli._common import handle_errors, tracking_uri_option
from mltrail.store import upgrade_database
from mltrail.tracking._uri import get_tracking_uri, resolve_tracking_uri

__all__ = ["db"]


@click.group("db")
def db() -> None:
    """Maintain the tracking database."""


def _is_mysql(uri: str) -> bool:
    return uri.split(":", 1)[0].split("+", 1)[0].lower() in ("mysql", "mariadb")


@db.command("upgrade")
@click.argument("uri", required=False)
@click.option(
    "--no-backup",
    is_flag=True,
    help="Do not copy an SQLite file before upgrading it (other databases are never copied).",
)
@tracking_uri_option
@handle_errors
def upgrade(uri: str | None, no_backup: bool, tracking_uri: str | None) -> None:
    """Upgrade the database at URI to this mltrail's schema.

    URI defaults to --tracking-uri (or its environment variables). All pending migrations run
    in one transaction on SQLite and PostgreSQL, and an SQLite file is first copied beside
    itself (<file>.bak-<revision>). MySQL and MariaDB cannot roll schema changes back: back
    the database up first. An MLflow database or mlruns folder is left untouched: the error
    prints the `mltrail import mlflow` command that copies it into an mltrail store.
    """
    ctx = click.get_current_context()
    if uri and ctx.get_parameter_source("tracking_uri") != ParameterSource.COMMANDLINE:
        tracking_uri = None  # the argument wins over the environment
    given = {resolve_tracking_uri(u) for u in (uri, tracking_uri) if u}
    if len(given) > 1:
        raise click.UsageError("Give the database either as URI or as --tracking-uri, not both")
    target = given.pop() if given else get_tracking_uri()

    def warn() -> None:  # once the database is known to be an older mltrail's, not MLflow's
        if _is_mysql(target):
            click.echo(
                "Warning: MySQL and MariaDB commit every schema change at once, so a failed "
                "upgrade cannot be rolled back and may leave the database half-upgraded. "
                "Make sure a backup of the database exists before upgrading.",
                err=True,
            )

    result = upgrade_database(target, backup=not no_backup, before_migrating=warn)
    if result.from_revision == result.to_revision:
        click.echo(f"The database is already at revision {result.to_revision}: nothing to do")
        return
    if result.from_revision is None:
        click.echo(f"Created a new database at revision {result.to_revision}")
        return
    click.echo(
        f"Upgraded the database from revision {result.from_revision} to {result.to_revision}"
    )
    if result.backup_path:
        click.echo(f"Backup of the previous database: {result.backup_path}")
    elif not _is_mysql(target):
        click.echo("No backup was made")
