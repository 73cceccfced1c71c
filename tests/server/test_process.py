"""``mltrail server`` as a process: defaults, cold start, memory, workers, scale-out."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from tests._live_server import ServerProcess, ThreadedServer

from mltrail.server import _uvicorn
from mltrail.server._uvicorn import NoDelayHttpToolsProtocol, run_server


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def test_defaults_cold_start_and_idle_memory(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    """No options: the default store in the current folder, artifacts beside it."""
    server = server_factory(cwd=tmp_path / "here")
    # Start-up time is a speed target, measured by benchmarks/server/run.py against MLflow, not
    # asserted here (a shared machine makes any threshold flaky); it is only printed.
    cpu = server.cpu_seconds()
    assert (tmp_path / "here" / "mltrail.db").exists()
    client = httpx.Client(base_url=server.url)
    eid = client.post("/api/2.0/mlflow/experiments/create", json={"name": "e"}).json()[
        "experiment_id"
    ]
    run = client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": eid}).json()["run"]
    path = f"{eid}/{run['info']['run_id']}/artifacts/f.txt"
    assert (
        client.put(f"/api/2.0/mlflow-artifacts/artifacts/{path}", content=b"x").status_code == 200
    )
    assert (tmp_path / "here" / "mltrail-artifacts" / path).read_bytes() == b"x"
    client.close()
    assert server.rss_mb() < 200, server.rss_mb()
    print(
        f"\ncold start {server.started_in * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU, "
        f"idle RSS {server.rss_mb():.0f} MB"
    )


def test_several_workers_serve_one_store(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory("--workers", "3", cwd=tmp_path / "w3")
    deadline = time.monotonic() + 20
    while len(_children(server.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(_children(server.pid)) >= 3  # and a resource tracker, maybe
    ids = {
        httpx.post(
            f"{server.url}/api/2.0/mlflow/experiments/create", json={"name": f"e{i}"}
        ).json()["experiment_id"]
        for i in range(6)
    }
    assert len(ids) == 6


class _Recording(NoDelayHttpToolsProtocol):
    """Records TCP_NODELAY on each accepted connection once the protocol has it."""

    nodelay: ClassVar[list[int]] = []

    def connection_made(self, transport: Any, *args: Any) -> None:  # type: ignore[override]
        super().connection_made(transport, *args)
        sock = transport.get_extra_info("socket")
        self.nodelay.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_kept_alive_connections_get_tcp_nodelay_on_a_workers_socket(
    serve: Callable[..., ThreadedServer],
) -> None:
    """A worker serves a listening socket made by its parent (``proto`` 0), on which asyncio
    may skip TCP_NODELAY, and small answers on a kept-alive connection then wait ~40 ms for
    Nagle: our protocol sets it itself.  (The latency is measured by benchmarks/server,
    workload ``keepalive``, with several workers; it is not asserted here.)"""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # as uvicorn's parent binds
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    _Recording.nodelay.clear()
    server = serve(app, sockets=[listener], http=_Recording, lifespan="off")
    with httpx.Client(base_url=server.url) as client:
        assert [client.get("/").text for _ in range(3)] == ["ok"] * 3  # one kept-alive connection
    assert _Recording.nodelay == [1]
    listener.close()


def test_the_server_runs_its_workers_with_that_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from mltrail.server import ServerSettings

    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append(options))
    monkeypatch.setattr(_uvicorn, "create_app", lambda settings: None, raising=False)
    settings = ServerSettings(backend_store_uri="sqlite:///:memory:")
    run_server(settings, workers=1)
    run_server(settings, workers=3)
    assert [(r["http"], r.get("workers")) for r in runs] == [
        (NoDelayHttpToolsProtocol, None),
        (NoDelayHttpToolsProtocol, 3),
    ]


@pytest.mark.postgres
def test_two_servers_on_one_postgres_database(
    server_factory: Callable[..., ServerProcess], postgres_uri: str, tmp_path: Path
) -> None:
    """Write through one server process, read through another: one consistent view."""
    shared = tmp_path / "shared-artifacts"
    args = ("--backend-store-uri", postgres_uri, "--artifacts-destination", str(shared))
    first = server_factory(*args, cwd=tmp_path / "a")
    second = server_factory(*args, "--workers", "2", cwd=tmp_path / "b")
    one, two = httpx.Client(base_url=first.url), httpx.Client(base_url=second.url)
    eid = one.post("/api/2.0/mlflow/experiments/create", json={"name": "shared"}).json()[
        "experiment_id"
    ]
    run_id = two.post("/api/2.0/mlflow/runs/create", json={"experiment_id": eid}).json()["run"][
        "info"
    ]["run_id"]
    metrics = [{"key": "m", "value": i, "timestamp": i, "step": i} for i in range(100)]
    assert (
        one.post(
            "/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, "metrics": metrics}
        ).status_code
        == 200
    )
    got = two.get("/api/2.0/mlflow/runs/get", params={"run_id": run_id}).json()["run"]
    assert got["data"]["metrics"] == [{"key": "m", "value": 99.0, "timestamp": 99, "step": 99}]
    path = f"{eid}/{run_id}/artifacts/model.bin"
    assert (
        two.put(f"/api/2.0/mlflow-artifacts/artifacts/{path}", content=b"weights").status_code
        == 200
    )
    assert one.get(f"/api/2.0/mlflow-artifacts/artifacts/{path}").content == b"weights"
    found = one.post(
        "/api/2.0/mlflow/runs/search", json={"experiment_ids": [eid], "filter": "metrics.m > 50"}
    ).json()
    assert [r["info"]["run_id"] for r in found["runs"]] == [run_id]
    series = two.post(
        "/api/2.0/mltrail/metrics/series",
        json={"run_ids": [run_id], "metric_keys": ["m"], "max_buckets": 10},
    ).json()
    assert series["series"][0]["count"] == 100
    one.close()
    two.close()
    first.stop()
    second.stop()


def test_cli_rejects_bad_options(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mltrail.cli import cli

    result = CliRunner().invoke(cli, ["server", "--workers", "0"])
    assert result.exit_code == 2
    result = CliRunner().invoke(cli, ["ui", "--help"])
    assert result.exit_code == 0
    assert "--allowed-hosts" in result.output


def test_allowed_hosts_include_the_bind_address() -> None:
    from mltrail.cli._server import _allowed_hosts

    assert _allowed_hosts((), "127.0.0.1") == ("localhost", "127.0.0.1", "[::1]")
    assert _allowed_hosts((), "10.1.2.3")[-1] == "10.1.2.3"
    assert _allowed_hosts(("a.example,b.example",), "0.0.0.0") == ("a.example", "b.example")
