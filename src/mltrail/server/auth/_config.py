"""The authenticating server's settings, read as MLflow's auth app reads them.

``mltrail server --app-name basic-auth`` reads an ini file named by ``MLTRAIL_AUTH_CONFIG_PATH``
or MLflow's ``MLFLOW_AUTH_CONFIG_PATH`` (MLflow's own ``basic_auth.ini`` works unchanged).  Keys
are read from the ``[mlflow]`` section, then mltrail's own from ``[mltrail]``:

==============================  ============  =====================================================
key                             default       meaning
==============================  ============  =====================================================
``default_permission``          ``READ``      a user's permission on a resource with no grant
``database_uri``                (tracking)    where users and grants live; unset: the tracking
                                              database, in tables of their own
``admin_username``              ``admin``     the admin created at the first start
``admin_password``              (see below)   that admin's password
``authorization_function``      MLflow's      only MLflow's basic-auth function is supported
``trusted_proxy_header``        (none)        a header naming the user, set by a trusted proxy
``trusted_proxies``             (none)        addresses or networks allowed to set that header
``session_hours``               ``12``        how long a UI login lasts
``max_token_days``              ``365``       the longest lifetime of a personal access token
``login_attempts``              ``10``        failed logins allowed per user and per address ...
``login_window_seconds``        ``300``       ... within this window, then 429 until it passes
``auth_cache_ttl_seconds``      ``2``         how long a server process reuses a checked
                                              credential or grant (0: never); a revocation
                                              reaches every process at most this late
==============================  ============  =====================================================

``MLTRAIL_AUTH_ADMIN_USERNAME``/``PASSWORD`` (or MLflow's ``MLFLOW_AUTH_ADMIN_*``) override the
file.  Without any admin password the server uses :data:`DEFAULT_ADMIN_PASSWORD`, and only
while it listens on loopback: beyond it, a default password is refused at start-up.
MLflow's other cache keys and its workspace keys are accepted and ignored (mltrail has no
workspaces); any other key is an error naming it.
"""

from __future__ import annotations

import configparser
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from mltrail._exceptions import InvalidArgument
from mltrail.entities._auth import Permission

__all__ = [
    "CONFIG_PATH_ENVS",
    "DEFAULT_ADMIN_PASSWORD",
    "MIN_PASSWORD_LENGTH",
    "AuthSettings",
    "read_auth_settings",
]

#: Environment variables naming the ini file, mltrail's first.
CONFIG_PATH_ENVS = ("MLTRAIL_AUTH_CONFIG_PATH", "MLFLOW_AUTH_CONFIG_PATH")
#: The admin password used when none is configured (loopback only): MLflow's historical default.
DEFAULT_ADMIN_PASSWORD = "password1234"
#: The shortest password accepted, for users and the admin (MLflow 3.17's rule).
MIN_PASSWORD_LENGTH = 12
_MLFLOW_FUNCTION = "mlflow.server.auth:authenticate_request_basic_auth"
#: MLflow's keys that mltrail accepts and does not use.
_IGNORED = frozenset(
    {
        "grant_default_workspace_access",
        "workspace_cache_max_size",
        "workspace_cache_ttl_seconds",
        "auth_cache_max_size",
        "read_database_uri",
    }
)
_KNOWN = frozenset(
    {
        "default_permission",
        "database_uri",
        "admin_username",
        "admin_password",
        "authorization_function",
        "trusted_proxy_header",
        "trusted_proxies",
        "session_hours",
        "max_token_days",
        "login_attempts",
        "login_window_seconds",
        "auth_cache_ttl_seconds",
    }
)


