"""The tracking server's settings: one frozen object, built by the CLI or by code.

``create_app(settings)`` takes it directly.  For ``--workers N`` uvicorn must import the app in
each worker process; the CLI then writes the settings to a private JSON file and passes its
path in the one environment variable :data:`SETTINGS_FILE_ENV`, which the factory
:func:`mltrail.server.app_from_settings_file` reads.  Nothing else travels through the
environment.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from mltrail._exceptions import InvalidArgument
from mltrail.server.auth._config import AuthSettings
from mltrail.store import artifact_root_for
from mltrail.tracking._uri import DEFAULT_DB_NAME, resolve_tracking_uri

__all__ = [
    "DEFAULT_ALLOWED_HOSTS",
    "DEFAULT_MAX_JSON_BODY_BYTES",
    "SETTINGS_FILE_ENV",
    "ServerSettings",
    "default_backend_store_uri",
]

#: The environment variable naming the JSON settings file of a multi-worker server.
SETTINGS_FILE_ENV = "MLTRAIL_SERVER_SETTINGS_FILE"
#: Host header values accepted when none are configured (DNS-rebinding protection).
DEFAULT_ALLOWED_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]")
#: The largest JSON request body accepted (artifact uploads stream and are not limited).
DEFAULT_MAX_JSON_BODY_BYTES = 16 * 1024 * 1024


def default_backend_store_uri() -> str:
    """The library's default store (``sqlite:///mltrail.db`` in the current folder)."""
    return resolve_tracking_uri(f"sqlite:///{DEFAULT_DB_NAME}")


#: The ``X-Frame-Options`` values the server takes (``NONE``: the header is left out).
X_FRAME_OPTIONS = ("DENY", "SAMEORIGIN", "NONE")


@dataclass(frozen=True)
class ServerSettings:
    """Everything ``create_app`` needs.

    - ``backend_store_uri``: the tracking store (a database URI or a local folder); ``None`` is
      the library's default, ``sqlite:///mltrail.db`` in the current folder.
    - ``default_artifact_root``: the artifact root of new experiments.  ``None`` means
      ``mlflow-artifacts:/`` when the server serves artifacts (clients upload through the
      proxy), else the folder beside the store.
    - ``serve_artifacts``: mount the artifact proxy (``/api/2.0/mlflow-artifacts/...``).
    - ``artifacts_destination``: where proxied artifacts go (a folder or an ``s3://`` URI);
      ``None`` is ``mltrail-artifacts`` beside the store, where the library puts them too.
    - ``allowed_hosts``: accepted ``Host`` header names (``*`` for any; a port is ignored).
    - ``cors_allowed_origins``: origins allowed for cross-origin browser calls (none by
      default; ``*`` for any).
    - ``max_json_body_bytes``: the largest JSON request body.
    - ``static_dir``: the built web UI (``None``: the packaged build).
    - ``webhooks_allow_private_destinations``: let registry webhooks reach loopback and
      private addresses (refused by default: a webhook must not probe the server's network).
    - ``artifacts_allow_private_destinations``: let the server read artifacts at ``http(s)``
      locations on loopback and private addresses, and let new experiments name such
      locations (refused by default, by the webhooks' rule: an experiment's location must not
      make the server probe its own network).
    - ``auth``: authentication and permissions (``--app-name basic-auth``); ``None``: off,
      every caller may do everything (:mod:`mltrail.server.auth`).
    - ``enable_workspaces``: scope experiments, registered models and webhooks by the
      ``X-MLflow-Workspace`` header and serve the workspace endpoints (MLflow's
      ``--enable-workspaces``).
    - ``x_frame_options``: the UI page's ``X-Frame-Options`` header: ``DENY`` (no page may
      frame the UI), ``SAMEORIGIN`` (MLflow's default) or ``NONE`` (no header: any page may).
    """

    backend_store_uri: str | None = None
    default_artifact_root: str | None = None
    serve_artifacts: bool = True
    artifacts_destination: str | None = None
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    cors_allowed_origins: tuple[str, ...] = ()
    max_json_body_bytes: int = DEFAULT_MAX_JSON_BODY_BYTES
    static_dir: str | None = None
    webhooks_allow_private_destinations: bool = False
    artifacts_allow_private_destinations: bool = False
    auth: AuthSettings | None = None
    enable_workspaces: bool = False
    x_frame_options: str = "DENY"

    def __post_init__(self) -> None:
        framing = str(self.x_frame_options).upper()
        if framing not in X_FRAME_OPTIONS:
            raise InvalidArgument(
                f"Invalid x_frame_options {self.x_frame_options!r}: expected one of "
                f"{', '.join(X_FRAME_OPTIONS)}"
            )
        object.__setattr__(self, "x_frame_options", framing)
        if self.max_json_body_bytes < 1024:
            raise InvalidArgument(
                f"Invalid max_json_body_bytes {self.max_json_body_bytes}: must be at least 1024"
            )
        for name in ("allowed_hosts", "cors_allowed_origins"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise InvalidArgument(f"Invalid {name} {value!r}: must be a list of strings")
            object.__setattr__(self, name, tuple(value))

    def resolved_store_uri(self) -> str:
        if self.backend_store_uri:
            return resolve_tracking_uri(self.backend_store_uri)
        return default_backend_store_uri()

    def resolved_artifacts_destination(self) -> str:
        """The proxy's root URI: as given (local paths made absolute) or beside the store."""
        if self.artifacts_destination:
            dest = self.artifacts_destination
            if "://" in dest or dest.startswith("file:"):
                return dest.rstrip("/")
            return Path(dest).expanduser().resolve().as_uri()
        return artifact_root_for(self.resolved_store_uri())

    def resolved_default_artifact_root(self) -> str | None:
        """The store's root for new experiments (``None``: the store's own default)."""
        if self.default_artifact_root:
            return self.default_artifact_root
        return "mlflow-artifacts:/" if self.serve_artifacts else None

    # -- the JSON file handed to worker processes -----------------------------------------------

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ServerSettings:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise InvalidArgument("Invalid server settings: expected a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidArgument(f"Invalid server settings: unknown fields {unknown}")
        for name in ("allowed_hosts", "cors_allowed_origins"):
            if name in data:
                data[name] = tuple(data[name])
        if data.get("auth") is not None:
            auth = dict(data["auth"])
            auth["trusted_proxies"] = tuple(auth.get("trusted_proxies", ()))
            data["auth"] = AuthSettings(**auth)
        return cls(**data)

    def write_file(self, path: str | os.PathLike[str]) -> None:
        """Write the settings for worker processes (mode 0600: it may name credentials)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(self.to_json())

    @classmethod
    def read_file(cls, path: str | os.PathLike[str]) -> ServerSettings:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))
