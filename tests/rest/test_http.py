"""The REST client's HTTP layer against real servers on 127.0.0.1: retries, errors, auth, pool.

A small Starlette app plays the tracking server: each test scripts the answers of a path
(status, body, headers, or a delay) and the app records every request it received.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.rest._clock import VirtualClock

from mltrail._exceptions import (
    AlreadyExists,
    BadRequest,
    EndpointNotFound,
    InvalidArgument,
    MltrailError,
    NotFound,
    PermissionDenied,
    RequestLimitExceeded,
    TemporarilyUnavailable,
    Unauthenticated,
)
from mltrail.store.rest import Credentials, HttpConfig, RestClient
from mltrail.store.rest._http import backoff_delay, parse_retry_after

FAST = HttpConfig(backoff_factor_s=0.01, backoff_max_s=0.05, max_retries=5, timeout_s=5)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    content_type: str = "application/json"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int


class Script:
    """Scripted answers per path (then 200 ``{"ok": true}``) and the requests received."""

    def __init__(self) -> None:
        self.answers: dict[str, deque[Answer]] = defaultdict(deque)
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    def plan(self, path: str, *answers: Answer) -> None:
        self.answers[path].extend(answers)

    def count(self, path: str) -> int:
        return sum(1 for s in self.seen if s.path == path)

    def app(self) -> Starlette:
        async def handle(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.seen.append(
                    Seen(
                        request.method,
                        request.url.path,
                        dict(request.headers),
                        body,
                        request.client.port if request.client else 0,
                    )
                )
                queue = self.answers.get(request.url.path)
                answer = queue.popleft() if queue else Answer(body=b'{"ok": true}')
            if answer.delay_s:
                await asyncio.sleep(answer.delay_s)
            return Response(
                answer.body,
                status_code=answer.status,
                headers=answer.headers,
                media_type=answer.content_type,
            )

        return Starlette(
            routes=[Route("/{path:path}", handle, methods=["GET", "POST", "PATCH", "DELETE"])]
        )


def error(code: str, status: int, message: str = "boom", **headers: str) -> Answer:
    body = f'{{"error_code": "{code}", "message": "{message}"}}'.encode()
    return Answer(status, body, headers)


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def client() -> Iterator[Callable[..., RestClient]]:
    """``client(url, config)``: a RestClient, closed when the test ends."""
    made: list[RestClient] = []

    def make(url: str, config: HttpConfig | None = None) -> RestClient:
        made.append(RestClient(url, config))
        return made[-1]

    yield make
    for c in made:
        c.close()


@pytest.fixture
def url(serve: Callable[..., Any], script: Script) -> str:
    return str(serve(script.app()).url)


P = "/api/2.0/mlflow/x"


# -- error bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        ("RESOURCE_DOES_NOT_EXIST", 404, NotFound),
        ("ENDPOINT_NOT_FOUND", 404, EndpointNotFound),
        ("INVALID_PARAMETER_VALUE", 400, InvalidArgument),
        ("BAD_REQUEST", 400, BadRequest),
        ("RESOURCE_ALREADY_EXISTS", 400, AlreadyExists),
        ("UNAUTHENTICATED", 401, Unauthenticated),
        ("PERMISSION_DENIED", 403, PermissionDenied),
        ("REQUEST_LIMIT_EXCEEDED", 429, RequestLimitExceeded),
        ("TEMPORARILY_UNAVAILABLE", 503, TemporarilyUnavailable),
    ],
)
def test_error_bodies_come_back_as_the_same_exception_class(
    url: str,
    script: Script,
    code: str,
    status: int,
    cls: type[MltrailError],
    client: Callable[..., RestClient],
) -> None:
    script.plan(P, error(code, status, "Run 'abc' not found"))
    c = client(url, FAST)
    with pytest.raises(cls) as info:
        c.call("POST", P, body={}, idempotent=False)
    assert type(info.value) is cls
    assert info.value.error_code == code
    assert info.value.message == "Run 'abc' not found"


def test_except_not_found_works_as_with_a_local_store(
    url: str, script: Script, client: Callable[..., RestClient]
) -> None:
    script.plan(P, error("RESOURCE_DOES_NOT_EXIST", 404))
    c = client(url, FAST)
    try:
        c.call("GET", P, idempotent=True)
    except NotFound as exc:
        caught: MltrailError = exc
    assert caught.get_http_status_code() == 404
    assert script.count(P) == 1  # a 404 is an answer, never retried


def test_an_unknown_error_code_is_kept(
    url: str, script: Script, client: Callable[..., RestClient]
) -> None:
    script.plan(P, error("SOMETHING_NEW", 500, "odd"))
    with pytest.raises(MltrailError) as info:
        client(url, FAST).call("POST", P, body={}, idempotent=True)
    assert type(info.value) is MltrailError
    assert info.value.error_code == "SOMETHING_NEW"
    assert info.value.message == "odd"


def test_a_proxy_error_page_names_the_status(
    url: str, script: Script, client: Callable[..., RestClient]
) -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body>"
    script.plan(P, Answer(502, page, content_type="text/html"))
    with pytest.raises(MltrailError) as info:
        client(url, FAST).call("POST", P, body={}, idempotent=False)
    message = str(info.value)
    assert f"POST {url}{P} failed with HTTP 502 Bad Gateway" in message
    assert "502 Bad Gateway Bad Gateway" in message  # the page's text, tags dropped
    assert "<html>" not in message
    assert script.count(P) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, Unauthenticated),
        (403, PermissionDenied),
        (404, EndpointNotFound),
        (500, MltrailError),
    ],
)
def test_plain_text_errors_get_the_class_of_their_status(
    url: str,
    script: Script,
    status: int,
    cls: type[MltrailError],
    client: Callable[..., RestClient],
) -> None:
    script.plan(P, Answer(status, b"nope", content_type="text/plain"))
    with pytest.raises(cls, match=f"HTTP {status}"):
        client(url, FAST).call("GET", P, idempotent=True)


def test_a_redirect_is_reported_not_followed(
    url: str, script: Script, client: Callable[..., RestClient]
) -> None:
    script.plan(P, Answer(302, b"", {"Location": "https://sso.example/login"}))
    with pytest.raises(MltrailError, match=r"redirect to https://sso\.example/login"):
        client(url, FAST).call("GET", P, idempotent=True)


def test_a_success_that_is_not_json_is_an_error(
    url: str, script: Script, client: Callable[..., RestClient]
) -> None:
    script.plan(P, Answer(200, b"<html>login</html>", content_type="text/html"))
    with pytest.raises(MltrailError, match=r"not a JSON object.*text/html"):
        client(url, FAST).call("GET", P, idempotent=True)


def test_an_empty_success_body_is_an_empty_object(
    url: str, script: Script, client: Callable[..., RestClient]
) -> None:
    script.plan(P, Answer(200, b""))
    assert client(url, FAST).call("POST", P, body={"a": 1}, idempotent=False) == {}
    assert script.seen[0].body == b'{"a":1}'
    assert script.seen[0].headers["content-type"] == "application/json"


# -- retries -----------------------------------------------------------------------------------


def test_idempotent_calls_retry_429_and_503_and_follow_retry_after(
    url: str,
    script: Script,
    client: Callable[..., RestClient],
    clock: VirtualClock,
) -> None:
    script.plan(
        P,
        error("TEMPORARILY_UNAVAILABLE", 503, **{"Retry-After": "1"}),
        error("REQUEST_LIMIT_EXCEEDED", 429),
        Answer(502, b"bad gateway", content_type="text/plain"),
    )
    assert client(url, FAST).call("GET", P, idempotent=True) == {"ok": True}
    assert script.count(P) == 4
    # Retry-After: 1 is waited for; then the backoff (0.01 s, 0.02 s, with equal jitter).
    assert clock.sleeps[0] == 1.0
    assert len(clock.sleeps) == 3
    assert 0.005 <= clock.sleeps[1] <= 0.02
    assert 0.01 <= clock.sleeps[2] <= 0.04


def test_non_idempotent_calls_are_not_resent_after_an_answer(
    url: str, script: Script, client: Callable[..., RestClient]
) -> None:
    script.plan(P, error("TEMPORARILY_UNAVAILABLE", 503))
    with pytest.raises(TemporarilyUnavailable):
        client(url, FAST).call("POST", P, body={}, idempotent=False)
    assert script.count(P) == 1


def test_retries_stop_after_max_retries(
    url: str, script: Script, client: Callable[..., RestClient], clock: VirtualClock
) -> None:
    script.plan(P, *[error("TEMPORARILY_UNAVAILABLE", 503)] * 10)
    config = HttpConfig(backoff_factor_s=0.001, max_retries=3)
    with pytest.raises(TemporarilyUnavailable, match=r"after 3 retries over"):
        client(url, config).call("GET", P, idempotent=True)
    assert script.count(P) == 4
    assert len(clock.sleeps) == 3


def test_retries_stop_at_the_retry_timeout(
    url: str, script: Script, client: Callable[..., RestClient], clock: VirtualClock
) -> None:
    script.plan(P, *[error("TEMPORARILY_UNAVAILABLE", 503)] * 50)
    config = HttpConfig(backoff_factor_s=0.2, backoff_max_s=0.2, max_retries=50, retry_timeout_s=1)
    with pytest.raises(TemporarilyUnavailable):
        client(url, config).call("GET", P, idempotent=True)
    # Each wait is 0.1-0.2 s; none is begun that would end past the 1 s retry timeout.
    assert all(0.1 <= s <= 0.2 for s in clock.sleeps), clock.sleeps
    assert sum(clock.sleeps) <= 1.0
    assert 5 <= len(clock.sleeps) <= 10
    assert sum(clock.sleeps) + 0.2 > 1.0  # the next one could have
    assert script.count(P) == len(clock.sleeps) + 1


def test_a_long_retry_after_beyond_the_retry_timeout_gives_up_at_once(
    url: str,
    script: Script,
    client: Callable[..., RestClient],
    clock: VirtualClock,
) -> None:
    script.plan(P, error("REQUEST_LIMIT_EXCEEDED", 429, **{"Retry-After": "3600"}))
    config = HttpConfig(backoff_max_s=3600, retry_timeout_s=5)
    with pytest.raises(RequestLimitExceeded):
        client(url, config).call("GET", P, idempotent=True)
    assert clock.sleeps == []  # no wait at all
    assert script.count(P) == 1


def test_connection_refused_is_retried_for_every_call_until_the_server_is_up(
    serve: Callable[..., Any],
    script: Script,
    free_port: Callable[[], int],
    client: Callable[..., RestClient],
) -> None:
    port = free_port()
    starter = threading.Timer(0.4, lambda: serve(script.app(), port))
    starter.start()
    config = HttpConfig(backoff_factor_s=0.05, backoff_max_s=0.2, max_retries=50)
    try:
        # experiments/create is not idempotent, but nothing reached the server: safe to resend.
        out = client(f"http://127.0.0.1:{port}", config).call(
            "POST", P, body={"name": "e"}, idempotent=False
        )
    finally:
        starter.join()
    assert out == {"ok": True}
    assert script.count(P) == 1


def test_an_unreachable_server_is_a_clear_error(
    free_port: Callable[[], int], client: Callable[..., RestClient]
) -> None:
    port = free_port()
    config = HttpConfig(backoff_factor_s=0.01, max_retries=2)
    unreachable = client(f"http://127.0.0.1:{port}", config)
    with pytest.raises(TemporarilyUnavailable) as info:
        unreachable.call("GET", "/api/2.0/mlflow/runs/get", idempotent=True)
    message = str(info.value)
    assert f"GET http://127.0.0.1:{port}/api/2.0/mlflow/runs/get failed" in message
    assert "could not be reached (ConnectError" in message
    assert "after 2 retries" in message


def test_a_read_timeout_is_retried_only_for_idempotent_calls(
    url: str, script: Script, client: Callable[..., RestClient]
) -> None:
    config = HttpConfig(timeout_s=0.3, backoff_factor_s=0.01, max_retries=3)
    script.plan(P, Answer(delay_s=1.0))
    assert client(url, config).call("GET", P, idempotent=True) == {"ok": True}
    assert script.count(P) == 2
    script.plan("/api/2.0/mlflow/y", Answer(delay_s=1.0))
    with pytest.raises(MltrailError, match=r"ReadTimeout.*not resent"):
        client(url, config).call("POST", "/api/2.0/mlflow/y", body={}, idempotent=False)
    assert script.count("/api/2.0/mlflow/y") == 1


def test_the_timeout_comes_from_mlflows_variable(
    url: str,
    script: Script,
    monkeypatch: pytest.MonkeyPatch,
    client: Callable[..., RestClient],
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "0.3")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    script.plan(P, Answer(delay_s=2.0))
    timed_out = client(url)
    assert timed_out.config.timeout_s == 0.3
    with pytest.raises(MltrailError, match="ReadTimeout"):  # within the answer's 2 s delay
        timed_out.call("GET", P, idempotent=True)
    assert script.count(P) == 1


class _DroppingServer:
    """A raw TCP server: the first *drops* connections read a request and close without an
    answer (as a server killed mid-request does), later ones get ``200 {}``."""

    def __init__(self, drops: int) -> None:
        self.drops = drops
        self.requests = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.requests += 1
                if self.requests > self.drops:
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
                    )

    def close(self) -> None:
        self.sock.close()


def test_a_dropped_connection_is_retried_only_for_idempotent_calls(
    client: Callable[..., RestClient],
) -> None:
    server = _DroppingServer(drops=2)
    try:
        dropping = client(f"http://127.0.0.1:{server.port}", FAST)
        # the drop shows as a clean end of the connection, or as a reset when the body was
        # still unread in the server's socket as it closed: both are a dropped connection
        with pytest.raises(MltrailError, match=r"(RemoteProtocolError|ReadError).*not resent"):
            dropping.call("POST", P, body={}, idempotent=False)
        assert server.requests == 1
        assert dropping.call("POST", P, body={}, idempotent=True) == {}
        assert server.requests == 3
    finally:
        server.close()


# -- credentials -------------------------------------------------------------------------------


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"MLTRAIL_TRACKING_USERNAME": "ann", "MLTRAIL_TRACKING_PASSWORD": "s3cr3t"}, "basic"),
        ({"MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_PASSWORD": "s3cr3t"}, "basic"),
        ({"MLTRAIL_TRACKING_TOKEN": "tok-123"}, "bearer"),
        ({"MLFLOW_TRACKING_TOKEN": "tok-123"}, "bearer"),
        (
            {
                "MLTRAIL_TRACKING_USERNAME": "ann",
                "MLTRAIL_TRACKING_PASSWORD": "s3cr3t",
                "MLFLOW_TRACKING_TOKEN": "tok-123",
            },
            "basic",
        ),
    ],
)
def test_credentials_from_the_environment(
    url: str,
    script: Script,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    expected: str,
    client: Callable[..., RestClient],
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    client(url).call("GET", P, idempotent=True)
    header = script.seen[-1].headers["authorization"]
    if expected == "basic":
        assert header == _basic("ann", "s3cr3t")
    else:
        assert header == "Bearer tok-123"


def test_mltrail_names_win_over_mlflow_names(
    url: str, script: Script, client: Callable[..., RestClient]
) -> None:
    env = {
        "MLTRAIL_TRACKING_TOKEN": "ours",
        "MLFLOW_TRACKING_TOKEN": "theirs",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
        "MLTRAIL_HTTP_REQUEST_MAX_RETRIES": "4",
    }
    config = HttpConfig.from_env(env)
    assert config.max_retries == 4
    client(url, config).call("GET", P, idempotent=True)
    assert script.seen[-1].headers["authorization"] == "Bearer ours"


def test_credentials_in_the_uri_are_sent_as_basic_and_hidden(
    url: str,
    script: Script,
    caplog: pytest.LogCaptureFixture,
    client: Callable[..., RestClient],
) -> None:
    secret_url = url.replace("http://", "http://ann:pa55word@")
    secret = client(secret_url, HttpConfig(backoff_factor_s=0.001, max_retries=1))
    assert secret.base_url == url
    script.plan(P, *[error("TEMPORARILY_UNAVAILABLE", 503)] * 3)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TemporarilyUnavailable) as info:
        secret.call("GET", P, idempotent=True)
    assert script.seen[-1].headers["authorization"] == _basic("ann", "pa55word")
    assert "pa55word" not in str(info.value)
    assert caplog.records  # the retry was logged...
    for record in caplog.records:  # ...and no log line (ours or httpx's) holds a secret
        assert "pa55word" not in record.getMessage()
        assert _basic("ann", "pa55word").split()[1] not in record.getMessage()


def test_credentials_never_appear_in_reprs() -> None:
    creds = Credentials("ann", "pa55word", "tok-123")
    config = HttpConfig(credentials=creds)
    for text in (repr(creds), repr(config), str(config)):
        assert "pa55word" not in text
        assert "tok-123" not in text
    assert creds.kind == "basic"
    assert Credentials(token="t").kind == "bearer"
    assert Credentials().kind is None


# -- settings ----------------------------------------------------------------------------------


def test_settings_from_the_environment() -> None:
    config = HttpConfig.from_env(
        {
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "7.5",
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
            "MLTRAIL_HTTP_REQUEST_BACKOFF_FACTOR": "0.5",
            "MLTRAIL_HTTP_REQUEST_BACKOFF_MAX": "4",
            "MLTRAIL_HTTP_REQUEST_RETRY_TIMEOUT": "9",
            "MLFLOW_TRACKING_INSECURE_TLS": "true",
        }
    )
    assert (config.timeout_s, config.max_retries) == (7.5, 2)
    assert (config.backoff_factor_s, config.backoff_max_s, config.retry_timeout_s) == (0.5, 4, 9)
    assert config.verify is False
    assert HttpConfig.from_env({"MLTRAIL_TRACKING_SERVER_CERT_PATH": "/ca.pem"}).verify == "/ca.pem"
    defaults = HttpConfig.from_env({})
    assert defaults == HttpConfig()
    assert (defaults.max_retries, defaults.timeout_s) == (7, 120)


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "many", "a number of at least 0"),
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2.5", "a whole number"),
        ("MLTRAIL_HTTP_REQUEST_TIMEOUT", "0", "at least 0.001"),
        ("MLTRAIL_HTTP_REQUEST_BACKOFF_FACTOR", "-1", "at least 0"),
        ("MLTRAIL_HTTP_REQUEST_RETRY_TIMEOUT", "nan", "at least 0"),
    ],
)
def test_bad_settings_name_the_variable_and_the_rule(name: str, value: str, rule: str) -> None:
    setting = name.split("_", 1)[1]
    with pytest.raises(InvalidArgument, match=f"Invalid {setting} '{value}': .*{rule}"):
        HttpConfig.from_env({name: value})


def test_a_tracking_uri_that_is_not_http_is_refused(client: Callable[..., RestClient]) -> None:
    with pytest.raises(InvalidArgument, match="expected http://host"):
        client("ftp://host/x", FAST)


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    config = HttpConfig(backoff_factor_s=0.5, backoff_max_s=3)
    for retry, full in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 3.0), (10, 3.0)]:
        delays = [backoff_delay(retry, config) for _ in range(200)]
        assert all(full / 2 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full / 10  # jitter spreads clients out


def test_retry_after_as_seconds_or_http_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = 1_700_000_000.0
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + 5))
    assert parse_retry_after(date, now=now) == pytest.approx(5.0)
    past = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now - 5))
    assert parse_retry_after(past, now=now) == 0.0


# -- the connection pool -----------------------------------------------------------------------


def test_sequential_calls_reuse_one_kept_alive_connection(
    url: str, script: Script, client: Callable[..., RestClient]
) -> None:
    one = client(url, FAST)
    for _ in range(20):
        one.call("GET", P, idempotent=True)
    assert len({s.client_port for s in script.seen}) == 1


def test_threads_share_one_client_safely(
    url: str, script: Script, client: Callable[..., RestClient]
) -> None:
    shared = client(url, FAST)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                assert shared.call("POST", P, body={"n": n, "i": i}, idempotent=False) == {
                    "ok": True
                }
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert script.count(P) == 200
    assert len({s.client_port for s in script.seen}) <= 8


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_gets_its_own_connections(
    url: str, script: Script, client: Callable[..., RestClient]
) -> None:
    shared = client(url, FAST)
    shared.call("GET", P, idempotent=True)  # the parent has a kept-alive connection now
    pid = os.fork()
    if pid == 0:  # the child: many calls at the same time as the parent's
        code = 0
        try:
            for i in range(100):
                if shared.call("POST", P, body={"child": i}, idempotent=False) != {"ok": True}:
                    code = 1
        except BaseException:
            code = 2
        os._exit(code)
    for i in range(100):
        assert shared.call("POST", P, body={"parent": i}, idempotent=False) == {"ok": True}
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert script.count(P) == 201
    assert len({s.client_port for s in script.seen}) == 2  # one connection each