@dataclass(frozen=True)
class AuthSettings:
    """How the server authenticates and authorizes (see the module's table)."""

    default_permission: str = "READ"
    database_uri: str | None = None
    admin_username: str = "admin"
    admin_password: str | None = None
    trusted_proxy_header: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    session_hours: float = 12.0
    max_token_days: int = 365
    login_attempts: int = 10
    login_window_seconds: int = 300
    auth_cache_ttl_seconds: float = 2.0
    #: Set by ``mltrail server`` when it listens beyond loopback: the default admin password
    #: is then refused at start-up.
    public_listener: bool = False

    def __post_init__(self) -> None:
        _check_permission(self.default_permission)
        if not self.admin_username.strip():
            raise InvalidArgument("Invalid auth setting admin_username: must not be empty")
        if self.admin_password is not None and len(self.admin_password) < MIN_PASSWORD_LENGTH:
            raise InvalidArgument(
                "Invalid auth setting admin_password: must be at least "
                f"{MIN_PASSWORD_LENGTH} characters"
            )
        object.__setattr__(self, "trusted_proxies", tuple(self.trusted_proxies))
        for network in self.trusted_proxies:
            _check_network(network)
        if self.trusted_proxies and not self.trusted_proxy_header:
            raise InvalidArgument(
                "Invalid auth settings: trusted_proxies is set but trusted_proxy_header is not"
            )
        if self.trusted_proxy_header and not self.trusted_proxies:
            raise InvalidArgument(
                "Invalid auth settings: trusted_proxy_header needs trusted_proxies, the "
                "addresses allowed to set it (any other client could claim any user)"
            )
        for name in ("session_hours", "max_token_days", "login_attempts", "login_window_seconds"):
            if not getattr(self, name) > 0:
                raise InvalidArgument(f"Invalid auth setting {name}: must be positive")
        if not 0 <= self.auth_cache_ttl_seconds <= 60:
            raise InvalidArgument(
                "Invalid auth setting auth_cache_ttl_seconds: must be between 0 and 60"
            )

    @property
    def default(self) -> Permission:
        return Permission.parse(self.default_permission)

    @property
    def uses_default_password(self) -> bool:
        return self.admin_password in (None, DEFAULT_ADMIN_PASSWORD)

    @property
    def effective_admin_password(self) -> str:
        return self.admin_password or DEFAULT_ADMIN_PASSWORD


def _check_permission(name: str) -> None:
    try:
        Permission.parse(name)
    except ValueError as exc:
        raise InvalidArgument(f"Invalid auth setting default_permission: {exc}") from None


def _check_network(text: str) -> None:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidArgument(
            f"Invalid auth setting trusted_proxies: {text!r} is not an address or network"
        ) from None


def _config_path(env: Mapping[str, str]) -> str | None:
    for name in CONFIG_PATH_ENVS:
        if env.get(name):
            return env[name]
    return None


def _read_file(path: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except OSError as exc:
        raise InvalidArgument(
            f"Cannot read the auth config file {path!r}: {exc.strerror}"
        ) from None
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise InvalidArgument(f"Invalid auth config file {path!r}: {first}") from None
    values: dict[str, str] = {}
    for section in ("mlflow", "mltrail"):
        if parser.has_section(section):
            values.update(parser.items(section))
    unknown = sorted(set(values) - _KNOWN - _IGNORED)
    if unknown:
        raise InvalidArgument(
            f"Invalid auth config file {path!r}: unknown keys {unknown} (known: {sorted(_KNOWN)})"
        )
    return {k: v for k, v in values.items() if k in _KNOWN}


def _number(values: Mapping[str, str], key: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(values[key])
    except ValueError:
        raise InvalidArgument(
            f"Invalid auth setting {key}: {values[key]!r} is not a {kind.__name__}"
        ) from None


def read_auth_settings(env: Mapping[str, str] | None = None) -> AuthSettings:
    """The settings from the ini file and environment variables (see the module's doc)."""
    env = os.environ if env is None else env
    path = _config_path(env)
    values = _read_file(path) if path else {}
    function = values.pop("authorization_function", _MLFLOW_FUNCTION).strip()
    if function != _MLFLOW_FUNCTION:
        raise InvalidArgument(
            f"Invalid auth setting authorization_function: {function!r} is not supported "
            f"(mltrail authenticates with passwords, tokens, sessions or a trusted proxy)"
        )
    kwargs: dict[str, object] = {}
    for key in ("default_permission", "database_uri", "admin_username", "admin_password"):
        if values.get(key):
            kwargs[key] = values[key].strip() if key != "admin_password" else values[key]
    if values.get("trusted_proxy_header"):
        kwargs["trusted_proxy_header"] = values["trusted_proxy_header"].strip()
    if values.get("trusted_proxies"):
        kwargs["trusted_proxies"] = tuple(
            part.strip() for part in values["trusted_proxies"].split(",") if part.strip()
        )
    for key, kind in (
        ("session_hours", float),
        ("max_token_days", int),
        ("login_attempts", int),
        ("login_window_seconds", int),
        ("auth_cache_ttl_seconds", float),
    ):
        if values.get(key):
            kwargs[key] = _number(values, key, kind)
    for prefix in ("MLFLOW_AUTH_ADMIN_", "MLTRAIL_AUTH_ADMIN_"):  # mltrail's win
        for field, key in (("USERNAME", "admin_username"), ("PASSWORD", "admin_password")):
            if env.get(prefix + field):
                kwargs[key] = env[prefix + field]
    return AuthSettings(**kwargs)  # type: ignore[arg-type]
