"""The rules for artifact locations: what a new experiment may name and what the server reads.

When an experiment is created through the server, its ``artifact_location`` must not

- carry credentials (``https://user:secret@host/...``): a location is shown to every reader;
- lie inside the server's staging folder (:data:`~mltrail.server._context.STAGING_DIR` below
  its artifacts destination), where multipart uploads keep their parts;
- lie inside another run's artifacts (``<location>/<run_id>/artifacts``): the new experiment's
  runs would write into, and list, that run's files;
- be an ``http(s)`` URL on a host that resolves to a loopback, private, link-local or reserved
  address, unless the server allows private artifact destinations.

When the server reads artifacts itself (a run's listing, the UI's file route, a logged model's
files), an ``http(s)`` location obeys the same destination rule as registry webhooks
(:mod:`mltrail.artifacts._destinations`), checked before every read, whatever stored it: the
server never fetches from a private address on a user's say-so, nor with credentials taken from
a location.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts._destinations import (
    Destination,
    check_url_destination,
    without_credentials,
)
from mltrail.artifacts._registry import is_local_uri
from mltrail.entities import Run
from mltrail.validation import validate_run_id

__all__ = ["check_http_destination", "looks_like_run_id", "refuse_credentials", "refuse_location"]

_FIELD = "artifact_location"
_PRIVATE_SWITCH = (
    "the server allows private artifact destinations (--artifacts-allow-private-destinations)"
)


def refuse_credentials(location: str) -> None:
    """Refuse a location that carries credentials, without repeating them."""
    try:
        netloc = urlsplit(location).netloc
    except ValueError:
        return  # not a URL: a path, or refused by the rules that parse it
    if "@" in netloc:
        raise InvalidArgument(
            f"Invalid {_FIELD} {without_credentials(location)!r}: credentials in the URI are "
            "not allowed (a location is shown to everyone who can read the experiment)"
        )


def check_http_destination(
    uri: str, *, allow_private: bool, what: str = "artifact location"
) -> Destination | None:
    """Refuse an ``http(s)`` *uri* that breaks the destination rule; the checked destination
    (None for a URI of another scheme, which passes)."""
    if uri.partition(":")[0].lower() in ("http", "https"):
        return check_url_destination(
            uri, allow_private=allow_private, what=what, private_switch=_PRIVATE_SWITCH
        )
    return None


def _key(uri: str, proxy_scheme: str, destination: str) -> tuple[str, ...]:
    """*uri* as comparable path segments: the proxy's ``mlflow-artifacts:/a/b`` and the same
    folder of the destination give the same key; local paths are made absolute."""
    if uri.lower().startswith(proxy_scheme + ":"):
        rel = urlsplit(uri).path.strip("/")
        return _key(destination, proxy_scheme, destination) + tuple(s for s in rel.split("/") if s)
    if is_local_uri(uri):
        path = unquote(urlsplit(uri).path) if uri[:5].lower() == "file:" else uri
        return ("file", *[s for s in os.path.abspath(path).split(os.sep) if s])
    parts = urlsplit(uri)
    head = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    return (head, *[s for s in parts.path.split("/") if s])


def looks_like_run_id(segment: str) -> bool:
    try:
        validate_run_id(segment)
    except InvalidArgument:
        return False
    return True


def refuse_location(
    location: str,
    *,
    proxy_scheme: str,
    destination: str,
    staging_dir: str,
    allow_private: bool,
    find_run: Callable[[str], Run | None],
) -> None:
    """Raise InvalidArgument naming the field and the rule when a new experiment may not have
    *location* as its ``artifact_location``; *find_run* gives a run by id (None if unknown)."""
    refuse_credentials(location)
    try:
        key = _key(location, proxy_scheme, destination)
        staging = (*_key(destination, proxy_scheme, destination), staging_dir)
    except ValueError as exc:
        raise InvalidArgument(f"Invalid {_FIELD} {location!r}: {exc}") from None
    if key[: len(staging)] == staging:
        raise InvalidArgument(
            f"Invalid {_FIELD} {location!r}: it lies inside the server's staging folder "
            f"{staging_dir!r}, which is reserved for uploads in progress"
        )
    for i in range(1, len(key) - 1):
        if key[i + 1] != "artifacts" or not looks_like_run_id(key[i]):
            continue
        run = find_run(key[i])
        if run is None:
            continue
        root = _key(run.info.artifact_uri, proxy_scheme, destination)
        if key[: len(root)] == root:
            raise InvalidArgument(
                f"Invalid {_FIELD} {location!r}: it lies inside the artifacts of run "
                f"{run.info.run_id}; an experiment's runs may not write into another run's "
                "artifacts"
            )
    check_http_destination(location, allow_private=allow_private, what=_FIELD)
