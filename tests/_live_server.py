"""Real HTTP servers on 127.0.0.1 for the tests: the one place that starts, waits for and stops
them.  Two kinds, one API (``url``, ``port``, ``stop()``):

:class:`ThreadedServer`
    Any ASGI app under uvicorn in a daemon thread of the test process: cheap (no interpreter to
    start), and the app's state (its store, a monkeypatched function) is the test's to inspect.

:class:`ServerProcess`
    A command in its own process (and process group), ready once a URL answers 200: ``mltrail
    server`` (:func:`start_mltrail_server`), ``mltrail models serve``, MLflow's own server.  For
    what only a process shows: the CLI's options, several workers, a cold start, a kill.

Fixtures (registered for the whole suite through ``pytest_plugins`` in ``tests/conftest.py``):

``serve`` (function)
    ``serve(app, port=None, sockets=None, **uvicorn_options)`` runs an ASGI app in a thread (a
    free port unless one is given; ``sockets`` serves listening sockets made by the test;
    ``ssl_certfile``/``ssl_keyfile`` make it https) and returns the started
    :class:`ThreadedServer`.  Every server is stopped at the end.

``free_port`` (function)
    A function returning a port nothing listens on (yet).

``tracking_server`` (function)
    An mltrail tracking server (``create_app``) in a thread over a fresh SQLite file in the
    test's temporary folder, artifacts served from a folder beside it.

``server_factory`` (function)
    ``server_factory(*args, cwd=None, env=None)`` starts ``mltrail server --port <free> *args``
    as a process in *cwd* (default the test's temporary folder), with this environment minus
    its MLFLOW_/MLTRAIL_ variables plus *env*; every one is stopped at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

__all__ = [
    "MLFLOW_SERVER_ENV",
    "ServerProcess",
    "ThreadedServer",
    "clean_env",
    "find_free_port",
    "free_port",
    "mltrail_command",
    "serve",
    "server_factory",
    "start_mlflow_server",
    "start_mltrail_server",
    "start_process",
    "tracking_server",
]


def find_free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@functools.cache
def _prompt_server_class() -> Any:
    """A ``uvicorn.Server`` that stops as soon as it is asked.

    uvicorn notices ``should_exit`` on its next tick (every 0.1 s), then waits a fixed 0.1 s
    for connections and polls every 0.1 s for them to close: about 0.18 s for each stop, paid
    by every test that serves an app (the fuzz tests alone start 80 servers).  Here the loop
    wakes at once and the wait for open connections and tasks polls every 5 ms, within the
    same bound (``timeout_graceful_shutdown``).
    """
    import uvicorn

    class PromptServer(uvicorn.Server):  # type: ignore[misc]
        _wake: asyncio.Event | None = None
        _loop: asyncio.AbstractEventLoop | None = None

        async def main_loop(self) -> None:
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            counter = 0
            while not await self.on_tick(counter):
                counter = (counter + 1) % 864000
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 0.1)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            for server in self.servers:
                server.close()
            for sock in sockets or []:
                sock.close()
            state = self.server_state
            for connection in list(state.connections):
                connection.shutdown()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + float(self.config.timeout_graceful_shutdown or 0)
            while (state.connections or state.tasks) and loop.time() < deadline:
                await asyncio.sleep(0.005)
            for task in state.tasks:
                task.cancel()
            for server in self.servers:
                await server.wait_closed()
            await self.lifespan.shutdown()

        def stop_soon(self) -> None:
            self.should_exit = True
            if self._loop is not None and self._wake is not None:
                with contextlib.suppress(RuntimeError):  # the loop has already ended
                    self._loop.call_soon_threadsafe(self._wake.set)

    return PromptServer


class ThreadedServer:
    """uvicorn serving *app* on 127.0.0.1:*port* (or on *sockets*) in a daemon thread."""

    def __init__(
        self,
        app: Any,
        port: int,
        sockets: Sequence[socket.socket] | None = None,
        **options: Any,
    ) -> None:
        import uvicorn

        options = {
            # bounded: a client's kept-alive connection never holds a test's teardown long
            "timeout_graceful_shutdown": 2,
            "log_level": "warning",
            "lifespan": "auto",
            "ws": "none",
            "access_log": False,
            **options,
        }
        config = uvicorn.Config(app, host="127.0.0.1", port=port, **options)
        self.port = port
        scheme = "https" if options.get("ssl_certfile") else "http"
        self.url = f"{scheme}://127.0.0.1:{port}"
        self._server = _prompt_server_class()(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": sockets}, daemon=True
        )

    def start(self, timeout: float = 30.0) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.stop_soon()
        self._thread.join(timeout=10)


#: The environment of an ``mlflow server`` a test starts: no telemetry, and no job runner (MLflow
#: starts eight more processes for its background jobs, each importing MLflow: seconds of CPU
#: that no test uses).
MLFLOW_SERVER_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
}


def clean_env(extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """This environment without MLFLOW_/MLTRAIL_ variables, plus *extra* (None removes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def mltrail_command(*args: str) -> list[str]:
    """``mltrail ARGS`` run by this interpreter."""
    code = "import sys; from mltrail.cli import main; sys.argv[0] = 'mltrail'; main()"
    return [sys.executable, "-c", code, *args]


class ServerProcess:
    """A server started by :func:`start_process`; ``log`` holds its stdout and stderr."""

    def __init__(
        self, proc: subprocess.Popen[bytes], url: str, started_in: float, log: Path
    ) -> None:
        self.proc = proc
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        self.started_in = started_in  # seconds until it answered (printed, never asserted)
        self.log = log

    @property
    def pid(self) -> int:
        return self.proc.pid

    # Alias of the serving tests' name for it.
    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.proc

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def rss_mb(self, pid: int | None = None) -> float:
        with open(f"/proc/{pid or self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far."""
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def send_signal(self, sig: int) -> None:
        """*sig* to the server alone (its workers see their parent go)."""
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to its process group, then SIGKILL to whatever of the group is left."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


def start_process(
    command: Sequence[str],
    url: str,
    *,
    ready: str = "/health",
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> ServerProcess:
    """Run *command* in *cwd* (its own process group, output to a log file there) and return
    once ``GET url+ready`` answers 200.  A process that exits, or does not answer within
    *timeout* seconds, fails with its log."""
    cwd.mkdir(parents=True, exist_ok=True)
    log = cwd / f"server-{url.rsplit(':', 1)[1]}.log"
    started = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = ServerProcess(proc, url, 0.0, log)
    deadline = started + timeout
    while True:
        if proc.poll() is not None:
            server.stop()
            raise RuntimeError(f"the server exited ({proc.returncode}):\n{server.output()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + ready, timeout=2).status_code == 200:
                break
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the server did not answer in {timeout:.0f} s:\n{server.output()}")
        time.sleep(0.02)
    server.started_in = time.monotonic() - started
    return server


@contextlib.contextmanager
def start_mlflow_server(
    folder: Path,
    *options: str,
    artifacts: Path | None = None,
    timeout: float = 180.0,
) -> Iterator[ServerProcess]:
    """MLflow's own ``mlflow server`` (one worker) on a fresh SQLite database in *folder*,
    proxying artifacts to *artifacts* (``folder/artifacts`` by default), with *options*
    added; stopped afterwards (it runs the web server as a child: its process group goes)."""
    port = find_free_port()
    args = [sys.executable, "-m", "mlflow", "server", *options]
    args += ["--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}"]
    args += ["--artifacts-destination", str(artifacts or folder / "artifacts")]
    args += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    url = f"http://127.0.0.1:{port}"
    server = start_process(args, url, cwd=folder, env=clean_env(MLFLOW_SERVER_ENV), timeout=timeout)
    try:
        yield server
    finally:
        server.stop(timeout=1)  # MLflow's server lingers over kept-alive connections


def start_mltrail_server(
    cwd: Path,
    *args: str,
    port: int | None = None,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 60.0,
) -> ServerProcess:
    """``mltrail server --port <port or a free one> *args`` in *cwd*, with :func:`clean_env`."""
    port = port or find_free_port()
    return start_process(
        mltrail_command("server", "--port", str(port), *args),
        f"http://127.0.0.1:{port}",
        cwd=cwd,
        env=clean_env(env),
        timeout=timeout,
    )


@pytest.fixture
def free_port() -> Callable[[], int]:
    return find_free_port


@pytest.fixture
def serve() -> Iterator[Callable[..., ThreadedServer]]:
    servers: list[ThreadedServer] = []

    def start(
        app: Any,
        port: int | None = None,
        sockets: Sequence[socket.socket] | None = None,
        **options: Any,
    ) -> ThreadedServer:
        if port is None:
            port = sockets[0].getsockname()[1] if sockets else find_free_port()
        server = ThreadedServer(app, port, sockets, **options)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def tracking_server(tmp_path: Path, serve: Callable[..., ThreadedServer]) -> ThreadedServer:
    from mltrail.server import ServerSettings, create_app

    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server' / 'mltrail.db'}",
        artifacts_destination=str(tmp_path / "server" / "artifacts"),
    )
    (tmp_path / "server").mkdir(exist_ok=True)
    return serve(create_app(settings))


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    servers: list[ServerProcess] = []

    def make(
        *args: str, cwd: Path | None = None, env: Mapping[str, str | None] | None = None
    ) -> ServerProcess:
        server = start_mltrail_server(cwd or tmp_path, *args, env=env)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
