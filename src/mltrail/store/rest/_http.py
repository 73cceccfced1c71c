"""One keep-alive HTTP client per store: JSON in and out, retries, credentials, errors.

When is a call retried?  Only when sending it again cannot do harm:

* The connection could not be made (refused, connect timeout, no free pooled connection):
  nothing reached the server, so every call is retried, even ``experiments/create``.  A failed
  TLS handshake (a certificate that does not verify) is not retried: it would fail again.
* The request may have reached the server and the answer was lost (read or write error, read
  timeout, the server closed the connection), or the server or a proxy in front of it answered
  429, 502, 503 or 504: only calls marked *idempotent* are retried, those whose repetition
  leaves the same state and gives the same answer (reads, sets, deletes of runs and
  experiments, log-batch; the store lists them).  Everything else raises at once.

Waits grow exponentially with jitter (``factor * 2**n``, between half and all of it, at most
``backoff_max``); a ``Retry-After`` header is followed instead when the server sends one.
No retry starts after ``retry_timeout`` seconds (a longer Retry-After gives up at once), so a
call always ends.

Credentials (``Authorization`` header) are never logged nor put into an error message; a
tracking URI's ``user:password@`` part is taken out of the URL and sent as Basic credentials.
"""

from __future__ import annotations

import base64
import email.utils
import json
import logging
import os
import random
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx

from mltrail._exceptions import InvalidArgument, MltrailError, TemporarilyUnavailable
from mltrail.store._workspace_base import WORKSPACE_HEADER, bound_workspace
from mltrail.store.rest._config import Credentials, HttpConfig
from mltrail.store.rest._errors import error_from_response

__all__ = ["RETRY_STATUSES", "RestClient", "backoff_delay", "parse_retry_after"]

logger = logging.getLogger("mltrail.store.rest")

#: Answers that mean "not now": a retry of an idempotent call may succeed.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Nothing was sent: safe to retry whatever the call.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The request may have been sent (and applied): retried for idempotent calls only.
_MAYBE_SENT = (
    httpx.ReadError,
    httpx.ReadTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
)
_MAX_CONNECTIONS = 32
_KEEPALIVE_CONNECTIONS = 8
# Below uvicorn's keep-alive timeout (5 s): we drop an idle connection before the server does.
_KEEPALIVE_EXPIRY_S = 4.0


def backoff_delay(retry: int, config: HttpConfig, rng: random.Random | None = None) -> float:
    """The wait before retry number *retry* (0 for the first): ``factor * 2**retry``, capped,
    with "equal jitter" (uniformly between half and all of it) so clients spread out."""
    full = min(config.backoff_max_s, config.backoff_factor_s * (2.0**retry))
    return full / 2 + (rng or random).uniform(0, full / 2)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _auth_header(credentials: Credentials) -> dict[str, str]:
    if credentials.kind == "basic":
        raw = f"{credentials.username}:{credentials.password or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
    if credentials.kind == "bearer":
        return {"Authorization": f"Bearer {credentials.token}"}
    return {}


def _tls_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """httpx's ``verify``: on, off, or a context trusting a CA bundle (a file or a folder)."""
    if isinstance(verify, bool):
        return verify
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    try:
        return ssl.create_default_context(cafile=verify)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidArgument(
            f"Invalid TRACKING_SERVER_CERT_PATH {verify!r}: not a readable CA bundle ({exc})"
        ) from None


def _user_agent() -> str:
    from importlib import metadata

    try:
        return f"mltrail/{metadata.version('mltrail')}"
    except metadata.PackageNotFoundError:
        return "mltrail"


