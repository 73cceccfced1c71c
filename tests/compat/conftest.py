"""Real ``mltrail server`` processes on free 127.0.0.1 ports, for the official mlflow client."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

MLFLOW_WARNINGS = (
    "ignore::DeprecationWarning",
    "ignore::FutureWarning",
    "ignore::UserWarning",
    "ignore::PendingDeprecationWarning",
    "ignore::ResourceWarning",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    proc: subprocess.Popen[bytes]
    url: str
    started_in: float
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

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

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(
    cwd: Path, *args: str, timeout: float = 30.0, env: dict[str, str] | None = None
) -> ServerProcess:
    """``mltrail server --port <free> *args`` in *cwd*; returns once /health answers.

    The server gets this environment without its MLFLOW_/MLTRAIL_ variables, plus *env*.
    """
    port = free_port()
    log = cwd / f"server-{port}.log"
    extra = env or {}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    env.update(extra)
    command = [
        sys.executable,
        "-c",
        "from mltrail.cli import main; main()",
        "server",
        "--port",
        str(port),
        *args,
    ]
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = started + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).text == "OK":
                break
        except httpx.HTTPError:
            pass
        if time.perf_counter() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start: {log.read_text()}")
        time.sleep(0.01)
    return ServerProcess(proc, url, time.perf_counter() - started, log)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    servers: list[ServerProcess] = []

    def make(
        *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> ServerProcess:
        folder = cwd or tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        server = start_server(folder, *args, env=env)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def mlflow_server(
    server_factory: Callable[..., ServerProcess], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[ServerProcess]:
    """A server with the default store in its folder; MLFLOW_TRACKING_URI points at it.

    MLflow's fluent state (active run, active experiment, tracking URI) is reset afterwards so
    the next test, against another server, starts clean.
    """
    server = server_factory(cwd=tmp_path / "srv")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    import mlflow
    import mlflow.tracking._tracking_service.utils as tracking_utils
    import mlflow.tracking.fluent as fluent

    mlflow.set_tracking_uri(server.url)
    try:
        yield server
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        fluent._active_experiment_id = None
        tracking_utils._tracking_uri = None
