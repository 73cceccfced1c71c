"""Who is calling: HTTP Basic, a personal access token, a UI session or a trusted proxy.

- ``Authorization: Basic`` (what ``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` send): the password
  is checked with argon2 once; later requests with the same password compare against the
  hash it verified, read fresh from the store each time, so a changed password or a deleted
  user is refused at once while argon2's cost is paid once per process and password.
- ``Authorization: Bearer <token>`` (``MLFLOW_TRACKING_TOKEN``): a personal access token,
  looked up by its SHA-256 (unknown, expired and revoked tokens are refused at once).
- The ``mltrail_session`` cookie of a UI login.  Requests that change something must also
  carry the session's CSRF token in ``X-CSRF-Token`` (the UI reads it from
  ``users/current``; another site can neither read it nor set the header).
- A trusted proxy's header (``trusted_proxy_header``), only from the ``trusted_proxies``
  addresses; from any other address the header is ignored.  A user the proxy names who does
  not exist yet is created (not an admin).

Failed logins count per user and per address (:class:`~._limits.LoginLimiter`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mltrail._exceptions import AlreadyExists, NotFound, PermissionDenied, Unauthenticated
from mltrail.entities._auth import User
from mltrail.server.auth._config import AuthSettings
from mltrail.server.auth._limits import LoginLimiter
from mltrail.server.auth._secrets import secret_hash, verify_nobody, verify_password
from mltrail.server.auth._ttl import TtlCache
from mltrail.store._auth_base import AuthStore

__all__ = [
    "CSRF_HEADER",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "Authenticator",
    "Caller",
    "csrf_token",
]

SESSION_COOKIE = "mltrail_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Verified (user, password) pairs remembered per process (each with the hash it matched).
_VERIFIED_MAX = 10_000


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: the user, how they signed in, and from where."""

    user: User
    method: str  # "password" | "token" | "session" | "proxy"
    address: str
    session: str | None = None  # the session cookie's secret (UI logins)

    @property
    def username(self) -> str:
        return self.user.username


def csrf_token(session: str) -> str:
    """The CSRF token of a session: derived from its secret, so the server need not keep it."""
    return hashlib.sha256(b"mltrail-csrf:" + session.encode()).hexdigest()


def _cookie(headers: Mapping[str, str], name: str) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


