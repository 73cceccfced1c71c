"""Where a webhook may send: SSRF protection (CVE-2026-2393).

A destination is an ``http`` or ``https`` URL whose host resolves only to public addresses.
Loopback, private (RFC 1918, unique-local), link-local (cloud metadata at 169.254.169.254),
carrier-grade NAT, multicast, reserved and unspecified addresses are refused, in every
spelling the resolver accepts (``2130706433``, ``0x7f.1``, ``[::ffff:127.0.0.1]``, names that
resolve to them), unless the settings allow private destinations.  The check runs when a
webhook is created or changed and again before every delivery attempt, and the attempt connects
to the address that was checked (no second resolution a DNS rebinding could answer).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from mltrail._exceptions import InvalidArgument
from mltrail.entities._webhook import DestinationRefused, validate_webhook_url

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


@dataclass(frozen=True, slots=True)
class Destination:
    """A checked destination: the URL, its host and port, and the address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidArgument(
            f"Invalid webhook URL: cannot resolve host {host!r} ({exc})"
        ) from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_destination(url: str, *, allow_private: bool) -> Destination:
    """Check a webhook URL and resolve it; InvalidArgument saying why when it is refused."""
    scheme, host, port = validate_webhook_url(url)
    addresses = _resolve(host, port)
    if not allow_private:
        refused = [a for a in addresses if not is_public_address(a)]
        if refused:
            raise DestinationRefused(
                f"Invalid webhook URL {url!r}: {host} resolves to {refused[0]}, a private, "
                "loopback, link-local or reserved address; such destinations are refused "
                "unless the server allows private webhook destinations"
            )
    if not addresses:
        raise DestinationRefused(f"Invalid webhook URL {url!r}: {host} has no address")
    return Destination(url, scheme, host, port, addresses[0])


def destination_check(settings: WebhookSettings) -> Callable[[str], Destination]:
    """A store's ``check_url`` for a sender with *settings*: :func:`check_destination`."""
    allow = settings.allow_private_destinations
    return lambda url: check_destination(url, allow_private=allow)
