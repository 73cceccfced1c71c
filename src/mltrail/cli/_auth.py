"""``mltrail auth``: users, permissions, access tokens and the audit trail of a server.

Each command calls a tracking server started with ``--app-name basic-auth`` (``--tracking-uri``
or ``MLTRAIL_TRACKING_URI``/``MLFLOW_TRACKING_URI``), as the signed-in user named by
``MLTRAIL_TRACKING_USERNAME``/``PASSWORD`` (or MLflow's names), or with an access token in
``..._TRACKING_TOKEN``: the same calls as MLflow's auth client.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from mltrail.cli._common import TRACKING_URI_ENV_VARS, echo_table, format_time, handle_errors
from mltrail.entities._auth import ResourceType
from mltrail.store import AuthClient

__all__ = ["auth"]

_RESOURCE_TYPES = click.Choice([t.value for t in ResourceType])
_PERMISSIONS = click.Choice(["READ", "USE", "EDIT", "MANAGE", "NO_PERMISSIONS"])

server_option = click.option(
    "--tracking-uri",
    envvar=list(TRACKING_URI_ENV_VARS),
    show_envvar=True,
    default=None,
    metavar="URI",
    help=("The tracking server to manage, started with --app-name basic-auth: http://host:port."),
)


@contextmanager
def _client(tracking_uri: str | None) -> Iterator[AuthClient]:
    if not tracking_uri:
        raise click.UsageError(
            "name the server with --tracking-uri or MLTRAIL_TRACKING_URI (http://host:port)"
        )
    client = AuthClient(tracking_uri)
    try:
        yield client
    finally:
        client.close()


@click.group("auth")
def auth() -> None:
    """Users, permissions, access tokens and the audit trail of an authenticating server."""


@auth.command("create-user")
@click.argument("username")
@click.password_option(help="The new user's password (asked for when not given).")
@click.option("--admin", is_flag=True, help="Make the new user an admin.")
@server_option
@handle_errors
def create_user(username: str, password: str, admin: bool, tracking_uri: str | None) -> None:
    """Create a user (admins only)."""
    with _client(tracking_uri) as client:
        user = client.create_user(username, password)
        if admin:
            client.update_user_admin(username, True)
    click.echo(f"Created user {user.username!r} (id {user.id}{', admin' if admin else ''})")


@auth.command("list-users")
@server_option
@handle_errors
def list_users(tracking_uri: str | None) -> None:
    """List the users (admins only)."""
    with _client(tracking_uri) as client:
        users = client.list_users()
    rows = [(str(u.id), u.username, str(u.is_admin)) for u in users]
    echo_table(["ID", "USERNAME", "ADMIN"], rows)


@auth.command("update-password")
@click.argument("username")
@click.password_option(help="The new password (asked for when not given).")
@click.option(
    "--current-password",
    default=None,
    help="Your current password: needed when changing your own.",
)
@server_option
@handle_errors
def update_password(
    username: str, password: str, current_password: str | None, tracking_uri: str | None
) -> None:
    """Change a password (admins: anyone's; a user: their own, with --current-password)."""
    with _client(tracking_uri) as client:
        client.update_user_password(username, password, current_password)
    click.echo(f"Changed the password of {username!r}")


@auth.command("set-admin")
@click.argument("username")
@click.argument("is_admin", type=click.BOOL)
@server_option
@handle_errors
def set_admin(username: str, is_admin: bool, tracking_uri: str | None) -> None:
    """Make USERNAME an admin (true) or not (false). Admins only."""
    with _client(tracking_uri) as client:
        client.update_user_admin(username, is_admin)
    click.echo(f"{username!r} is {'now' if is_admin else 'no longer'} an admin")


@auth.command("delete-user")
@click.argument("username")
@click.confirmation_option(prompt="Delete this user, their permissions and tokens?")
@server_option
@handle_errors
def delete_user(username: str, tracking_uri: str | None) -> None:
    """Delete a user with their permissions and tokens (admins only)."""
    with _client(tracking_uri) as client:
        client.delete_user(username)
    click.echo(f"Deleted user {username!r}")


@auth.command("grant")
@click.argument("username")
@click.argument("resource_type", type=_RESOURCE_TYPES)
@click.argument("resource_id")
@click.argument("permission", type=_PERMISSIONS)
@server_option
@handle_errors
def grant(
    username: str, resource_type: str, resource_id: str, permission: str, tracking_uri: str | None
) -> None:
    """Grant USERNAME PERMISSION on a resource (an experiment id, a registered model's name,
    a logged model id, a webhook id). Needs MANAGE on the resource, or an admin."""
    with _client(tracking_uri) as client:
        client.grant_user_permission(username, resource_type, resource_id, permission)
    click.echo(f"Granted {permission} on {resource_type} {resource_id!r} to {username!r}")


@auth.command("revoke")
@click.argument("username")
@click.argument("resource_type", type=_RESOURCE_TYPES)
@click.argument("resource_id")
@server_option
@handle_errors
def revoke(username: str, resource_type: str, resource_id: str, tracking_uri: str | None) -> None:
    """Take USERNAME's explicit permission on a resource back (the default applies again)."""
    with _client(tracking_uri) as client:
        client.revoke_user_permission(username, resource_type, resource_id)
    click.echo(f"Revoked the permission of {username!r} on {resource_type} {resource_id!r}")


@auth.command("permissions")
@click.argument("username")
@click.option(
    "--resource-type",
    type=_RESOURCE_TYPES,
    default=None,
    metavar="TYPE",
    help="experiment, registered_model or logged_model: check one resource.",
)
@click.option("--resource-id", default=None, help="The resource to check (with --resource-type).")
@server_option
@handle_errors
def permissions(
    username: str, resource_type: str | None, resource_id: str | None, tracking_uri: str | None
) -> None:
    """List USERNAME's explicit grants, or with --resource-type/--resource-id their effective
    permission on that resource."""
    with _client(tracking_uri) as client:
        if resource_type and resource_id:
            answer = client.get_user_permission(username, resource_type, resource_id)
            click.echo(answer.permission)
            return
        if resource_type or resource_id:
            raise click.UsageError("give both --resource-type and --resource-id, or neither")
        grants = client.list_user_permissions(username)
    echo_table(
        ["RESOURCE TYPE", "RESOURCE", "PERMISSION"],
        [(g.resource_type.value, g.resource_id, g.permission.name) for g in grants],
    )


@auth.command("create-token")
@click.argument("name")
@click.option("--days", type=click.IntRange(min=1), default=None, help="Lifetime in days.")
@click.option("--user", default=None, help="Whose token (admins only; default: yourself).")
@server_option
@handle_errors
def create_token(name: str, days: int | None, user: str | None, tracking_uri: str | None) -> None:
    """Create a personal access token and print it (this once: it cannot be shown again)."""
    with _client(tracking_uri) as client:
        secret, token = client.create_token(name, days, user)
    click.echo(secret)
    expires = format_time(token.expires_at_ms) or "never"
    click.echo(f"Token {token.id} of {token.username!r}, expires {expires}", err=True)


@auth.command("list-tokens")
@click.option("--user", default=None, help="Whose tokens (admins; default: yours, or all).")
@server_option
@handle_errors
def list_tokens(user: str | None, tracking_uri: str | None) -> None:
    """List access tokens (never their secrets)."""
    with _client(tracking_uri) as client:
        tokens = client.list_tokens(user)
    echo_table(
        ["ID", "USER", "NAME", "CREATED", "EXPIRES", "LAST USED", "REVOKED"],
        [
            (
                str(t.id),
                t.username,
                t.name,
                format_time(t.created_at_ms),
                format_time(t.expires_at_ms),
                format_time(t.last_used_at_ms),
                str(t.revoked),
            )
            for t in tokens
        ],
    )


@auth.command("revoke-token")
@click.argument("token_id", type=int)
@server_option
@handle_errors
def revoke_token(token_id: int, tracking_uri: str | None) -> None:
    """Revoke an access token (its owner or an admin)."""
    with _client(tracking_uri) as client:
        client.revoke_token(token_id)
    click.echo(f"Revoked token {token_id}")


@auth.command("audit")
@click.option("--user", default=None, help="Only this user's actions.")
@click.option(
    "--action",
    default=None,
    help="Only this action (run.delete); a name without a dot (permission) takes every "
    "action on that kind of thing.",
)
@click.option("--resource-type", default=None, help="Only actions on this kind of resource.")
@click.option("--resource-id", default=None, help="Only actions on the resource of this id.")
@click.option(
    "--max-results",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="Events per page.",
)
@click.option("--page-token", default=None, help="Continue after an earlier page.")
@server_option
@handle_errors
def audit(
    user: str | None,
    action: str | None,
    resource_type: str | None,
    resource_id: str | None,
    max_results: int,
    page_token: str | None,
    tracking_uri: str | None,
) -> None:
    """Show the audit trail, newest first (admins only)."""
    with _client(tracking_uri) as client:
        page = client.list_audit(
            user,
            None,
            max_results,
            page_token,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
        )
    echo_table(
        ["TIME", "USER", "ADDRESS", "ACTION", "RESOURCE", "DETAILS"],
        [
            (
                format_time(e.time_ms),
                e.username or "",
                e.address or "",
                e.action,
                f"{e.resource_type or ''} {e.resource_id or ''}".strip(),
                " ".join(f"{k}={v}" for k, v in sorted(e.details.items())),
            )
            for e in page
        ],
    )
    if page.token:
        click.echo(f"More: --page-token {page.token}", err=True)
