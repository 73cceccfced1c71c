"""Registry commands: ``mltrail models register|list|describe|set-alias|delete-alias|
transition|delete`` and ``mltrail webhooks create|list|deliveries|test|update|delete``.

The ``models`` group itself (serve, predict, ...) lives in ``_models``; the root command adds
:data:`MODEL_COMMANDS` to it.
"""

from __future__ import annotations

import contextlib

import click

from mltrail._exceptions import AlreadyExists
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
)
from mltrail.registry import parse_runs_uri

__all__ = ["MODEL_COMMANDS", "webhooks"]

name_option = click.option(
    "--name", "-n", required=True, metavar="NAME", help="The registered model's name."
)
version_option = click.option(
    "--version", "-v", required=True, metavar="N", help="The version number."
)
alias_option = click.option(
    "--alias", "-a", required=True, metavar="ALIAS", help="An alias such as 'champion'."
)


def _tag_pairs(values: tuple[str, ...]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="'--tag'")
        tags[key] = value
    return tags


@click.command("register")
@click.option(
    "--model-uri",
    "-m",
    required=True,
    metavar="URI",
    help="runs:/<run_id>/<path>, models:/<name>/<version>, models:/<name>@<alias>, or a "
    "location inside a run's artifacts (with --run-id).",
)
@name_option
@click.option("--run-id", default=None, metavar="ID", help="The run the files belong to.")
@click.option("--description", "-d", default=None, help="A description of the new version.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A version tag; repeat.")
@tracking_uri_option
@handle_errors
def register(
    model_uri: str,
    name: str,
    run_id: str | None,
    description: str | None,
    tags: tuple[str, ...],
    tracking_uri: str | None,
) -> None:
    """Register a model as the next version of NAME (the model is created if missing)."""
    client = make_client(tracking_uri)
    with contextlib.suppress(AlreadyExists):
        client.create_registered_model(name)
    runs = parse_runs_uri(model_uri)
    mv = client.create_model_version(
        name,
        model_uri,
        run_id=run_id or (runs[0] if runs else None),
        tags=_tag_pairs(tags),
        description=description,
    )
    click.echo(f"Registered version {mv.version} of model {mv.name!r}")


@click.command("list")
@click.option(
    "--filter",
    "filter_string",
    default=None,
    metavar="FILTER",
    help="A filter such as \"name LIKE 'churn%'\" or \"tags.team = 'risk'\".",
)
@click.option(
    "--order-by", multiple=True, metavar="KEY", help="Sort key, e.g. 'name ASC'; repeatable."
)
@max_results_option
@json_option
@tracking_uri_option
@handle_errors
def list_models(
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int | None,
    as_json: bool,
    tracking_uri: str | None,
) -> None:
    """List registered models with their aliases and newest versions."""
    client = make_client(tracking_uri)
    found = collect_pages(
        lambda size, token: client.search_registered_models(
            filter_string, size, list(order_by) or None, token
        ),
        max_results,
        "Fetching models",
    )
    if as_json:
        echo_json_lines(m.to_dict() for m in found)
        return
    echo_table(
        ["Name", "Latest", "Aliases", "Updated", "Description"],
        (
            [
                m.name,
                str(max((v.version for v in m.latest_versions), default="")),
                ", ".join(f"{a}={v}" for a, v in m.aliases.items()),
                format_time(m.last_updated_timestamp),
                (m.description or "").splitlines()[0] if m.description else "",
            ]
            for m in found
        ),
    )


