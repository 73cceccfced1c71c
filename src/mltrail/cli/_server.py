"""``mltrail server`` (and its alias ``mltrail ui``): run the tracking server."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import click

from mltrail.cli._common import handle_errors

__all__ = ["server", "ui"]

_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
_ANY_ADDRESS = ("0.0.0.0", "::", "[::]")


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _allowed_hosts(given: tuple[str, ...], host: str) -> tuple[str, ...]:
    from mltrail.server._settings import DEFAULT_ALLOWED_HOSTS

    if given:
        return _split(given)
    if host in _LOCAL_HOSTS or host in _ANY_ADDRESS:
        return DEFAULT_ALLOWED_HOSTS
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return (*DEFAULT_ALLOWED_HOSTS, shown)


def _options(fn: Callable[..., Any]) -> Callable[..., Any]:
    decorators = [
        click.option(
            "--backend-store-uri",
            metavar="URI",
            default=None,
            help=(
                "Tracking store: a database URI (sqlite:///file.db, postgresql://..., "
                "mysql://...) or a local folder. Default: sqlite:///mltrail.db in the current "
                "folder, the library's default."
            ),
        ),
        click.option(
            "--default-artifact-root",
            metavar="URI",
            default=None,
            help=(
                "Artifact root of new experiments. Default: mlflow-artifacts:/ (uploads go "
                "through this server) when serving artifacts, else the folder beside the store."
            ),
        ),
        click.option(
            "--artifacts-destination",
            metavar="URI",
            default=None,
            help=(
                "Where proxied artifacts are stored: a folder or an s3:// URI. Default: "
                "mltrail-artifacts beside the SQLite store (the current folder for other "
                "databases)."
            ),
        ),
        click.option(
            "--serve-artifacts/--no-serve-artifacts",
            default=True,
            show_default=True,
            help="Serve the artifact proxy (/api/2.0/mlflow-artifacts/...).",
        ),
        click.option(
            "--host", "-h", default="127.0.0.1", show_default=True, help="Address to bind."
        ),
        click.option(
            "-p",
            "--port",
            type=click.IntRange(0, 65535),
            default=5000,
            show_default=True,
            help="Port to listen on.",
        ),
        click.option(
            "-w",
            "--workers",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Worker processes sharing the port.",
        ),
        click.option(
            "--allowed-hosts",
            multiple=True,
            metavar="HOSTS",
            help=(
                "Comma-separated Host header names accepted (protection against DNS "
                "rebinding); '*.example.com' patterns and '*' (any) work. Default: localhost, "
                "127.0.0.1, [::1] and the --host address."
            ),
        ),
        click.option(
            "--cors-allowed-origins",
            multiple=True,
            metavar="ORIGINS",
            help=(
                "Comma-separated origins (https://app.example.com) allowed to call the API from "
                "a browser; '*' for any. Default: none (cross-origin writes are refused)."
            ),
        ),
        click.option(
            "--webhooks-allow-private-destinations",
            is_flag=True,
            default=False,
            help=(
                "Let registry webhooks deliver to loopback and private network addresses "
                "(refused by default)."
            ),
        ),
        click.option(
            "--artifacts-allow-private-destinations",
            is_flag=True,
            default=False,
            help=(
                "Let the server read artifacts at http(s) locations on loopback and private "
                "network addresses (refused by default)."
            ),
        ),
        click.option(
            "--app-name",
            type=click.Choice(["basic-auth"]),
            default=None,
            help=(
                "basic-auth: require users (HTTP Basic, access tokens, a UI login) and check "
                "per-experiment and per-model permissions, configured as MLflow's auth app "
                "(the ini file named by MLTRAIL_AUTH_CONFIG_PATH or MLFLOW_AUTH_CONFIG_PATH)."
            ),
        ),
        click.option(
            "--enable-workspaces/--disable-workspaces",
            default=False,
            envvar="MLFLOW_ENABLE_WORKSPACES",
            help=(
                "Partition experiments, registered models and webhooks into workspaces chosen "
                "by the X-MLflow-Workspace request header, and serve the workspace endpoints "
                "(/api/3.0/mlflow/workspaces)."
            ),
        ),
        click.option(
            "--x-frame-options",
            type=click.Choice(["DENY", "SAMEORIGIN", "NONE"], case_sensitive=False),
            default="DENY",
            show_default=True,
            envvar="MLFLOW_SERVER_X_FRAME_OPTIONS",
            help=(
                "The UI's X-Frame-Options header: DENY (no page may frame it), SAMEORIGIN "
                "(MLflow's default) or NONE (no header: any page may embed the UI)."
            ),
        ),
        click.option(
            "--log-level",
            type=click.Choice(["critical", "error", "warning", "info", "debug"]),
            default="info",
            show_default=True,
            help="Server log verbosity.",
        ),
        click.option(
            "--access-log/--no-access-log",
            default=False,
            show_default=True,
            help="Log one line per request.",
        ),
    ]
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def _run(
    backend_store_uri: str | None,
    default_artifact_root: str | None,
    artifacts_destination: str | None,
    serve_artifacts: bool,
    host: str,
    port: int,
    workers: int,
    allowed_hosts: tuple[str, ...],
    cors_allowed_origins: tuple[str, ...],
    webhooks_allow_private_destinations: bool,
    artifacts_allow_private_destinations: bool,
    app_name: str | None,
    enable_workspaces: bool,
    x_frame_options: str,
    log_level: str,
    access_log: bool,
) -> None:
    from mltrail.server import ServerSettings, run_server
    from mltrail.server.auth import read_auth_settings

    auth = None
    if app_name == "basic-auth":
        public = host not in _LOCAL_HOSTS
        auth = dataclasses.replace(read_auth_settings(), public_listener=public)

    settings = ServerSettings(
        backend_store_uri=backend_store_uri,
        default_artifact_root=default_artifact_root,
        serve_artifacts=serve_artifacts,
        artifacts_destination=artifacts_destination,
        allowed_hosts=_allowed_hosts(allowed_hosts, host),
        cors_allowed_origins=_split(cors_allowed_origins),
        webhooks_allow_private_destinations=webhooks_allow_private_destinations,
        artifacts_allow_private_destinations=artifacts_allow_private_destinations,
        auth=auth,
        enable_workspaces=enable_workspaces,
        x_frame_options=x_frame_options,
    )
    if host in _ANY_ADDRESS and not allowed_hosts:
        click.echo(
            "Note: listening on all interfaces, but only requests for localhost are accepted; "
            "pass --allowed-hosts with the names clients use.",
            err=True,
        )
    run_server(settings, host, port, workers, log_level, access_log)


# -h is --host, as in MLflow (`mlflow server -h 0.0.0.0`); help is --help only.
@click.command("server", context_settings={"help_option_names": ["--help"]})
@_options
@handle_errors
def server(**options: Any) -> None:
    """Run the tracking server: MLflow's REST API, the artifact proxy and the web UI.

    With no options it serves the default store (sqlite:///mltrail.db in the current folder)
    on http://127.0.0.1:5000, storing uploaded artifacts in ./mltrail-artifacts. Point
    MLFLOW_TRACKING_URI (or MLTRAIL_TRACKING_URI) at it from mltrail or the mlflow client.
    """
    _run(**options)


@click.command("ui", context_settings={"help_option_names": ["--help"]})
@_options
@handle_errors
def ui(**options: Any) -> None:
    """Run the tracking server and its web UI (the same as `mltrail server`)."""
    _run(**options)
