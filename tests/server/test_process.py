"""``mltrail server`` as a process: defaults, cold start, memory, workers, keep-alive, scale-out."""

from __future__ import annotations

import http.client
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from tests.compat.conftest import ServerProcess


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _keepalive_p50_ms(url: str, path: str, calls: int = 200) -> float:
    parsed = httpx.URL(url)
    conn = http.client.HTTPConnection(parsed.host, parsed.port, timeout=10)
    times = []
    try:
        for _ in range(calls):
            started = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            times.append(time.perf_counter() - started)
    finally:
        conn.close()
    return statistics.median(times) * 1000


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


def test_keepalive_latency_with_several_workers(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    """No Nagle delay on kept-alive connections, even with several workers."""
    server = server_factory("--workers", "3", cwd=tmp_path / "w3")
    deadline = time.monotonic() + 20
    while len(_children(server.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    p50 = _keepalive_p50_ms(server.url, "/api/2.0/mlflow/experiments/get?experiment_id=0")
    print(f"\nkeep-alive p50 with 3 workers: {p50:.2f} ms")
    assert p50 < 5.0, p50
    # Every worker serves the same store.
    ids = {
        httpx.post(
            f"{server.url}/api/2.0/mlflow/experiments/create", json={"name": f"e{i}"}
        ).json()["experiment_id"]
        for i in range(6)
    }
    assert len(ids) == 6


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