@click.command("describe")
@name_option
@click.option("--version", "-v", default=None, metavar="N", help="One version instead.")
@json_option
@tracking_uri_option
@handle_errors
def describe(name: str, version: str | None, as_json: bool, tracking_uri: str | None) -> None:
    """Show a registered model and its versions, or one version (--version)."""
    client = make_client(tracking_uri)
    if version is not None:
        mv = client.get_model_version(name, version)
        data = mv.to_dict()
        data["download_uri"] = client.get_model_version_download_uri(name, version)
        if as_json:
            echo_json(data)
            return
        for key in ("name", "version", "current_stage", "status", "source", "download_uri"):
            click.echo(f"{key}: {data.get(key, '')}")
        click.echo(f"run_id: {mv.run_id or ''}")
        click.echo(f"aliases: {', '.join(mv.aliases)}")
        click.echo(f"created: {format_time(mv.creation_timestamp)}")
        click.echo(f"description: {mv.description or ''}")
        for key, value in sorted(mv.tags.items()):
            click.echo(f"tag {key}: {value}")
        return
    model = client.get_registered_model(name)
    versions = collect_pages(
        lambda size, token: client.search_model_versions(
            f"name = '{_quoted(model.name)}'", size, ["version_number DESC"], token
        ),
        None,
        "Fetching versions",
    )
    if as_json:
        data = model.to_dict()
        data["versions"] = [v.to_dict() for v in versions]
        echo_json(data)
        return
    click.echo(f"name: {model.name}")
    click.echo(f"description: {model.description or ''}")
    click.echo(f"created: {format_time(model.creation_timestamp)}")
    for key, value in sorted(model.tags.items()):
        click.echo(f"tag {key}: {value}")
    click.echo("")
    echo_table(
        ["Version", "Stage", "Aliases", "Run", "Created", "Source"],
        (
            [
                str(v.version),
                v.current_stage,
                ", ".join(v.aliases),
                v.run_id or "",
                format_time(v.creation_timestamp),
                v.source or "",
            ]
            for v in versions
        ),
    )


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


@click.command("set-alias")
@name_option
@alias_option
@version_option
@tracking_uri_option
@handle_errors
def set_alias(name: str, alias: str, version: str, tracking_uri: str | None) -> None:
    """Point ALIAS at a version (moving it from the version it named before)."""
    make_client(tracking_uri).set_registered_model_alias(name, alias, version)
    click.echo(f"Alias {alias!r} of model {name!r} now names version {version}")


@click.command("delete-alias")
@name_option
@alias_option
@tracking_uri_option
@handle_errors
def delete_alias(name: str, alias: str, tracking_uri: str | None) -> None:
    """Remove an alias (the version stays)."""
    make_client(tracking_uri).delete_registered_model_alias(name, alias)
    click.echo(f"Alias {alias!r} of model {name!r} deleted")


@click.command("transition")
@name_option
@version_option
@click.option(
    "--stage",
    "-s",
    required=True,
    metavar="STAGE",
    help="None, Staging, Production or Archived (any capitalisation).",
)
@click.option(
    "--archive-existing-versions",
    is_flag=True,
    help="Move the other versions in that stage (Staging or Production) to Archived.",
)
@tracking_uri_option
@handle_errors
def transition(
    name: str,
    version: str,
    stage: str,
    archive_existing_versions: bool,
    tracking_uri: str | None,
) -> None:
    """Move a version to a stage."""
    mv = make_client(tracking_uri).transition_model_version_stage(
        name, version, stage, archive_existing_versions
    )
    click.echo(f"Version {mv.version} of model {mv.name!r} is now in stage {mv.current_stage}")


