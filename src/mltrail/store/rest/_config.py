"""How the REST client talks to a server: timeouts, retries, credentials, TLS.

Everything comes from the constructor; :meth:`HttpConfig.from_env` reads the environment once,
when a store is created.  Each setting has an ``MLTRAIL_`` name and MLflow's ``MLFLOW_`` name;
the ``MLTRAIL_`` one wins when both are set.

=====================================  ========  ===============================================
variable (``MLTRAIL_`` / ``MLFLOW_``)   default   meaning
=====================================  ========  ===============================================
``HTTP_REQUEST_TIMEOUT``               120       seconds one request may take (connect: at most 10)
``HTTP_REQUEST_MAX_RETRIES``           7         retries of a failed call that is safe to retry
``HTTP_REQUEST_BACKOFF_FACTOR``        0.25      the n-th retry waits about factor * 2**n seconds
``HTTP_REQUEST_BACKOFF_MAX``           30        no backoff wait is longer (Retry-After may be)
``HTTP_REQUEST_RETRY_TIMEOUT``         120       no retry starts later than this after the call
``TRACKING_USERNAME`` / ``_PASSWORD``            HTTP Basic credentials
``TRACKING_TOKEN``                               a Bearer token (when no username is set)
``TRACKING_INSECURE_TLS``              false     "true": do not verify the server's certificate
``TRACKING_SERVER_CERT_PATH``                    a CA bundle to verify the server with
=====================================  ========  ===============================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from mltrail._exceptions import InvalidArgument

__all__ = ["Credentials", "HttpConfig"]


@dataclass(frozen=True, slots=True)
class Credentials:
    """Basic (username and password) or Bearer (token) credentials; never printed."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    @property
    def kind(self) -> str | None:
        """``"basic"``, ``"bearer"`` or None: Basic wins when both are configured (as in MLflow)."""
        if self.username:
            return "basic"
        if self.token:
            return "bearer"
        return None


@dataclass(frozen=True, slots=True)
class HttpConfig:
    timeout_s: float = 120.0
    max_retries: int = 7
    backoff_factor_s: float = 0.25
    backoff_max_s: float = 30.0
    retry_timeout_s: float = 120.0
    credentials: Credentials = field(default_factory=Credentials)
    verify: bool | str = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpConfig:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            for prefix in ("MLTRAIL_", "MLFLOW_"):
                value = env.get(prefix + name)
                if value is not None and value != "":
                    return value
            return None

        def number(name: str, default: float, minimum: float) -> float:
            text = get(name)
            if text is None:
                return default
            try:
                value = float(text)
            except ValueError:
                value = float("nan")
            if not value >= minimum:  # also rejects NaN
                raise InvalidArgument(
                    f"Invalid {name} {text!r}: expected a number of at least {minimum:g}"
                )
            return value

        retries = number("HTTP_REQUEST_MAX_RETRIES", 7, 0)
        if retries != int(retries):
            raise InvalidArgument(
                f"Invalid HTTP_REQUEST_MAX_RETRIES {get('HTTP_REQUEST_MAX_RETRIES')!r}: "
                "expected a whole number"
            )
        verify: bool | str = True
        if (get("TRACKING_INSECURE_TLS") or "").lower() in ("true", "1", "yes"):
            verify = False
        elif get("TRACKING_SERVER_CERT_PATH"):
            verify = str(get("TRACKING_SERVER_CERT_PATH"))
        return cls(
            timeout_s=number("HTTP_REQUEST_TIMEOUT", 120.0, 0.001),
            max_retries=int(retries),
            backoff_factor_s=number("HTTP_REQUEST_BACKOFF_FACTOR", 0.25, 0),
            backoff_max_s=number("HTTP_REQUEST_BACKOFF_MAX", 30.0, 0),
            retry_timeout_s=number("HTTP_REQUEST_RETRY_TIMEOUT", 120.0, 0),
            credentials=Credentials(
                username=get("TRACKING_USERNAME"),
                password=get("TRACKING_PASSWORD"),
                token=get("TRACKING_TOKEN"),
            ),
            verify=verify,
        )
