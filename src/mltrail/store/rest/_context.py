"""What every part of the REST store shares: the HTTP client of one tracking server."""

from __future__ import annotations

from typing import Any

from mltrail._exceptions import NotImplementedYet
from mltrail.store.rest._http import RestClient

__all__ = ["API", "MLTRAIL_API", "RestContext", "refuse_visibility"]

API = "/api/2.0/mlflow/"
MLTRAIL_API = "/api/2.0/mltrail/"


class RestContext:
    """The server's :class:`RestClient` and the calls the parts make through it."""

    def __init__(self, client: RestClient) -> None:
        self.client = client
        self.base_url = client.base_url

    def get(self, endpoint: str, **params: Any) -> dict[str, Any]:
        """``GET`` of an MLflow endpoint; None-valued parameters are left out."""
        query = {k: v for k, v in params.items() if v is not None}
        return self.client.call("GET", API + endpoint, params=query, idempotent=True)

    def post(self, endpoint: str, body: dict[str, Any], *, idempotent: bool) -> dict[str, Any]:
        return self.client.call("POST", API + endpoint, body=body, idempotent=idempotent)

    def call(
        self,
        method: str,
        endpoint: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """Any method on an MLflow endpoint: a body, or (without one) query parameters."""
        if body is None:
            query = {k: v for k, v in (params or {}).items() if v is not None}
            return self.client.call(method, API + endpoint, params=query, idempotent=idempotent)
        return self.client.call(method, API + endpoint, body=body, idempotent=idempotent)

    def send(
        self, method: str, endpoint: str, body: dict[str, Any] | None = None, *, idempotent: bool
    ) -> dict[str, Any]:
        """The registry's convention: a ``GET`` sends *body* as its query (None values left
        out, always safe to resend); any other method sends it as a JSON body."""
        if method == "GET":
            query = {k: v for k, v in (body or {}).items() if v is not None}
            return self.client.call("GET", API + endpoint, params=query, idempotent=True)
        return self.client.call(method, API + endpoint, body=body or {}, idempotent=idempotent)

    def refused(self, what: str) -> NotImplementedYet:
        """What a tracking server does not offer: permanent deletion (``mltrail gc``) works on
        the database, as MLflow's ``gc`` does; no endpoint destroys data beyond recovery."""
        return NotImplementedYet(
            f"{what} is not available through a tracking server ({self.base_url}): permanent "
            "deletion works on the server's database; run `mltrail gc --tracking-uri "
            "<database URI>` where that database is reachable"
        )


def refuse_visibility(search: str, visible: object) -> None:
    """A search's ``visible=`` constraint cannot be sent: a tracking server decides what its
    caller may read from the caller's own credentials, and applies it itself."""
    if visible is not None:
        raise NotImplementedYet(
            f"{search}(visible=...) is not available through a tracking server: the server "
            "applies its callers' permissions itself, from the credentials each one sends"
        )
