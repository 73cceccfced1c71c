"""mltrail's own client logging to an mltrail tracking server over HTTP.

The fluent API with an ``http://`` tracking URI: logging never waits for the network, batches
respect the server's limits, failures surface, and a server restart in the middle of a run (a
real ``mltrail server`` process, killed and started again on the same port) loses nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests._live_server import ServerProcess, start_mltrail_server

import mltrail
from mltrail._exceptions import InvalidArgument, NotFound, TemporarilyUnavailable
from mltrail.entities import Metric

FAST_RETRIES = {
    "MLTRAIL_HTTP_REQUEST_BACKOFF_FACTOR": "0.05",
    "MLTRAIL_HTTP_REQUEST_BACKOFF_MAX": "0.5",
    "MLTRAIL_HTTP_REQUEST_MAX_RETRIES": "100",
    "MLTRAIL_HTTP_REQUEST_RETRY_TIMEOUT": "60",
}


class CountingApp:
    """ASGI middleware counting requests per path (in front of the real server app)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            with self.lock:
                self.counts[scope["path"]] = self.counts.get(scope["path"], 0) + 1
        await self.app(scope, receive, send)

    def count(self, endpoint: str) -> int:
        return self.counts.get("/api/2.0/mlflow/" + endpoint, 0)


def _server_app(root: Path) -> Any:
    from mltrail.server import ServerSettings, create_app

    root.mkdir(parents=True, exist_ok=True)
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{root / 'mltrail.db'}",
        artifacts_destination=str(root / "artifacts"),
    )
    return create_app(settings)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST_RETRIES.items():
        monkeypatch.setenv(key, value)


_NETWORK = (
    f"{os.sep}httpx{os.sep}",
    f"{os.sep}httpcore{os.sep}",
    f"{os.sep}store{os.sep}rest{os.sep}",
)
_WAITS = {"wait", "wait_for", "join", "acquire", "flush"}


@contextlib.contextmanager
def _blocking_calls() -> Iterator[list[str]]:
    """What the calling thread does, inside the block, that could wait for the network: any
    call into httpx or the REST store, a wait on another thread (``Event.wait``,
    ``Condition.wait``, a logger's ``flush``), ``time.sleep`` or a socket operation."""
    found: list[str] = []

    def watch(frame: types.FrameType, event: str, arg: Any) -> None:
        if event == "call":
            code = frame.f_code
            if code.co_filename.endswith("threading.py") or "_batching" in code.co_filename:
                if code.co_name in _WAITS:
                    found.append(f"{code.co_filename}:{code.co_name}")
            elif any(part in code.co_filename for part in _NETWORK):
                found.append(f"{code.co_filename}:{code.co_name}")
        elif event == "c_call" and (
            arg is time.sleep or getattr(arg, "__qualname__", "").startswith("socket.")
        ):
            found.append(repr(arg))

    sys.setprofile(watch)
    try:
        yield found
    finally:
        sys.setprofile(None)


def _steps(run_id: str, key: str) -> list[Metric]:
    return mltrail.MlflowClient().get_metric_history(run_id, key)


