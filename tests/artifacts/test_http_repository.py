"""HttpArtifactRepository / mlflow-artifacts: what only the HTTP client has (URIs, credentials,
retries, the client's multipart path), against the real tracking server on uvicorn.  The
contract all backends share (round trips, listings, traversal) is
tests/artifacts/test_repository_conformance.py.

The server (``mltrail.server.create_app``) runs in a thread on 127.0.0.1; its artifacts go to a
local folder, or to S3 (SeaweedFS) for the tests marked so.  A few tests wrap the real app in a
small ASGI layer that records requests or answers 503 first, to see what the client sends and
how it retries.  The multipart client is tested against a stand-in for the proxy's ``mpu``
endpoints (the server does not have them yet) backed by the real S3 repository on SeaweedFS.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mltrail._exceptions import (
    InvalidArgument,
    NotFound,
    RequestLimitExceeded,
    TemporarilyUnavailable,
)
from mltrail.artifacts import (
    FileInfo,
    HttpArtifactRepository,
    MlflowArtifactsRepository,
    get_artifact_repository,
)
from mltrail.artifacts.http import resolve_mlflow_artifacts_uri
from mltrail.tracking import MlflowClient

MiB = 1024 * 1024


@dataclass
class Proxy:
    url: str
    artifacts: Path
    run_artifact_uri: str
    run_id: str
    experiment_id: str

    def repo(self, **kwargs: Any) -> HttpArtifactRepository:
        repo = get_artifact_repository(self.run_artifact_uri, tracking_uri=self.url)
        assert isinstance(repo, MlflowArtifactsRepository)
        for name, value in kwargs.items():
            setattr(repo, name, value)
        return repo


def start_proxy(
    serve: Callable[..., Any],
    root: Path,
    *,
    destination: str | None = None,
    wrap: Callable[[Any], Any] | None = None,
) -> Proxy:
    from mltrail.server import ServerSettings, create_app

    root.mkdir(parents=True, exist_ok=True)
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{root / 'mltrail.db'}",
        artifacts_destination=destination or str(root / "artifacts"),
    )
    app = create_app(settings)
    server = serve(wrap(app) if wrap else app)
    with httpx.Client(base_url=server.url) as client:
        exp = client.post("/api/2.0/mlflow/experiments/create", json={"name": "e"}).json()
        run = client.post(
            "/api/2.0/mlflow/runs/create", json={"experiment_id": exp["experiment_id"]}
        ).json()["run"]["info"]
    return Proxy(
        server.url, root / "artifacts", run["artifact_uri"], run["run_id"], exp["experiment_id"]
    )


@pytest.fixture
def proxy(serve: Callable[..., Any], tmp_path: Path) -> Proxy:
    return start_proxy(serve, tmp_path / "server")


def tree(top: Path) -> dict[str, bytes | None]:
    return {
        p.relative_to(top).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(top.rglob("*"))
    }


# -- URIs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "tracking", "expected"),
    [
        (
            "mlflow-artifacts:/1/abc/artifacts",
            "http://h:5000",
            "http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts",
        ),
        (
            "mlflow-artifacts:/1/abc/artifacts/",
            "https://h/",
            "https://h/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts",
        ),
        (
            "mlflow-artifacts:/",
            "http://h:5000",
            "http://h:5000/api/2.0/mlflow-artifacts/artifacts",
        ),
        (
            "mlflow-artifacts://other:7000/x",
            "http://h:5000",
            "http://other:7000/api/2.0/mlflow-artifacts/artifacts/x",
        ),
        (
            "mlflow-artifacts:/x",
            "http://h:5000/mlflow",
            "http://h:5000/mlflow/api/2.0/mlflow-artifacts/artifacts/x",
        ),
        (
            "mlflow-artifacts:/api/2.0/mlflow-artifacts/artifacts/x",
            "http://h",
            "http://h/api/2.0/mlflow-artifacts/artifacts/x",
        ),
    ],
)
def test_mlflow_artifacts_uri_is_resolved(uri: str, tracking: str, expected: str) -> None:
    assert resolve_mlflow_artifacts_uri(uri, tracking) == expected
    repo = MlflowArtifactsRepository(uri, tracking)
    assert repo.artifact_uri == uri


@pytest.mark.parametrize(
    ("uri", "tracking", "message"),
    [
        ("mlflow-artifacts:/x", "sqlite:///db", "must be an http"),
        ("mlflow-artifacts:/x", "", "must be an http"),
        ("mlflow-artifacts://:5000/x", "http://h", "needs a host"),
        ("mlflow-artifacts:/x?a=1", "http://h", "query"),
        ("mlflow-artifacts:/1/../../etc", "http://h", "'..'"),
    ],
)
def test_bad_mlflow_artifacts_uri_is_refused(uri: str, tracking: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        MlflowArtifactsRepository(uri, tracking)


def test_tracking_uri_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://envhost:1234")
    repo = get_artifact_repository("mlflow-artifacts:/5/r/artifacts")
    assert isinstance(repo, MlflowArtifactsRepository)
    assert repo.base_url == "http://envhost:1234"
    assert repo.root == "5/r/artifacts"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://h/somewhere/else", "artifact proxy's path"),
        ("http://h/api/2.0/mlflow-artifacts/artifactsX", "artifact proxy's path"),
        ("http://h/api/2.0/mlflow-artifacts/artifacts/a/%2e%2e/b", "'..'"),
        ("ftp://h/api/2.0/mlflow-artifacts/artifacts", "http"),
        ("http://h/api/2.0/mlflow-artifacts/artifacts#x", "fragment"),
    ],
)
def test_bad_http_uri_is_refused(uri: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        HttpArtifactRepository(uri)


def test_http_uri_is_registered() -> None:
    uri = "https://h:8443/prefix/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts"
    repo = get_artifact_repository(uri)
    assert isinstance(repo, HttpArtifactRepository)
    assert (repo.base_url, repo.root) == ("https://h:8443/prefix", "1/r/artifacts")


# -- through the real server ---------------------------------------------------------------------


def test_uploads_outside_a_run_are_refused_by_the_server(proxy: Proxy, tmp_path: Path) -> None:
    source = tmp_path / "x.txt"
    source.write_bytes(b"x")
    stray = HttpArtifactRepository(f"{proxy.url}/api/2.0/mlflow-artifacts/artifacts/0/nope")
    with pytest.raises(NotFound, match="existing run"):
        stray.log_artifact(source)
    assert not (proxy.artifacts / "0").exists()


def test_http_uri_of_the_run_works_like_the_mlflow_artifacts_one(proxy: Proxy) -> None:
    uri = resolve_mlflow_artifacts_uri(proxy.run_artifact_uri, proxy.url)
    repo = get_artifact_repository(uri)
    repo.write_stream("a.txt", [b"a"])
    assert proxy.repo().list_artifacts() == [FileInfo("a.txt", False, 1)]


# -- traversal: refused before anything is sent --------------------------------------------------


class Recorder:
    """ASGI middleware that records (method, path, headers) of every request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            self.requests.append((scope["method"], scope["path"], headers))
        await self.app(scope, receive, send)


