"""Secure defaults as one ASGI middleware: a Host allow-list and cross-origin write refusal.

- **Host allow-list** (DNS rebinding): a request whose ``Host`` header names a host that is
  not allowed gets 403 before any route runs.  The default allows ``localhost``,
  ``127.0.0.1`` and ``[::1]``; entries may be exact names, ``*.example.com`` suffix patterns
  or ``*`` (any); the port is ignored.
- **Cross-origin writes** (CSRF): a browser request that changes state (any method but GET,
  HEAD, OPTIONS) and carries an ``Origin`` that is neither the server's own origin nor in the
  CORS allow-list gets 403, so a web page cannot drive a local server through a user's
  browser.  Non-browser clients send no ``Origin`` and are not affected.

CORS responses themselves (preflight, ``Access-Control-Allow-Origin``) come from Starlette's
``CORSMiddleware``, added by ``create_app`` only when origins are configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from mltrail.server._errors import error_body, json_response

__all__ = ["SecurityMiddleware", "host_allowed", "split_host"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def split_host(value: str) -> str:
    """The host part of a Host header (``[::1]:5000`` -> ``[::1]``), lower-cased."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[: end + 1] if end != -1 else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    host = split_host(host)
    if not host:
        return False
    for pattern in allowed:
        pattern = split_host(pattern) if pattern != "*" else pattern
        if pattern == "*" or pattern == host:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
    return False


class SecurityMiddleware:
    def __init__(
        self, app: ASGIApp, allowed_hosts: Sequence[str], cors_origins: Sequence[str]
    ) -> None:
        self.app = app
        self.allowed_hosts = tuple(allowed_hosts)
        self.any_origin = "*" in cors_origins
        self.cors_origins = frozenset(o.rstrip("/").lower() for o in cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k: v for k, v in scope["headers"] if k in (b"host", b"origin")}
        host = headers.get(b"host", b"").decode("latin-1")
        if not host_allowed(host, self.allowed_hosts):
            message = (
                f"Invalid Host header {host!r}: this server only answers requests for "
                f"{', '.join(self.allowed_hosts)} (configure with --allowed-hosts)"
            )
            await json_response(error_body("PERMISSION_DENIED", message), 403)(scope, receive, send)
            return
        origin = headers.get(b"origin")
        if origin is not None and scope.get("method", "GET") not in _SAFE_METHODS:
            text = origin.decode("latin-1").rstrip("/").lower()
            if not self._origin_allowed(text, host):
                message = (
                    f"Cross-origin request from {text!r} refused: the origin is not in the "
                    "CORS allow-list (configure with --cors-allowed-origins)"
                )
                response = json_response(error_body("PERMISSION_DENIED", message), 403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _origin_allowed(self, origin: str, host: str) -> bool:
        if self.any_origin or origin in self.cors_origins:
            return True
        return urlsplit(origin).netloc == host.strip().lower()