class _VerifiedPasswords:
    """(username, keyed digest of a password) -> the stored hash that password matched."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._seen: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def key(self, secret: str) -> str:
        """A keyed digest of *secret*, to index a cache without holding the secret (SHA-256
        of this process's random key and the secret: a cache key, not a stored hash)."""
        return hashlib.sha256(self._key + secret.encode()).hexdigest()

    def matches(self, username: str, password: str, stored_hash: str) -> bool:
        key = (username, self.key(password))
        with self._lock:
            known = self._seen.get(key)
            if known is not None:
                self._seen.move_to_end(key)
        return known is not None and hmac.compare_digest(known, stored_hash)

    def remember(self, username: str, password: str, stored_hash: str) -> None:
        with self._lock:
            self._seen[(username, self.key(password))] = stored_hash
            while len(self._seen) > _VERIFIED_MAX:
                self._seen.popitem(last=False)


class Authenticator:
    """Turns a request's headers and peer address into a :class:`Caller` (or None)."""

    def __init__(
        self,
        store: AuthStore,
        settings: AuthSettings,
        now_ms: Callable[[], int],
        limiter: LoginLimiter | None = None,
        ready: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        #: Returns once the users exist (the admin of a first start is created meanwhile).
        self._ready = ready or (lambda: None)
        self.settings = settings
        self._now_ms = now_ms
        self.limiter = limiter or LoginLimiter(
            settings.login_attempts, settings.login_window_seconds
        )
        self._verified = _VerifiedPasswords()
        #: Recently checked credentials (keyed by a digest, never the secret itself).
        self._recent: TtlCache[tuple[str, str], tuple[User, str]] = TtlCache(
            settings.auth_cache_ttl_seconds
        )
        self._proxies = tuple(
            ipaddress.ip_network(n, strict=False) for n in settings.trusted_proxies
        )

    def authenticate(self, headers: Mapping[str, str], address: str, method: str) -> Caller | None:
        """The caller, None when the request carries no credentials at all; Unauthenticated
        for wrong ones, PermissionDenied for a session write without its CSRF token."""
        self._ready()
        proxied = self._from_proxy(headers, address)
        if proxied is not None:
            return proxied
        authorization = headers.get("authorization")
        if authorization:
            scheme, _, value = authorization.strip().partition(" ")
            scheme = scheme.lower()
            if scheme == "basic":
                value = value.strip()
                user, _ = self._recent.get(
                    ("basic", self._verified.key(value)),
                    lambda: (self._basic(value, address).user, ""),
                )
                return Caller(user, "password", address)
            if scheme == "bearer":
                value = value.strip()
                user, _ = self._recent.get(
                    ("bearer", secret_hash(value)), lambda: (self._bearer(value, address).user, "")
                )
                return Caller(user, "token", address)
            raise Unauthenticated(
                f"Unsupported Authorization scheme {scheme!r}: use Basic (username and "
                "password) or Bearer (a personal access token)"
            )
        session = _cookie(headers, SESSION_COOKIE)
        if session:
            return self._session(session, headers, address, method)
        return None

    def session_caller(
        self, session: str, headers: Mapping[str, str], address: str, method: str
    ) -> Caller:
        """The caller of browser session *session* (Unauthenticated once it has ended;
        PermissionDenied for a *method* that changes something without the CSRF token)."""
        self._ready()
        return self._session(session, headers, address, method)

    # -- the four ways in -----------------------------------------------------------------------

    def _from_proxy(self, headers: Mapping[str, str], address: str) -> Caller | None:
        header = self.settings.trusted_proxy_header
        if not header or not self._proxies:
            return None
        name = headers.get(header.lower())
        if not name or not self._trusted(address):
            return None
        name = name.strip()
        user, _ = self._recent.get(("proxy", name), lambda: (self._proxy_user(name), ""))
        return Caller(user, "proxy", address)

    def _proxy_user(self, name: str) -> User:
        try:
            return self.store.get_user(name)
        except NotFound:
            try:  # first sight of a single-sign-on user: an ordinary user, no password
                return self.store.create_user(name, "!proxy:" + secrets.token_hex(16))
            except AlreadyExists:  # another process created it meanwhile
                return self.store.get_user(name)

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._proxies)

    def _basic(self, value: str, address: str) -> Caller:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("Invalid Basic credentials: not base64 'user:password'") from None
        username, sep, password = decoded.partition(":")
        if not sep or not username:
            raise Unauthenticated("Invalid Basic credentials: expected 'user:password'")
        return self.password_login(username, password, address)

    def password_login(self, username: str, password: str, address: str) -> Caller:
        """The caller whose password this is (Unauthenticated, or 429 after many failures)."""
        keys = (f"user:{username}", f"address:{address}")
        self.limiter.check(keys)
        found = self.store.credentials(username)
        if found is None:  # as slow as a wrong password, so timing does not tell who exists
            verify_nobody(password)
        else:
            user, stored = found
            if self._verified.matches(username, password, stored):
                return Caller(user, "password", address)
            if verify_password(stored, password):
                self._verified.remember(username, password, stored)
                self.limiter.succeeded(keys[0])
                return Caller(user, "password", address)
        self.limiter.failed(keys)
        raise Unauthenticated("Invalid username or password")

    def _bearer(self, token: str, address: str) -> Caller:
        keys = (f"address:{address}",)
        self.limiter.check(keys)
        user = self.store.user_for_token(secret_hash(token), self._now_ms()) if token else None
        if user is None:
            self.limiter.failed(keys)
            raise Unauthenticated("Invalid, expired or revoked access token")
        return Caller(user, "token", address)

    def _session_user(self, digest: str) -> tuple[User, str]:
        found = self.store.session_user(digest, self._now_ms())
        if found is None:
            raise Unauthenticated("Your session has ended: sign in again")
        return found

    def forget(self) -> None:
        """Drop every remembered credential (after a change this process made)."""
        self._recent.clear()

    def _session(
        self, session: str, headers: Mapping[str, str], address: str, method: str
    ) -> Caller:
        digest = secret_hash(session)
        user, csrf_hash = self._recent.get(("session", digest), lambda: self._session_user(digest))
        if method not in SAFE_METHODS:
            sent = headers.get(CSRF_HEADER, "")
            if not sent or not hmac.compare_digest(secret_hash(sent), csrf_hash):
                raise PermissionDenied(
                    f"Missing or wrong {CSRF_HEADER} header: a signed-in browser request that "
                    "changes something must carry the session's CSRF token"
                )
        return Caller(user, "session", address, session)
