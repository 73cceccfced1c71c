"""Authentication at the ASGI level: a request's credentials, and the wrapper that guards a
streaming endpoint or a plain route.

A JSON endpoint is guarded inside its own handler call (:func:`~._guard.run_guarded`, one
thread hop for both).  A streaming endpoint (artifact downloads and uploads, logged models'
routes) or a plain route (``/get-artifact``, ``/version``, the OpenAPI document) is wrapped in
:class:`GuardedApp`: it admits the caller from the path parameters and query (and, for a rule
that reads the JSON body, from the body, which it then replays to the route), runs the route
as that caller, and applies the route's effect to its JSON answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mltrail._exceptions import InvalidArgument, MltrailError, Unauthenticated
from mltrail.server._access import Access, Effect
from mltrail.server._bodies import decode_json, read_raw_body
from mltrail.server._context import ServerContext
from mltrail.server._errors import error_response
from mltrail.server.auth._guard import CHALLENGE, admit, record
from mltrail.server.auth._runtime import AuthRuntime, caller_or_none, calling_as

__all__ = ["GuardedApp", "auth_error_response", "request_info"]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def request_info(scope: Scope) -> tuple[dict[str, str], str, str]:
    """The request's headers (lower-case names), the client's address and the method."""
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    client = scope.get("client")
    return headers, client[0] if client else "", scope["method"]


def auth_error_response(exc: MltrailError, scope: Scope) -> Response:
    """MLflow's error body; a 401 also carries the Basic challenge, except to the web UI
    (``/ajax-api/...`` or ``X-Requested-With: XMLHttpRequest``): a browser would hold the
    request for its own password dialog instead of letting the UI show its sign-in page."""
    response = error_response(exc)
    if isinstance(exc, Unauthenticated) and not _from_the_ui(scope):
        response.headers.update(CHALLENGE)
    return response


def _from_the_ui(scope: Scope) -> bool:
    if str(scope.get("path", "")).startswith("/ajax-api/"):
        return True
    return any(
        name == b"x-requested-with" and value.lower() == b"xmlhttprequest"
        for name, value in scope.get("headers", ())
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


class GuardedApp:
    """A route's ASGI app, entered only by callers its *access* rule admits."""

    def __init__(
        self, app: ASGIApp, access: Access, ctx: ServerContext, effect: Effect | None = None
    ) -> None:
        self.app = app
        self.access = access
        self.ctx = ctx
        self.effect = effect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        auth = self.ctx.auth
        if auth is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers, address, method = request_info(scope)
        args: dict[str, Any] = dict(QueryParams(scope.get("query_string", b"")))
        args.update(scope.get("path_params") or {})
        try:
            if method in _BODY_METHODS and any(a not in args for a in self.access.args):
                body = await read_raw_body(scope, receive, self.ctx.settings.max_json_body_bytes)
                receive = _replay(body, receive)
                args = {**_json_object(body), **args}
            caller = await self.ctx.run_blocking(
                admit, auth, self.ctx.backend, self.access, headers, address, method, args
            )
        except ClientDisconnect:
            return
        except MltrailError as exc:
            await auth_error_response(exc, scope)(scope, receive, send)
            return
        with calling_as(caller):
            if self.effect is None:
                await self.app(scope, receive, send)
            else:
                await self.app(scope, receive, _Recorder(send, auth, self.ctx, self.effect, args))


def _json_object(body: bytes) -> dict[str, Any]:
    """The JSON object in *body*; ``{}`` for anything else (the route answers a malformed
    body itself)."""
    try:
        value = decode_json(body)
    except InvalidArgument:
        return {}
    return value if isinstance(value, dict) else {}


class _Recorder:
    """Passes a route's answer on; after a 200 JSON answer, applies the route's effect."""

    def __init__(
        self,
        send: Send,
        auth: AuthRuntime,
        ctx: ServerContext,
        effect: Effect,
        args: Mapping[str, Any],
    ) -> None:
        self.send = send
        self.auth = auth
        self.ctx = ctx
        self.effect = effect
        self.args = args
        self.status = 0
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body" and self.status == 200:
            self.chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                # Before the answer's last bytes leave: a creator who gets the answer
                # already manages what they created.
                result = _json_object(b"".join(self.chunks))
                await self.ctx.run_blocking(
                    record, self.auth, caller_or_none(), self.effect, self.args, result
                )
        await self.send(message)
