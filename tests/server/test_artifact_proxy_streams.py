"""Download streams of the artifact proxy are closed when a client drops the connection.

A client that goes away before the first block (or in the middle) must not leave the file (or the
S3 body) open until the garbage collector happens to run: the server closes it as soon as the
response ends, whichever way it ends.
"""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest

from mltrail.artifacts import LocalArtifactRepository, S3ArtifactRepository
from mltrail.server import ServerSettings, create_app

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


class _Recording:
    """Keeps every stream it opens (so only an explicit close can close it) and can hold
    ``open_read`` until the test has dropped its connection."""

    def _setup(self) -> None:
        self.opened: list[BinaryIO] = []
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()

    def _record(self, stream: BinaryIO) -> BinaryIO:
        self.opened.append(stream)
        self.entered.set()
        assert self.hold.wait(10)
        return stream


class _RecordingLocal(_Recording, LocalArtifactRepository):
    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self._setup()

    def open_read(self, artifact_path: str) -> BinaryIO:
        return self._record(super().open_read(artifact_path))


class _RecordingS3(_Recording, S3ArtifactRepository):
    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self._setup()

    def open_read(self, artifact_path: str) -> BinaryIO:
        return self._record(super().open_read(artifact_path))


_RecordingRepository = _RecordingLocal | _RecordingS3


@pytest.fixture
def no_gc() -> Iterator[None]:
    """The collector off: a stream must be closed explicitly, not found in a cycle later."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _served(
    tmp_path: Path, serve: Callable[..., Any], destination: str | None = None
) -> tuple[str, str, _RecordingRepository]:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'mltrail.db'}",
        artifacts_destination=destination or str(tmp_path / "artifacts"),
    )
    app = create_app(settings)
    ctx = app.state.context
    repo: _RecordingRepository = (
        _RecordingS3(ctx.destination) if destination else _RecordingLocal(ctx.destination)
    )
    ctx.proxy_repo = repo  # a cached property: the instance attribute replaces it
    url = serve(app).url
    with httpx.Client(base_url=url) as client:
        eid = client.post("/api/2.0/mlflow/experiments/create", json={"name": "e"}).json()[
            "experiment_id"
        ]
        rid = client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": eid}).json()["run"][
            "info"
        ]["run_id"]
        path = f"{eid}/{rid}/artifacts/big.bin"
        response = client.put(f"{PROXY}/{path}", content=b"x" * (8 << 20))
        assert response.status_code == 200, response.text
    return url, path, repo


def _send_get(url: str, path: str) -> socket.socket:
    parsed = httpx.URL(url)
    assert parsed.port is not None
    sock = socket.create_connection((parsed.host, parsed.port), timeout=10)
    request = f"GET {PROXY}/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    sock.sendall(request.encode())
    return sock


def _wait_closed(stream: BinaryIO, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not stream.closed and time.monotonic() < deadline:
        time.sleep(0.02)
    return stream.closed


def test_download_dropped_before_the_first_block_closes_the_file(
    tmp_path: Path, serve: Callable[..., Any], no_gc: None
) -> None:
    url, path, repo = _served(tmp_path, serve)
    repo.hold.clear()
    repo.entered.clear()
    sock = _send_get(url, path)
    assert repo.entered.wait(10)
    sock.close()  # gone before the server has sent a single byte
    time.sleep(0.2)  # let the server notice the disconnect
    repo.hold.set()
    assert _wait_closed(repo.opened[-1]), "the file stayed open after the client dropped"


def test_download_dropped_in_the_middle_closes_the_file(
    tmp_path: Path, serve: Callable[..., Any], no_gc: None
) -> None:
    url, path, repo = _served(tmp_path, serve)
    sock = _send_get(url, path)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    sock.close()
    assert _wait_closed(repo.opened[-1]), "the file stayed open after the client dropped"


def test_download_read_to_the_end_closes_the_file(
    tmp_path: Path, serve: Callable[..., Any], no_gc: None
) -> None:
    url, path, repo = _served(tmp_path, serve)
    assert len(httpx.get(f"{url}{PROXY}/{path}").content) == 8 << 20
    assert _wait_closed(repo.opened[-1])


def test_s3_download_dropped_before_the_first_block_closes_the_body(
    tmp_path: Path, serve: Callable[..., Any], s3_bucket: str, no_gc: None
) -> None:
    url, path, repo = _served(tmp_path, serve, f"{s3_bucket}/dest")
    repo.hold.clear()
    repo.entered.clear()
    sock = _send_get(url, path)
    assert repo.entered.wait(10)
    sock.close()
    time.sleep(0.2)
    repo.hold.set()
    assert _wait_closed(repo.opened[-1]), "the S3 body stayed open after the client dropped"