# -- credentials and retries --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"MLTRAIL_TRACKING_TOKEN": "t0k"}, "Bearer t0k"),
        ({"MLFLOW_TRACKING_TOKEN": "t1k"}, "Bearer t1k"),
        (
            {"MLTRAIL_TRACKING_USERNAME": "ann", "MLTRAIL_TRACKING_PASSWORD": "pw"},
            "Basic YW5uOnB3",
        ),
        ({"MLFLOW_TRACKING_USERNAME": "bo", "MLFLOW_TRACKING_PASSWORD": "s3"}, "Basic Ym86czM="),
        ({}, None),
    ],
)
def test_credentials_are_sent(
    serve: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    expected: str | None,
) -> None:
    for name in (
        "MLTRAIL_TRACKING_TOKEN", "MLFLOW_TRACKING_TOKEN", "MLTRAIL_TRACKING_USERNAME",
        "MLTRAIL_TRACKING_PASSWORD", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    recorders: list[Recorder] = []

    def wrap(app: Any) -> Recorder:
        recorders.append(Recorder(app))
        return recorders[0]

    proxy = start_proxy(serve, tmp_path / "server", wrap=wrap)
    recorders[0].requests.clear()
    repo = proxy.repo()
    repo.write_stream("a.txt", [b"a"])
    repo.list_artifacts()
    with repo.open_read("a.txt") as stream:
        assert stream.read() == b"a"
    assert len(recorders[0].requests) == 3
    for _method, _path, headers in recorders[0].requests:
        assert headers.get("authorization") == expected


class FlakyFirst:
    """ASGI middleware answering the first *count* requests with *status* (and Retry-After)."""

    def __init__(self, app: Any, count: int, status: int) -> None:
        self.app = app
        self.left = count
        self.status = status
        self.seen = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and "mlflow-artifacts" in scope["path"]:
            self.seen += 1
            if self.left > 0:
                self.left -= 1
                await send({
                    "type": "http.response.start", "status": self.status,
                    "headers": [(b"retry-after", b"0"), (b"content-type", b"application/json")],
                })  # fmt: skip
                code = (
                    b"TEMPORARILY_UNAVAILABLE" if self.status == 503 else b"REQUEST_LIMIT_EXCEEDED"
                )
                await send(
                    {"type": "http.response.body", "body": b'{"error_code": "' + code + b'"}'}
                )
                return
        await self.app(scope, receive, send)


@pytest.mark.parametrize("status", [503, 429])
def test_reads_are_retried_on_busy_answers(
    serve: Callable[..., Any], tmp_path: Path, status: int
) -> None:
    flaky: list[FlakyFirst] = []

    def wrap(app: Any) -> FlakyFirst:
        flaky.append(FlakyFirst(app, 0, status))
        return flaky[0]

    proxy = start_proxy(serve, tmp_path / "server", wrap=wrap)
    repo = proxy.repo(backoff=0.01)
    repo.write_stream("a.txt", [b"abc"])
    flaky[0].left, flaky[0].seen = 2, 0
    assert [f.path for f in repo.list_artifacts()] == ["a.txt"]
    assert flaky[0].seen == 3
    flaky[0].left = 2
    with repo.open_read("a.txt") as stream:
        assert stream.read() == b"abc"
    flaky[0].left = 2
    local = Path(repo.download_artifacts("a.txt", tmp_path / "dst"))
    assert local.read_bytes() == b"abc"
    flaky[0].left = 10  # more than max_retries: the error surfaces
    repo.max_retries = 2
    with pytest.raises((TemporarilyUnavailable, RequestLimitExceeded)):
        repo.list_artifacts()
    flaky[0].left = 1  # a stream upload is sent once: not retried
    with pytest.raises(Exception, match="Cannot upload"):
        repo.write_stream("b.txt", [b"b"])


def test_connection_errors_are_retried_then_reported(free_port: Callable[[], int]) -> None:
    port = free_port()
    repo = HttpArtifactRepository(
        f"http://127.0.0.1:{port}/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts",
        max_retries=2,
        backoff=0.01,
    )
    with pytest.raises(TemporarilyUnavailable, match="cannot reach"):
        repo.list_artifacts()


# -- large files ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_200_mb_through_the_proxy(proxy: Proxy, tmp_path: Path) -> None:
    from tests.artifacts.test_s3_large import SIZE, PeakRSS, chunks

    source = tmp_path / "big.bin"
    sent = hashlib.sha256()
    with source.open("wb") as out:
        for chunk in chunks(sent):
            out.write(chunk)
    repo = proxy.repo()
    import time

    with PeakRSS() as up:
        started = time.perf_counter()
        repo.log_artifact(source, "model")
        up_seconds = time.perf_counter() - started
    source.unlink()
    with PeakRSS() as down:
        started = time.perf_counter()
        local = Path(repo.download_artifacts("model/big.bin", tmp_path / "dst"))
        down_seconds = time.perf_counter() - started
    got = hashlib.sha256()
    with local.open("rb") as stream:
        while block := stream.read(MiB):
            got.update(block)
    assert got.hexdigest() == sent.hexdigest()
    print(
        f"\n200 MB through the proxy (client and server in one process): up "
        f"{SIZE / MiB / up_seconds:.0f} MB/s (RSS +{up.growth / MiB:.0f} MB), down "
        f"{SIZE / MiB / down_seconds:.0f} MB/s (RSS +{down.growth / MiB:.0f} MB)"
    )
    assert up.growth < 100 * MiB
    assert down.growth < 100 * MiB


# -- multipart ------------------------------------------------------------------------------------


def mpu_stand_in(s3_uri: str) -> Any:
    """The proxy's ``mpu`` endpoints as MLflow documents them, over the real S3 repository
    (a stand-in until ``mltrail.server`` serves them); everything else answers 404."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from mltrail._exceptions import MltrailError
    from mltrail.artifacts import MultipartUploadPart, S3ArtifactRepository

    store = S3ArtifactRepository(s3_uri)
    calls: list[str] = []

    async def mpu(request: Request) -> JSONResponse:
        verb = request.path_params["verb"]
        directory = request.path_params["path"]
        body = await request.json()
        calls.append(verb)
        try:
            if verb == "create":
                created = store.create_multipart_upload(body["path"], body["num_parts"], directory)
                answer = created.to_dict()
                if getattr(app.state, "part_url", None):  # to make the part uploads fail
                    for credential in answer["credentials"]:
                        credential["url"] = app.state.part_url
                return JSONResponse(answer)
            if verb == "complete":
                parts = [MultipartUploadPart.from_dict(p) for p in body["parts"]]
                store.complete_multipart_upload(body["path"], body["upload_id"], parts, directory)
            else:
                store.abort_multipart_upload(body["path"], body["upload_id"], directory)
            return JSONResponse({})
        except MltrailError as exc:
            return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    app = Starlette(routes=[Route("/api/2.0/mlflow-artifacts/mpu/{verb}/{path:path}", mpu,
                                  methods=["POST"])])  # fmt: skip
    app.state.calls = calls
    app.state.store = store
    return app


def test_large_files_go_in_parts_straight_to_s3(
    serve: Callable[..., Any], s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = mpu_stand_in(f"{s3_bucket}/root")
    server = serve(app)
    monkeypatch.setenv("MLTRAIL_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(10 * MiB))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * MiB))
    monkeypatch.setenv("MLTRAIL_TRACKING_TOKEN", "secret-token")
    data = os.urandom(12 * MiB + 5)
    source = tmp_path / "weights.bin"
    source.write_bytes(data)
    repo = HttpArtifactRepository(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts")
    repo.log_artifact(source, "model")
    assert app.state.calls == ["create", "complete"]
    with app.state.store.open_read("1/r/artifacts/model/weights.bin") as stream:
        assert stream.read() == data


def test_multipart_falls_back_to_one_put_when_the_server_has_none(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", "1")
    source = tmp_path / "w.bin"
    source.write_bytes(b"w" * 1000)
    repo = proxy.repo()
    repo.log_artifact(source)
    assert repo.list_artifacts() == [FileInfo("w.bin", False, 1000)]


def test_failed_part_aborts_the_upload(
    serve: Callable[..., Any],
    s3_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    free_port: Callable[[], int],
) -> None:
    app = mpu_stand_in(f"{s3_bucket}/root")
    app.state.part_url = f"http://127.0.0.1:{free_port()}/nothing-listens-here"
    server = serve(app)
    monkeypatch.setenv("MLTRAIL_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", "1")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * MiB))
    source = tmp_path / "w.bin"
    source.write_bytes(b"w" * (6 * MiB))
    repo = HttpArtifactRepository(
        f"{server.url}/api/2.0/mlflow-artifacts/artifacts/r", max_retries=0
    )
    with pytest.raises(TemporarilyUnavailable, match="upload part 1"):
        repo.log_artifact(source)
    assert app.state.calls == ["create", "abort"]
    store = app.state.store
    assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    assert store.file_info("r/w.bin") is None


def test_no_unclosed_connection_is_reported_at_exit(tracking_server: Any, tmp_path: Path) -> None:
    """The library closes its connections at exit (the tracking server's and the artifact
    proxy's pooled clients): a script ends without ResourceWarnings about unclosed sockets."""
    script = tmp_path / "log.py"
    script.write_text(
        "import sys, mltrail\n"
        "mltrail.set_tracking_uri(sys.argv[1])\n"
        "mltrail.start_run()\n"
        "mltrail.log_text('hello', 'notes/hello.txt')\n"
        "mltrail.log_metric('loss', 0.5)\n"  # queued; the run ends at exit
    )
    result = subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", str(script), tracking_server.url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "ResourceWarning" not in result.stderr
    # The connections closed after the exit handlers stored the value and ended the run
    (run,) = MlflowClient(tracking_server.url).search_runs(["0"])
    assert run.info.status == "FINISHED"
    assert run.data.metrics == {"loss": 0.5}
