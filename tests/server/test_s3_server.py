"""``mltrail server`` processes with S3 (SeaweedFS): the proxy to S3, direct S3, and scale-out.

- ``--artifacts-destination s3://bucket/prefix``: the official mlflow client and mltrail's client
  log, list and download artifacts through the proxy, streamed (the server's memory stays flat
  while 200 MB go up and down);
- ``--no-serve-artifacts --default-artifact-root s3://...``: clients write straight to S3;
- two server processes on one PostgreSQL database and one bucket: what is written through one is
  read back through the other.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._live_server import ServerProcess
from tests._seaweed import SeaweedFS
from tests.compat.conftest import MLFLOW_WARNINGS

pytestmark = [pytest.mark.slow, *(pytest.mark.filterwarnings(w) for w in MLFLOW_WARNINGS)]

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
MB = 1024 * 1024


def _file(path: Path, megabytes: int) -> str:
    """A file of *megabytes* MB (rotations of one random block); returns its SHA-256."""
    block = os.urandom(MB)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for i in range(megabytes):
            chunk = block[i:] + block[:i]
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(MB):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def _peak_rss(server: ServerProcess) -> Iterator[list[float]]:
    """Samples the server's RSS (MB) every 20 ms; yields [baseline, peak] (peak set at exit)."""
    result = [server.rss_mb(), 0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            result[1] = max(result[1], server.rss_mb())
            stop.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()


def _keys(seaweedfs: SeaweedFS, bucket_uri: str) -> list[str]:
    bucket = bucket_uri.removeprefix("s3://")
    client = seaweedfs.client()
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def _mlflow_client(url: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=url)


def test_proxy_to_s3_streams_both_ways(
    server_factory: Callable[..., ServerProcess],
    s3_bucket: str,
    seaweedfs: SeaweedFS,
    tmp_path: Path,
) -> None:
    server = server_factory(
        "--artifacts-destination", f"{s3_bucket}/team", cwd=tmp_path / "srv", env=seaweedfs.env()
    )
    source = tmp_path / "weights.bin"
    digest = _file(source, 200)
    client = _mlflow_client(server.url)
    run = client.create_run(client.create_experiment("s3"))
    run_id = run.info.run_id
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    # A first upload warms the server up (boto3 loaded, the part-upload threads started), so
    # that what is measured next is what the 200 MB themselves cost.
    warm = tmp_path / "warm" / "weights.bin"
    warm.parent.mkdir()
    _file(warm, 40)
    client.log_artifact(run_id, str(warm), "warm-up")
    with _peak_rss(server) as up:
        client.log_artifact(run_id, str(source), "model")
    client.log_text(run_id, "hello", "notes/readme.txt")
    listed = client.list_artifacts(run_id)
    assert [(f.path, f.is_dir) for f in listed] == [
        ("model", True),
        ("notes", True),
        ("warm-up", True),
    ]
    assert [(f.path, f.file_size) for f in client.list_artifacts(run_id, "model")] == [
        ("model/weights.bin", 200 * MB)
    ]
    with _peak_rss(server) as down:
        local = client.download_artifacts(run_id, "model/weights.bin", str(tmp_path / "dl"))
    assert _sha256(local) == digest
    keys = _keys(seaweedfs, s3_bucket)
    assert any(
        k.startswith("team/") and k.endswith(f"{run_id}/artifacts/model/weights.bin") for k in keys
    )
    print(
        f"\n200 MB through the proxy to S3: server RSS {up[0]:.0f} -> peak {up[1]:.0f} MB up, "
        f"{down[0]:.0f} -> peak {down[1]:.0f} MB down"
    )
    assert up[1] - up[0] < 100, up
    assert down[1] - down[0] < 100, down

    # mltrail's client on the same server and bucket.
    import mltrail

    ours = mltrail.MlflowClient(tracking_uri=server.url)
    small = tmp_path / "small.bin"
    small_digest = _file(small, 12)
    ours.log_artifact(run_id, str(small), "data")
    assert [(f.path, f.file_size) for f in ours.list_artifacts(run_id, "data")] == [
        ("data/small.bin", 12 * MB)
    ]
    copy = ours.download_artifacts(run_id, "data", str(tmp_path / "ours"))
    assert _sha256(Path(copy) / "small.bin") == small_digest
    assert Path(ours.download_artifacts(run_id, "notes/readme.txt")).read_text() == "hello"
    assert _sha256(ours.download_artifacts(run_id, "model/weights.bin")) == digest


def test_clients_write_straight_to_s3_without_the_proxy(
    server_factory: Callable[..., ServerProcess],
    s3_bucket: str,
    seaweedfs: SeaweedFS,
    tmp_path: Path,
) -> None:
    root = f"{s3_bucket}/direct"
    server = server_factory(
        "--no-serve-artifacts",
        "--default-artifact-root",
        root,
        cwd=tmp_path / "srv",
        env=seaweedfs.env(),
    )
    # The clients find S3 through their own environment (set by the s3_bucket fixture).
    source = tmp_path / "w.bin"
    digest = _file(source, 3)
    client = _mlflow_client(server.url)
    run = client.create_run(client.create_experiment("direct"))
    assert run.info.artifact_uri.startswith(f"{root}/")
    client.log_artifact(run.info.run_id, str(source), "m")
    import mltrail

    ours = mltrail.MlflowClient(tracking_uri=server.url)
    ours.log_text(run.info.run_id, "x", "m/t.txt")
    prefix = run.info.artifact_uri.removeprefix(f"{s3_bucket}/")
    assert sorted(k for k in _keys(seaweedfs, s3_bucket) if k.startswith(prefix)) == [
        f"{prefix}/m/t.txt",
        f"{prefix}/m/w.bin",
    ]
    # The server lists what the clients wrote; the proxy is not served at all.
    listing = httpx.get(
        f"{server.url}/api/2.0/mlflow/artifacts/list",
        params={"run_id": run.info.run_id, "path": "m"},
    ).json()
    assert listing["root_uri"] == run.info.artifact_uri
    assert [f["path"] for f in listing["files"]] == ["m/t.txt", "m/w.bin"]
    assert httpx.get(f"{server.url}{PROXY}/x").status_code == 404
    assert _sha256(ours.download_artifacts(run.info.run_id, "m/w.bin")) == digest
    local = client.download_artifacts(run.info.run_id, "m", str(tmp_path / "dl"))
    assert _sha256(Path(local) / "w.bin") == digest


@pytest.mark.postgres
def test_two_servers_on_one_postgres_database_and_one_bucket(
    server_factory: Callable[..., ServerProcess],
    postgres_uri: str,
    s3_bucket: str,
    seaweedfs: SeaweedFS,
    tmp_path: Path,
) -> None:
    args = ("--backend-store-uri", postgres_uri, "--artifacts-destination", f"{s3_bucket}/shared")
    first = server_factory(*args, cwd=tmp_path / "a", env=seaweedfs.env())
    second = server_factory(*args, "--workers", "2", cwd=tmp_path / "b", env=seaweedfs.env())
    writer, reader = _mlflow_client(first.url), _mlflow_client(second.url)
    eid = writer.create_experiment("shared", tags={"team": "vision"})
    run = writer.create_run(eid, run_name="r1")
    run_id = run.info.run_id
    from mlflow.entities import Metric, Param

    metrics = [Metric("loss", 1.0 / (i + 1), i, i) for i in range(500)]
    writer.log_batch(run_id, metrics=metrics, params=[Param("lr", "0.1")])
    model = tmp_path / "model.bin"
    digest = _file(model, 9)
    writer.log_artifact(run_id, str(model), "model")
    writer.log_dict(run_id, {"a": 1}, "meta/info.json")
    writer.set_terminated(run_id)

    assert reader.get_experiment(eid).tags["team"] == "vision"
    got = reader.get_run(run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params == {"lr": "0.1"}
    assert got.data.metrics["loss"] == pytest.approx(1.0 / 500)
    history = reader.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(500))
    found = reader.search_runs([eid], "metrics.loss < 0.01 and params.lr = '0.1'")
    assert [r.info.run_id for r in found] == [run_id]
    assert [f.path for f in reader.list_artifacts(run_id)] == ["meta", "model"]
    local = reader.download_artifacts(run_id, "model/model.bin", str(tmp_path / "dl"))
    assert _sha256(local) == digest
    import mltrail

    ours = mltrail.MlflowClient(tracking_uri=second.url)
    info = Path(ours.download_artifacts(run_id, "meta/info.json")).read_text()
    assert json.loads(info) == {"a": 1}
    # And the other way round: mltrail's client writes through the second, mlflow reads the first.
    ours.log_text(run_id, "from b", "notes.txt")
    ours.log_metric(run_id, "acc", 0.9, step=1)
    assert Path(
        writer.download_artifacts(run_id, "notes.txt", str(tmp_path / "n"))
    ).read_text() == ("from b")
    assert writer.get_run(run_id).data.metrics["acc"] == 0.9
    assert any(
        k.startswith("shared/") and k.endswith("/notes.txt") for k in _keys(seaweedfs, s3_bucket)
    )
