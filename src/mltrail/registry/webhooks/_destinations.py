"""Where a webhook may send: SSRF protection (CVE-2026-2393).

A destination is an ``http`` or ``https`` URL without credentials whose host resolves only to
public addresses, unless the settings allow private destinations: the rule of
:mod:`mltrail.artifacts._destinations`, which the tracking server's artifact reads obey too.
The check runs when a webhook is created or changed and again before every delivery attempt,
and the attempt connects to the address that was checked (no second resolution a DNS rebinding
could answer).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from mltrail.artifacts._destinations import (
    Destination,
    DestinationRefused,
    check_url_destination,
    is_public_address,
)

__all__ = [
    "Destination",
    "DestinationRefused",
    "WebhookSettings",
    "check_destination",
    "destination_check",
    "is_public_address",
]

_ENV_ALLOW_PRIVATE = "MLTRAIL_WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS"


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """How webhooks are checked and delivered.

    ``allow_private_destinations`` lets webhooks reach loopback and private addresses (tests,
    single-host setups); the default refuses them.  A failed attempt is retried after
    ``backoff_seconds``, doubling up to ``max_backoff_seconds``, ``max_attempts`` times in all.
    """

    allow_private_destinations: bool = False
    max_attempts: int = 5
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 300.0
    timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls) -> WebhookSettings:
        """Defaults, with ``MLTRAIL_WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS=true`` honoured (for the
        library used without a server; a server passes its settings explicitly)."""
        allow = os.environ.get(_ENV_ALLOW_PRIVATE, "").strip().lower() in ("1", "true", "yes")
        return cls(allow_private_destinations=allow)


def check_destination(url: str, *, allow_private: bool) -> Destination:
    """Check a webhook URL and resolve it; InvalidArgument saying why when it is refused."""
    return check_url_destination(
        url,
        allow_private=allow_private,
        what="webhook URL",
        private_switch="the server allows private webhook destinations",
        credentials_hint=" (use a secret)",
    )


def destination_check(settings: WebhookSettings) -> Callable[[str], Destination]:
    """A store's ``check_url`` for a sender with *settings*: :func:`check_destination`."""
    allow = settings.allow_private_destinations
    return lambda url: check_destination(url, allow_private=allow)