@click.command("delete")
@name_option
@click.option("--version", "-v", default=None, metavar="N", help="Delete only this version.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@tracking_uri_option
@handle_errors
def delete(name: str, version: str | None, yes: bool, tracking_uri: str | None) -> None:
    """Delete a registered model with all its versions, or one version (--version).

    The files stay in the runs' artifacts.
    """
    client = make_client(tracking_uri)
    if version is not None:
        client.delete_model_version(name, version)
        click.echo(f"Version {version} of model {name!r} deleted")
        return
    client.get_registered_model(name)  # NotFound before asking
    if not yes:
        click.confirm(f"Delete model {name!r} and all its versions?", abort=True)
    client.delete_registered_model(name)
    click.echo(f"Model {name!r} deleted")


MODEL_COMMANDS: tuple[click.Command, ...] = (
    register,
    list_models,
    describe,
    set_alias,
    delete_alias,
    transition,
    delete,
)


# -- webhooks ---------------------------------------------------------------------------------
webhook_id_option = click.option(
    "--id", "webhook_id", required=True, metavar="ID", help="The webhook's id."
)


@click.group("webhooks")
def webhooks() -> None:
    """Send registry events (new versions, aliases, tags, stages) to HTTP endpoints."""


@webhooks.command("create")
@click.option("--name", "-n", required=True, help="A name for the webhook.")
@click.option("--url", required=True, metavar="URL", help="The http(s) endpoint to POST to.")
@click.option(
    "--event",
    "events",
    required=True,
    multiple=True,
    metavar="EVENT",
    help="An event such as model_version.created or model_version_alias.created; repeat.",
)
@click.option("--description", default=None, help="What the webhook is for.")
@click.option(
    "--secret",
    envvar="MLTRAIL_WEBHOOK_SECRET",
    show_envvar=True,
    default=None,
    help="Signs each delivery (HMAC-SHA256, header X-MLflow-Signature).",
)
@tracking_uri_option
@handle_errors
def create_webhook(
    name: str,
    url: str,
    events: tuple[str, ...],
    description: str | None,
    secret: str | None,
    tracking_uri: str | None,
) -> None:
    """Create a webhook and print its id."""
    hook = make_client(tracking_uri).create_webhook(name, url, list(events), description, secret)
    click.echo(f"Webhook {hook.name!r} created with id {hook.webhook_id}")


@webhooks.command("list")
@json_option
@tracking_uri_option
@handle_errors
def list_webhooks(as_json: bool, tracking_uri: str | None) -> None:
    """List webhooks."""
    client = make_client(tracking_uri)
    found = collect_pages(
        lambda size, token: client.list_webhooks(size, token), None, "Fetching webhooks"
    )
    if as_json:
        echo_json_lines(h.to_dict() for h in found)
        return
    echo_table(
        ["ID", "Name", "Status", "URL", "Events"],
        (
            [h.webhook_id, h.name, h.status, h.url, ", ".join(str(e) for e in h.events)]
            for h in found
        ),
    )


@webhooks.command("deliveries")
@webhook_id_option
@max_results_option
@json_option
@tracking_uri_option
@handle_errors
def deliveries(
    webhook_id: str, max_results: int | None, as_json: bool, tracking_uri: str | None
) -> None:
    """The deliveries to a webhook, newest first, with their outcome."""
    client = make_client(tracking_uri)
    found = collect_pages(
        lambda size, token: client.list_webhook_deliveries(webhook_id, size, token),
        max_results,
        "Fetching deliveries",
    )
    if as_json:
        echo_json_lines(d.to_dict() for d in found)
        return
    echo_table(
        ["Delivery", "Event", "Status", "Attempts", "Last answer", "Created"],
        (
            [
                d.delivery_id,
                d.event,
                d.status,
                str(d.attempts),
                d.last_error or ("" if d.last_status_code is None else str(d.last_status_code)),
                format_time(d.creation_timestamp),
            ]
            for d in found
        ),
    )


@webhooks.command("test")
@webhook_id_option
@click.option("--event", default=None, metavar="EVENT", help="The example event to send.")
@tracking_uri_option
@handle_errors
def test_webhook(webhook_id: str, event: str | None, tracking_uri: str | None) -> None:
    """Send an example event now and show the answer (exit status 1 when it failed)."""
    result = make_client(tracking_uri).test_webhook(webhook_id, event)
    if result.success:
        click.echo(f"Delivered: HTTP {result.response_status}")
        return
    click.echo(f"Failed: {result.error_message}", err=True)
    raise SystemExit(1)


@webhooks.command("update")
@webhook_id_option
@click.option("--name", default=None, help="A new name.")
@click.option("--url", default=None, metavar="URL", help="A new http(s) endpoint.")
@click.option("--event", "events", multiple=True, metavar="EVENT", help="Replaces the events.")
@click.option(
    "--status",
    type=click.Choice(["ACTIVE", "DISABLED"], case_sensitive=False),
    default=None,
    help="DISABLED webhooks receive nothing until made ACTIVE again.",
)
@tracking_uri_option
@handle_errors
def update_webhook(
    webhook_id: str,
    name: str | None,
    url: str | None,
    events: tuple[str, ...],
    status: str | None,
    tracking_uri: str | None,
) -> None:
    """Change a webhook's name, URL, events or status."""
    hook = make_client(tracking_uri).update_webhook(
        webhook_id, name=name, url=url, events=list(events) or None, status=status
    )
    click.echo(f"Webhook {hook.webhook_id} updated ({hook.status})")


@webhooks.command("delete")
@webhook_id_option
@tracking_uri_option
@handle_errors
def delete_webhook(webhook_id: str, tracking_uri: str | None) -> None:
    """Delete a webhook and its delivery log."""
    make_client(tracking_uri).delete_webhook(webhook_id)
    click.echo(f"Webhook {webhook_id} deleted")