def test_fluent_logging_goes_in_batches_within_the_servers_limits(
    serve: Callable[..., Any], tmp_path: Path
) -> None:
    counting = CountingApp(_server_app(tmp_path / "server"))
    server = serve(counting)
    mltrail.set_tracking_uri(server.url)
    with mltrail.start_run() as run:
        for i in range(5000):
            mltrail.log_metric("loss", i / 10, step=i)
        mltrail.log_params({f"p{i}": i for i in range(250)})
        mltrail.set_tags({f"t{i}": i for i in range(150)})
    run_id = run.info.run_id
    # 5400 values, at most 1000 per request: a handful of requests, not one per call.
    assert 6 <= counting.count("runs/log-batch") <= 40
    assert counting.count("runs/log-metric") == 0
    history = _steps(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(i, i / 10) for i in range(5000)]
    stored = mltrail.get_run(run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {f"p{i}": str(i) for i in range(250)}
    assert {k: v for k, v in stored.data.tags.items() if k.startswith("t")} == {
        f"t{i}": str(i) for i in range(150)
    }


def test_logging_returns_without_the_network_and_end_run_waits_for_delivery(
    serve: Callable[..., Any], tmp_path: Path, free_port: Callable[[], int], fast_retries: None
) -> None:
    port = free_port()
    first = serve(_server_app(tmp_path / "server"), port)
    mltrail.set_tracking_uri(first.url)
    run = mltrail.start_run()
    mltrail.log_metric("m", 0.0, step=0)
    mltrail.flush()
    first.stop()  # the server is gone: a call that needed it would now wait and fail
    with _blocking_calls() as blocked:
        for i in range(1, 20_001):
            mltrail.log_metric("m", float(i), step=i)
    assert blocked == [], "log_metric waited with the server down"
    serve(_server_app(tmp_path / "server"), port)  # back, on the same port and database
    mltrail.end_run()
    history = _steps(run.info.run_id, "m")
    assert [m.step for m in history] == list(range(20_001))
    assert [m.value for m in history] == [float(i) for i in range(20_001)]


def test_flush_waits_until_the_server_has_every_value(tracking_server: Any) -> None:
    from mltrail.store.rest import RestBackend

    mltrail.set_tracking_uri(tracking_server.url)
    run = mltrail.start_run()
    for i in range(3000):
        mltrail.log_metric("m", float(i), step=i)
    mltrail.set_tag("t", "v")
    mltrail.flush()
    reader = RestBackend(tracking_server.url)  # another client: sees only what the server has
    try:
        assert len(reader.metrics.get_metric_history(run.info.run_id, "m")) == 3000
        assert reader.runs.get_run(run.info.run_id).data.tags["t"] == "v"
    finally:
        reader.close()
    mltrail.end_run()


def test_interpreter_exit_waits_for_delivery(tracking_server: Any, tmp_path: Path) -> None:
    script = (
        "import mltrail\n"
        f"mltrail.set_tracking_uri({tracking_server.url!r})\n"
        "run = mltrail.start_run()\n"
        "print(run.info.run_id, flush=True)\n"
        "for i in range(20000):\n"
        "    mltrail.log_metric('m', float(i), step=i)\n"
        "mltrail.log_param('p', 'exit')\n"
        # no end_run, no flush: the interpreter exits with everything still queued
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLTRAIL_", "MLFLOW_"))}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    run_id = done.stdout.split()[0]
    client = mltrail.MlflowClient(tracking_server.url)
    history = client.get_metric_history(run_id, "m")
    assert [m.step for m in history] == list(range(20000))
    stored = client.get_run(run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {"p": "exit"}


def test_a_refused_value_is_raised_at_the_next_call_and_at_end_run(tracking_server: Any) -> None:
    mltrail.set_tracking_uri(tracking_server.url)
    run = mltrail.start_run()
    mltrail.MlflowClient().log_param(run.info.run_id, "lr", "0.1")  # logged by another client
    mltrail.log_param("lr", "0.2")  # params are immutable: the server refuses it
    with pytest.raises(InvalidArgument, match="Changing param values"):
        mltrail.flush()
    mltrail.log_metric("ok", 1.0)
    mltrail.end_run()
    stored = mltrail.get_run(run.info.run_id)
    assert stored.data.params == {"lr": "0.1"}
    assert stored.data.metrics == {"ok": 1.0}

    other = mltrail.start_run()
    mltrail.MlflowClient().delete_run(other.info.run_id)
    mltrail.log_metric("late", 1.0)  # the run is deleted on the server: refused there
    with pytest.raises(InvalidArgument):
        mltrail.end_run()


def test_an_unreachable_server_fails_end_run_and_loses_nothing_silently(
    serve: Callable[..., Any],
    tmp_path: Path,
    free_port: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_MAX_RETRIES", "2")
    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_BACKOFF_FACTOR", "0.01")
    port = free_port()
    server = serve(_server_app(tmp_path / "server"), port)
    mltrail.set_tracking_uri(server.url)
    mltrail.start_run()
    server.stop()
    mltrail.log_metric("m", 1.0)
    with pytest.raises(TemporarilyUnavailable, match="could not be reached"):
        mltrail.end_run()


def test_client_reads_map_errors_like_a_local_store(tracking_server: Any) -> None:
    client = mltrail.MlflowClient(tracking_server.url)
    with pytest.raises(NotFound):
        client.get_run("f" * 32)
    assert client.get_experiment_by_name("nope") is None
    eid = client.create_experiment("remote")
    assert client.get_experiment(eid).name == "remote"
    with pytest.raises(mltrail.exceptions.AlreadyExists):
        client.create_experiment("remote")


# -- a real server process, restarted in the middle of a run ------------------------------------


def _start_server_process(root: Path, port: int) -> ServerProcess:
    return start_mltrail_server(
        root,
        "--backend-store-uri",
        f"sqlite:///{root / 'mltrail.db'}",
        "--artifacts-destination",
        str(root / "artifacts"),
        port=port,
    )


def _retried(caplog: pytest.LogCaptureFixture) -> bool:
    return any("ConnectError" in r.getMessage() for r in list(caplog.records))


@pytest.fixture
def server_processes() -> Iterator[list[ServerProcess]]:
    procs: list[ServerProcess] = []
    yield procs
    for proc in procs:
        proc.stop()


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
def test_a_server_restart_in_the_middle_of_a_run_loses_nothing(
    tmp_path: Path,
    free_port: Callable[[], int],
    fast_retries: None,
    server_processes: list[ServerProcess],
    stop_signal: signal.Signals,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="mltrail.store.rest")
    root = tmp_path / "server"
    root.mkdir()
    port = free_port()
    server_processes.append(_start_server_process(root, port))
    mltrail.set_tracking_uri(f"http://127.0.0.1:{port}")
    n = 30_000
    with mltrail.start_run() as run:
        mltrail.log_param("phase", "one")
        for i in range(n):
            mltrail.log_metric("loss", float(i), step=i)
            if i == n // 3:  # the server goes away while values are in flight
                server_processes[0].send_signal(stop_signal)
                server_processes[0].proc.wait(30)
            elif i == 2 * n // 3:
                # Restart only once the client has met the dead server (its logger wakes up
                # within a second), so the test always exercises the retries.
                deadline = time.monotonic() + 15
                while not _retried(caplog) and time.monotonic() < deadline:
                    time.sleep(0.02)
                server_processes.append(_start_server_process(root, port))
        mltrail.set_tag("done", "yes")
    assert _retried(caplog), (
        "the client never had to wait for the server: the restart was not exercised"
    )
    history = mltrail.MlflowClient().get_metric_history(run.info.run_id, "loss")
    by_step = {m.step: m.value for m in history}
    assert by_step == {i: float(i) for i in range(n)}  # every point, with its value
    if stop_signal == signal.SIGTERM:
        # A graceful stop answers what it accepted: nothing is ambiguous, nothing resent.
        assert len(history) == n
    else:
        # A killed server may have stored a batch whose answer was lost: it is resent, and
        # its points can then appear twice, identically (see mltrail.store.rest._store).
        assert len(history) >= n
    stored = mltrail.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {"phase": "one"}
    assert stored.data.tags["done"] == "yes"
