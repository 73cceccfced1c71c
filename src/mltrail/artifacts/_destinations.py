"""Where a server may connect on a user's say-so: protection against server-side request forgery.

A user-given URL (a registry webhook, an experiment's ``http(s)`` artifact location) is only
contacted when it is ``http`` or ``https``, carries no credentials, and its host resolves only
to public addresses.  Loopback, private (RFC 1918, unique-local), link-local (cloud metadata at
169.254.169.254), carrier-grade NAT, multicast, reserved and unspecified addresses are refused,
in every spelling the resolver accepts (``2130706433``, ``0x7f.1``, ``[::ffff:127.0.0.1]``,
names that resolve to them), unless the caller allows private destinations.  The result names
the address that was checked, so a caller can connect to it and not resolve the name again.

Webhooks (:mod:`mltrail.registry.webhooks`) and the tracking server's artifact reads use this
one rule, each with its own wording and its own switch for private destinations.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from mltrail._exceptions import InvalidArgument
from mltrail.validation import (
    MAX_URL_LENGTH,
    DestinationRefused,
    validate_destination_url,
    without_credentials,
)

__all__ = [
    "MAX_URL_LENGTH",
    "Destination",
    "DestinationRefused",
    "PinnedUrl",
    "check_url_destination",
    "is_public_address",
    "without_credentials",
]


@dataclass(frozen=True, slots=True)
class PinnedUrl:
    """A URL whose host is replaced by a checked address, with what the request must still
    say of the original host: its ``Host`` header and the TLS server name (SNI, which is also
    the name the certificate is verified against)."""

    url: str
    host_header: str
    sni_hostname: str


@dataclass(frozen=True, slots=True)
class Destination:
    """A checked destination: the URL, its host and port, and the address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    def pinned(self, url: str | None = None) -> PinnedUrl:
        """*url* (default: the checked URL; another URL must be on the same host and port)
        sent to the checked address, so that a second lookup of the name, which could answer
        with another address (DNS rebinding), never decides where the request goes."""
        parts = urlsplit(self.url if url is None else url)
        if (parts.hostname or "").lower() != self.host.lower() or (
            parts.port or (443 if parts.scheme.lower() == "https" else 80)
        ) != self.port:
            checked = without_credentials(self.url)
            raise DestinationRefused(
                f"Refused to contact {without_credentials(url or '')!r}: only the checked "
                f"host {self.host}:{self.port} may be contacted for {checked!r}"
            )
        host = f"[{self.address}]" if ":" in self.address else self.address
        netloc = parts.netloc.rsplit("@", 1)[-1]
        pinned = urlunsplit(
            (parts.scheme, f"{host}:{self.port}", parts.path or "/", parts.query, "")
        )
        return PinnedUrl(pinned, netloc, self.host)


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int, what: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidArgument(f"Invalid {what}: cannot resolve host {host!r} ({exc})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url_destination(
    url: str, *, allow_private: bool, what: str, private_switch: str, credentials_hint: str = ""
) -> Destination:
    """Check a URL that a server is asked to contact, and resolve it.

    *what* names the URL in messages (``"webhook URL"``); *private_switch* says what allows
    private destinations (``"the server allows private webhook destinations"``).  Raises
    :class:`DestinationRefused` saying why a destination is refused, or
    :class:`~mltrail.InvalidArgument` when its host cannot be resolved now.  A message never
    repeats credentials found in the URL.
    """
    scheme, host, port = validate_destination_url(url, what=what, credentials_hint=credentials_hint)
    shown = without_credentials(url)
    addresses = _resolve(host, port, what)
    if not allow_private:
        refused = [a for a in addresses if not is_public_address(a)]
        if refused:
            raise DestinationRefused(
                f"Invalid {what} {shown!r}: {host} resolves to {refused[0]}, a private, "
                "loopback, link-local or reserved address; such destinations are refused "
                f"unless {private_switch}"
            )
    if not addresses:
        raise DestinationRefused(f"Invalid {what} {shown!r}: {host} has no address")
    return Destination(url, scheme, host, port, addresses[0])
