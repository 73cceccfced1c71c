"""``get_app_client("basic-auth", tracking_uri)``: MLflow's entry to an auth server's client."""

from __future__ import annotations

from mltrail._exceptions import InvalidArgument
from mltrail.store import AuthClient

__all__ = ["get_app_client"]


def get_app_client(app_name: str, tracking_uri: str) -> AuthClient:
    """The client of the server app *app_name* at *tracking_uri* (MLflow's function; the one
    app is ``basic-auth``, whose client has MLflow's ``AuthServiceClient`` calls)."""
    if app_name != "basic-auth":
        raise InvalidArgument(
            f"Invalid app_name {app_name!r}: mltrail's server has one app, 'basic-auth'"
        )
    return AuthClient(tracking_uri)