class RestClient:
    """JSON calls to ``<base>/api/2.0/...``; thread-safe (one pool shared by all threads)."""

    def __init__(
        self,
        base_url: str,
        config: HttpConfig | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config or HttpConfig.from_env()
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise InvalidArgument(
                f"Invalid tracking URI {url.copy_with(username=None, password=None)}: "
                "expected http://host[:port][/path] or https://..."
            )
        credentials = self.config.credentials
        if credentials.kind is None and url.username:
            credentials = Credentials(url.username, url.password)
        # The URL without credentials: the only form that appears in messages and logs.
        self.base_url = str(url.copy_with(username=None, password=None)).rstrip("/")
        self._rng = random.Random()
        timeout = self.config.timeout_s
        self._options: dict[str, Any] = {
            "headers": {
                "User-Agent": _user_agent(),
                "Accept": "application/json",
                **_auth_header(credentials),
            },
            "timeout": httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            "limits": httpx.Limits(
                max_connections=_MAX_CONNECTIONS,
                max_keepalive_connections=_KEEPALIVE_CONNECTIONS,
                keepalive_expiry=_KEEPALIVE_EXPIRY_S,
            ),
            "transport": transport,
            "verify": _tls_verify(self.config.verify),
            "follow_redirects": False,
        }
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._http = httpx.Client(**self._options)

    def _session(self) -> httpx.Client:
        """The connection pool of this process: a forked child (a data loader worker, a
        multiprocessing pool) gets its own instead of talking on its parent's sockets."""
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._http = httpx.Client(**self._options)  # the parent's is left alone
                    self._pid = os.getpid()
        return self._http

    def close(self) -> None:
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool,
    ) -> dict[str, Any]:
        """Send one call (``path`` below the base URL, e.g. ``/api/2.0/mlflow/runs/get``) and
        return its JSON object; raise the mapped :class:`MltrailError` on failure."""
        url = self.base_url + path
        what = f"{method} {url}"
        content = None
        headers = None
        if body is not None:
            content = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
            headers = {"Content-Type": "application/json"}
        workspace = bound_workspace()
        if workspace:  # mltrail.set_workspace / MLFLOW_WORKSPACE, as MLflow's client sends it
            headers = {**(headers or {}), WORKSPACE_HEADER: workspace}
        started = time.monotonic()
        retry = 0
        while True:
            try:
                response = self._session().request(
                    method, url, content=content, params=params, headers=headers
                )
            except _NOT_SENT as exc:
                if _is_tls_failure(exc):  # a certificate does not get better by waiting
                    raise MltrailError(
                        f"{what} failed: TLS error: {exc} (set MLTRAIL_TRACKING_SERVER_CERT_PATH "
                        "to a CA bundle that signed the server's certificate)"
                    ) from exc
                error: BaseException = exc
                may_retry = True
                wait = None
            except _MAYBE_SENT as exc:
                error = exc
                may_retry = idempotent
                wait = None
            except httpx.HTTPError as exc:  # a bad URL, a TLS or protocol misuse: permanent
                raise MltrailError(f"{what} failed: {type(exc).__name__}: {exc}") from exc
            else:
                status = response.status_code
                if status < 300:
                    return self._decode(what, response)
                error = error_from_response(
                    what,
                    status,
                    response.reason_phrase,
                    response.content,
                    response.headers.get("Location"),
                )
                if status not in RETRY_STATUSES:
                    raise error
                may_retry = idempotent
                wait = parse_retry_after(response.headers.get("Retry-After"))
            delay = backoff_delay(retry, self.config, self._rng) if wait is None else wait
            elapsed = time.monotonic() - started
            if (
                not may_retry
                or retry >= self.config.max_retries
                or elapsed + delay > self.config.retry_timeout_s
            ):
                raise self._give_up(what, error, retry, elapsed, may_retry)
            retry += 1
            logger.warning(
                "%s failed (%s); retry %d of %d in %.2f s",
                what,
                _describe(error),
                retry,
                self.config.max_retries,
                delay,
            )
            time.sleep(delay)

    @staticmethod
    def _decode(what: str, response: httpx.Response) -> dict[str, Any]:
        content = response.content
        if not content.strip():
            return {}
        try:
            data = json.loads(content)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise MltrailError(
                f"{what} answered HTTP {response.status_code} with a body that is not a JSON "
                f"object; is the tracking URI the address of a tracking server? "
                f"(content type {response.headers.get('Content-Type', 'none')})"
            )
        return data

    @staticmethod
    def _give_up(
        what: str, error: BaseException, retries: int, elapsed: float, safe: bool
    ) -> MltrailError:
        """The error to raise for the last failure; *safe*: the call could have been resent."""
        tried = f" (after {retries} retries over {elapsed:.1f} s)" if retries else ""
        if isinstance(error, MltrailError):
            if retries:
                error.message = f"{error.message}{tried}"
                error.args = (error.message,)
            return error
        wrapped: MltrailError
        if isinstance(error, _NOT_SENT):
            wrapped = TemporarilyUnavailable(
                f"{what} failed: the tracking server could not be reached "
                f"({_describe(error)}){tried}"
            )
        elif safe:  # kept failing on the way there or back: the server is not answering
            wrapped = TemporarilyUnavailable(f"{what} failed: {_describe(error)}{tried}")
        else:
            wrapped = MltrailError(
                f"{what} failed: {_describe(error)}; not resent, since the server may have "
                "carried it out already"
            )
        wrapped.__cause__ = error
        return wrapped


def _is_tls_failure(error: BaseException) -> bool:
    """Whether a connection failed in the TLS handshake (httpx chains the ``ssl`` error)."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe(error: BaseException) -> str:
    if isinstance(error, MltrailError):
        return f"{error.error_code}: {error.message}"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
