"""One artifact-repository suite over every backend: local files, S3 and the HTTP proxy.

``backend`` gives the same repository contract three times: a folder (``file://``), a prefix of
a SeaweedFS bucket (``s3://``, tests/_seaweed.py) and a run's artifacts behind a real mltrail
server with ``--serve-artifacts`` (uvicorn in a thread, storing into a folder).  Every test
here runs on all three: round trips, listings, deletes, downloads, streaming, and every
traversal form refused with nothing changed and, for the remote ones, nothing sent.  Multipart
uploads run over S3 and over the proxy in front of S3, the two that have them.

What only one backend has stays beside it: test_artifact_local.py (atomic writes, modes,
temp files), test_artifact_traversal.py (symbolic links in the root), test_s3_repository.py
(URIs, listing pages, keys written by other tools, S3's errors), test_http_repository.py
(URIs, credentials, retries, the client's multipart path).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._seaweed import SeaweedFS
from tests.artifacts.test_artifact_traversal import TRAVERSALS, snapshot

from mltrail._exceptions import InvalidArgument, NotFound, PermissionDenied
from mltrail.artifacts import (
    FileInfo,
    LocalArtifactRepository,
    MlflowArtifactsRepository,
    get_artifact_repository,
)
from mltrail.artifacts._multipart import MultipartUploadPart
from mltrail.artifacts.s3 import S3ArtifactRepository

MiB = 1024 * 1024
BACKENDS = ["local", "s3", "http"]


@dataclass
class Backend:
    """A repository, the local folder its tests use, and what reaches the storage behind it."""

    kind: str
    repo: Any
    local: Path  # sources, download destinations, the temp dir and a sentinel folder
    stored: Callable[[], object]  # everything the storage holds
    sent: list[str] = field(default_factory=list)  # requests that reached S3 or the server

    @property
    def outside(self) -> Path:
        return self.local / "outside"

    def state(self) -> tuple[object, object]:
        return self.stored(), snapshot(self.local)


class Recorder:
    """ASGI middleware recording the path of every request to the server."""

    def __init__(self, app: Any, sent: list[str]) -> None:
        self.app = app
        self.sent = sent

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.sent.append(scope["path"])
        await self.app(scope, receive, send)


def _s3_keys(client: Any, bucket: str) -> tuple[dict[str, str], list[str]]:
    keys: dict[str, str] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update({obj["Key"]: obj["ETag"] for obj in page.get("Contents", [])})
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return keys, sorted(u["Key"] for u in uploads)


def _proxy_repo(
    serve: Callable[..., Any], root: Path, sent: list[str], destination: str | None = None
) -> MlflowArtifactsRepository:
    """The artifact repository of a new run on a new mltrail server serving artifacts."""
    from mltrail.server import ServerSettings, create_app

    root.mkdir(parents=True)
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{root / 'mltrail.db'}",
        artifacts_destination=destination or str(root / "artifacts"),
    )
    server = serve(Recorder(create_app(settings), sent))
    with httpx.Client(base_url=server.url) as client:
        exp = client.post("/api/2.0/mlflow/experiments/create", json={"name": "e"}).json()
        run = client.post(
            "/api/2.0/mlflow/runs/create", json={"experiment_id": exp["experiment_id"]}
        ).json()["run"]["info"]
    repo = get_artifact_repository(run["artifact_uri"], tracking_uri=server.url)
    assert isinstance(repo, MlflowArtifactsRepository)
    sent.clear()
    return repo


def _count_s3_requests(repo: S3ArtifactRepository, sent: list[str]) -> Callable[[], None]:
    def record(request: Any, **_: Any) -> None:
        sent.append(f"{request.method} {request.url}")

    events = repo.client.meta.events
    events.register("before-send.s3", record)
    return lambda: events.unregister("before-send.s3", record)


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    serve: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Backend]:
    local = tmp_path / "local"
    (local / "outside").mkdir(parents=True)
    (local / "outside" / "sentinel.txt").write_bytes(b"do not touch")
    (local / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(local / "tmp"))
    sent: list[str] = []
    if request.param == "local":
        root = tmp_path / "store"
        yield Backend(
            "local", LocalArtifactRepository(root.as_uri()), local, lambda: snapshot(root)
        )
    elif request.param == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        s3 = request.getfixturevalue("seaweedfs").client()
        # Beside the prefix, and sharing its first characters: never listed, read or deleted.
        s3.put_object(Bucket=bucket[len("s3://") :], Key="exp/run/artifacts-x/k", Body=b"keep")
        repo = S3ArtifactRepository(f"{bucket}/exp/run/artifacts")
        stop = _count_s3_requests(repo, sent)
        try:
            yield Backend("s3", repo, local, lambda: _s3_keys(s3, repo.bucket), sent)
        finally:
            stop()
    else:
        repo = _proxy_repo(serve, tmp_path / "server", sent)
        stored = tmp_path / "server" / "artifacts"
        yield Backend("http", repo, local, lambda: snapshot(stored), sent)


def _source_tree(top: Path) -> Path:
    """A model folder: nested files, a name with a space and a percent sign, a dot file."""
    (top / "data" / "nested").mkdir(parents=True)
    (top / "MLmodel").write_text("flavors: {}\n")
    (top / "data" / "weights.bin").write_bytes(bytes(range(256)) * 40)
    (top / "data" / "nested" / "a b 100%.txt").write_text("spaces")
    (top / ".hidden").write_text("dot")
    return top


def _files(top: Path) -> dict[str, bytes]:
    return {
        p.relative_to(top).as_posix(): p.read_bytes() for p in sorted(top.rglob("*")) if p.is_file()
    }


# -- files ---------------------------------------------------------------------------------------


def test_file_round_trip(backend: Backend) -> None:
    repo, local = backend.repo, backend.local
    source = local / "metrics.json"
    source.write_bytes(b'{"a": 1}')
    repo.log_artifact(source)
    repo.log_artifact(str(source), "reports/2024")
    repo.log_artifact(source, "plots/")  # one trailing slash is accepted
    assert repo.list_artifacts() == [
        FileInfo("metrics.json", False, 8),
        FileInfo("plots", True, None),
        FileInfo("reports", True, None),
    ]
    assert repo.file_info("reports/2024/metrics.json") == FileInfo(
        "reports/2024/metrics.json", False, 8
    )
    with repo.open_read("plots/metrics.json") as stream:
        assert stream.read() == b'{"a": 1}'
    out = repo.download_artifacts("reports/2024/metrics.json", local / "out")
    assert out == str(local / "out" / "reports" / "2024" / "metrics.json")
    assert Path(out).read_bytes() == b'{"a": 1}'


def test_write_stream_and_overwrite(backend: Backend) -> None:
    repo = backend.repo
    chunks: list[Any] = [b"abc", bytearray(b"def"), memoryview(b"ghi"), b""]  # bytes-like too
    assert repo.write_stream("deep/er/file.bin", iter(chunks)) == 9
    with repo.open_read("deep/er/file.bin") as stream:
        assert stream.read(4) == b"abcd"
        assert stream.read() == b"efghi"
    assert repo.list_artifacts("deep") == [FileInfo("deep/er", True, None)]
    assert repo.write_stream("empty.txt", []) == 0
    assert repo.file_info("empty.txt") == FileInfo("empty.txt", False, 0)
    repo.write_stream("a.txt", [b"old"])
    repo.write_stream("a.txt", [b"new!"])
    with repo.open_read("a.txt") as stream:
        assert stream.read() == b"new!"
    assert repo.file_info("a.txt") == FileInfo("a.txt", False, 4)


def test_a_file_and_a_directory_cannot_share_a_name(backend: Backend) -> None:
    repo = backend.repo
    repo.write_stream("dir/file.txt", [b"x"])
    before = backend.stored()
    with pytest.raises(InvalidArgument, match="is a directory"):
        repo.write_stream("dir", [b"y"])
    with pytest.raises(InvalidArgument, match="not a directory"):
        repo.write_stream("dir/file.txt/below", [b"y"])
    with pytest.raises(InvalidArgument, match="root"):
        repo.write_stream("", [b"y"])
    assert backend.stored() == before
    # A stream that turns out not to be bytes half-way stores nothing under its name.
    with pytest.raises(InvalidArgument, match="chunks must be bytes"):
        repo.write_stream("text.txt", [b"ok", "text"])
    assert repo.file_info("text.txt") is None


def test_reading_what_is_not_a_file(backend: Backend) -> None:
    repo = backend.repo
    repo.write_stream("d/f", [b"x"])
    with pytest.raises(NotFound):
        repo.open_read("d/missing")
    with pytest.raises(InvalidArgument, match="is a directory"):
        repo.open_read("d")
    with pytest.raises(InvalidArgument, match="is a directory"):
        repo.open_read("")
    with pytest.raises(NotFound):
        repo.download_artifacts("d/missing", backend.local / "none")


def test_uploads_need_existing_sources(backend: Backend) -> None:
    repo, local = backend.repo, backend.local
    with pytest.raises(InvalidArgument, match="not an existing local file"):
        repo.log_artifact(local / "missing.txt")
    with pytest.raises(InvalidArgument, match="not an existing local file"):
        repo.log_artifact(local)
    with pytest.raises(InvalidArgument, match="not an existing local directory"):
        repo.log_artifacts(local / "missing")
    (local / "file.txt").write_text("x")
    with pytest.raises(InvalidArgument, match="not an existing local directory"):
        repo.log_artifacts(local / "file.txt")
    (local / "a;b.txt").write_text("x")
    with pytest.raises(InvalidArgument, match="path parameters"):
        repo.log_artifact(local / "a;b.txt")
    assert backend.sent == []
    assert repo.list_artifacts() == []


def test_an_upload_refuses_a_link_leaving_its_source(backend: Backend) -> None:
    secret = backend.outside / "secret.txt"
    secret.write_bytes(b"secret")
    tree = backend.local / "tree"
    tree.mkdir()
    (tree / "ok.txt").write_bytes(b"ok")
    (tree / "leak").symlink_to(secret)
    before = backend.stored()
    with pytest.raises(InvalidArgument, match="outside the directory"):
        backend.repo.log_artifacts(tree)
    assert backend.stored() == before


# -- directories and listings ------------------------------------------------------------------


def test_directory_round_trip(backend: Backend) -> None:
    repo, local = backend.repo, backend.local
    source = _source_tree(local / "model")
    repo.log_artifacts(source, "model")
    out = repo.download_artifacts("model", local / "dl")
    assert out == str(local / "dl" / "model")
    assert _files(Path(out)) == _files(source)
    everything = repo.download_artifacts("", local / "all")
    assert everything == str(local / "all")
    assert _files(Path(everything) / "model") == _files(source)


def test_log_artifacts_at_the_root_merges(backend: Backend) -> None:
    repo, local = backend.repo, backend.local
    source = _source_tree(local / "model")
    repo.log_artifacts(source)
    other = local / "other"
    other.mkdir()
    (other / "MLmodel").write_text("replaced")
    (other / "extra.txt").write_text("extra")
    repo.log_artifacts(str(other))
    with repo.open_read("MLmodel") as stream:
        assert stream.read() == b"replaced"
    assert repo.file_info("extra.txt") == FileInfo("extra.txt", False, 5)
    assert repo.file_info("data/weights.bin") == FileInfo("data/weights.bin", False, 10240)


def test_listing(backend: Backend) -> None:
    repo = backend.repo
    repo.log_artifacts(_source_tree(backend.local / "model"), "model")
    assert repo.list_artifacts() == [FileInfo("model", True, None)]
    assert repo.list_artifacts("model") == [
        FileInfo("model/.hidden", False, 3),
        FileInfo("model/MLmodel", False, 12),
        FileInfo("model/data", True, None),
    ]
    assert repo.list_artifacts("model/data/") == [
        FileInfo("model/data/nested", True, None),
        FileInfo("model/data/weights.bin", False, 10240),
    ]
    assert repo.list_artifacts("model/data/nested") == [
        FileInfo("model/data/nested/a b 100%.txt", False, 6)
    ]
    assert repo.list_artifacts("model/missing") == []
    assert repo.list_artifacts("model/MLmodel") == []  # a file has no children


def test_file_info(backend: Backend) -> None:
    repo = backend.repo
    assert repo.file_info("") in (None, FileInfo("", True, None))  # nothing stored yet
    repo.write_stream("d/f.bin", [b"12345"])
    assert repo.file_info("d/f.bin") == FileInfo("d/f.bin", False, 5)
    assert repo.file_info("d") == FileInfo("d", True, None)
    assert repo.file_info("d/") == FileInfo("d", True, None)
    assert repo.file_info("") == FileInfo("", True, None)
    assert repo.file_info("d/nope") is None


def test_deletes(backend: Backend) -> None:
    repo = backend.repo
    for path in ("a.txt", "ab/x.txt", "a/one.txt", "a/b/two.txt", "keep/k.txt"):
        repo.write_stream(path, [b"."])
    repo.delete_artifacts("a")  # the directory a/, not a.txt nor ab/
    assert [f.path for f in repo.list_artifacts()] == ["a.txt", "ab", "keep"]
    repo.delete_artifacts("a.txt")
    repo.delete_artifacts("keep/")
    repo.delete_artifacts("missing")  # nothing there: nothing to do
    assert [f.path for f in repo.list_artifacts()] == ["ab"]
    repo.delete_artifacts()
    assert repo.list_artifacts() == []
    repo.write_stream("again.txt", [b"a"])  # the root comes back with the next write
    assert [f.path for f in repo.list_artifacts()] == ["again.txt"]
    repo.delete_artifacts()
    if backend.kind == "s3":
        keys, unfinished = backend.stored()  # type: ignore[misc]
        assert (list(keys), unfinished) == (["exp/run/artifacts-x/k"], [])
    if backend.kind == "local":
        assert not Path(repo.root).exists()


# -- downloads ------------------------------------------------------------------------------------


def test_a_download_without_destination_goes_to_a_private_temp_dir(backend: Backend) -> None:
    backend.repo.write_stream("top.txt", [b"t"])
    fresh = Path(backend.repo.download_artifacts("top.txt"))
    assert fresh.read_bytes() == b"t"
    assert fresh.parent.parent == backend.local / "tmp"
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700


def test_a_download_makes_its_destination_and_overwrites_what_is_there(backend: Backend) -> None:
    backend.repo.write_stream("a/b.txt", [b"new"])
    out = backend.repo.download_artifacts("a", str(backend.local / "new" / "dir"))
    assert Path(out, "b.txt").read_bytes() == b"new"
    dst = backend.local / "dst"
    (dst / "a").mkdir(parents=True)
    (dst / "a" / "b.txt").write_bytes(b"old")
    backend.repo.download_artifacts("a", dst)
    assert (dst / "a" / "b.txt").read_bytes() == b"new"
    assert [p.name for p in (dst / "a").iterdir()] == ["b.txt"]


def test_a_download_never_writes_through_a_link_in_the_destination(backend: Backend) -> None:
    dst = backend.local / "dst"
    dst.mkdir()
    (dst / "a").symlink_to(backend.outside, target_is_directory=True)
    backend.repo.write_stream("a/b.txt", [b"b"])
    for path in ("a/b.txt", "a", ""):
        with pytest.raises(PermissionDenied):
            backend.repo.download_artifacts(path, dst)
    assert sorted(p.name for p in backend.outside.iterdir()) == ["sentinel.txt"]


# -- streaming ------------------------------------------------------------------------------------


def _chunks(total: int, chunk: int) -> Iterator[bytes]:
    block = os.urandom(chunk)
    for index in range(0, total, chunk):
        yield (index.to_bytes(8, "big") + block)[: min(chunk, total - index)]


def test_streaming_both_ways(backend: Backend) -> None:
    """A generator of uneven chunks is stored as it comes; a read hands it back in pieces."""
    total = 3 * MiB + 17
    digest = hashlib.sha256()

    def produce() -> Iterator[bytes]:
        for chunk in _chunks(total, 300_001):
            digest.update(chunk)
            yield chunk

    assert backend.repo.write_stream("blob.bin", produce()) == total
    assert backend.repo.file_info("blob.bin") == FileInfo("blob.bin", False, total)
    read = hashlib.sha256()
    with backend.repo.open_read("blob.bin") as stream:
        first = stream.read(1000)
        read.update(first)
        assert len(first) == 1000
        for piece in iter(lambda: stream.read(64 * 1024), b""):
            assert len(piece) <= 64 * 1024
            read.update(piece)
    assert read.hexdigest() == digest.hexdigest()


# -- traversal ------------------------------------------------------------------------------------

Operation = Callable[[Backend, str], object]


def _upload_sources(backend: Backend) -> tuple[Path, Path]:
    source_dir = backend.local / "src"
    (source_dir / "sub").mkdir(parents=True, exist_ok=True)
    (source_dir / "payload.txt").write_bytes(b"payload")
    (source_dir / "sub" / "deep.txt").write_bytes(b"deep")
    (backend.local / "dst").mkdir(exist_ok=True)
    return source_dir / "payload.txt", source_dir


OPERATIONS: dict[str, Operation] = {
    "log_artifact": lambda b, p: b.repo.log_artifact(b.local / "src" / "payload.txt", p),
    "log_artifacts": lambda b, p: b.repo.log_artifacts(b.local / "src", p),
    "list_artifacts": lambda b, p: b.repo.list_artifacts(p),
    "download_artifacts": lambda b, p: b.repo.download_artifacts(p, b.local / "dst"),
    "download_artifacts_tempdir": lambda b, p: b.repo.download_artifacts(p),
    "delete_artifacts": lambda b, p: b.repo.delete_artifacts(p),
    "open_read": lambda b, p: b.repo.open_read(p).close(),
    "write_stream": lambda b, p: b.repo.write_stream(p, [b"evil"]),
    "file_info": lambda b, p: b.repo.file_info(p),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_traversal_is_refused_and_changes_nothing(backend: Backend, operation: str) -> None:
    """Each form of tests/artifacts/test_artifact_traversal.py: ``InvalidArgument`` naming the
    path, nothing stored, read or written anywhere, and nothing sent to S3 or the server."""
    _upload_sources(backend)
    backend.repo.write_stream("a/b.txt", [b"inside"])
    backend.repo.write_stream("top.txt", [b"top"])
    backend.sent.clear()
    before = backend.state()
    for form in TRAVERSALS:
        path = form.replace("{outside}", str(backend.outside))
        with pytest.raises(InvalidArgument) as info:
            OPERATIONS[operation](backend, path)
        message = str(info.value)
        assert "Invalid artifact path" in message or "Invalid 'path'" in message, form
        assert repr(path) in message or path in message, form
        assert backend.sent == [], form
        if backend.kind == "local":  # cheap enough to check after every form
            assert backend.state() == before, form
    assert backend.state() == before
    assert (backend.outside / "sentinel.txt").read_bytes() == b"do not touch"


# -- multipart: S3, and the proxy in front of S3 ------------------------------------------------


@pytest.fixture(params=["s3", "http"])
def multipart(
    request: pytest.FixtureRequest,
    s3_bucket: str,
    seaweedfs: SeaweedFS,
    serve: Callable[..., Any],
    tmp_path: Path,
) -> tuple[Any, Callable[[], list[str]]]:
    """(a repository with multipart uploads, a function listing its bucket's unfinished ones)."""
    s3 = seaweedfs.client()
    bucket = s3_bucket[len("s3://") :]

    def unfinished() -> list[str]:
        return [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]

    if request.param == "s3":
        return S3ArtifactRepository(f"{s3_bucket}/exp/run/artifacts"), unfinished
    return _proxy_repo(serve, tmp_path / "server", [], destination=f"{s3_bucket}/root"), unfinished


def test_multipart_upload_with_presigned_urls(multipart: tuple[Any, Any]) -> None:
    repo, _ = multipart
    part = 5 * MiB
    data = os.urandom(2 * part + 1234)
    created = repo.create_multipart_upload("/home/me/weights.bin", 3, "model")
    assert created.upload_id
    assert [c.part_number for c in created.credentials] == [1, 2, 3]
    body = created.to_dict()
    assert set(body) == {"upload_id", "credentials"}
    assert set(body["credentials"][0]) == {"url", "part_number", "headers"}
    parts = []
    with httpx.Client() as http:
        for credential in created.credentials:
            start = (credential.part_number - 1) * part
            answer = http.put(
                credential.url, content=data[start : start + part], headers=credential.headers
            )
            assert answer.status_code == 200, answer.text
            parts.append(
                MultipartUploadPart.from_dict(
                    {"part_number": credential.part_number, "etag": answer.headers["ETag"]}
                )
            )
    assert repo.file_info("model/weights.bin") is None  # not visible before completion
    repo.complete_multipart_upload("/home/me/weights.bin", created.upload_id, parts, "model")
    with repo.open_read("model/weights.bin") as stream:
        assert stream.read() == data


def test_a_multipart_upload_can_be_aborted(multipart: tuple[Any, Any]) -> None:
    repo, unfinished = multipart
    created = repo.create_multipart_upload("C:\\Users\\me\\w.bin", 2)
    assert created.upload_id is not None
    with httpx.Client() as http:
        answer = http.put(created.credentials[0].url, content=b"x" * (5 * MiB))
        assert answer.status_code == 200
    assert len(unfinished()) == 1
    repo.abort_multipart_upload("C:\\Users\\me\\w.bin", created.upload_id)
    assert repo.file_info("w.bin") is None
    assert unfinished() == []
    with pytest.raises(NotFound):
        repo.complete_multipart_upload("w.bin", created.upload_id, [MultipartUploadPart(1, '"x"')])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_parts": 0}, "between 1 and 10000"),
        ({"num_parts": 10_001}, "between 1 and 10000"),
        ({"num_parts": "3"}, "expected an integer"),
        ({"local_file": ""}, "expected the name|'path'"),
        ({"local_file": "dir/"}, "'.' and '..'|does not end"),
        ({"local_file": "/tmp/.."}, "'.' and '..'"),
        ({"local_file": "C:\\x\\%2e%2e"}, "'.' and '..'"),
        ({"local_file": "a\x00b"}, "NUL"),
        ({"artifact_path": "../up"}, "'.' and '..'"),
        ({"artifact_path": "/abs"}, "absolute"),
    ],
)
def test_a_multipart_upload_refuses_bad_input(
    multipart: tuple[Any, Any], kwargs: dict[str, Any], message: str
) -> None:
    repo, unfinished = multipart
    args: dict[str, Any] = {"local_file": "w.bin", "num_parts": 2, "artifact_path": None}
    args.update(kwargs)
    with pytest.raises(InvalidArgument, match=message):
        repo.create_multipart_upload(**args)
    assert unfinished() == []


def test_completing_refuses_bad_parts(multipart: tuple[Any, Any]) -> None:
    repo, _ = multipart
    with pytest.raises(InvalidArgument, match="at least one part"):
        repo.complete_multipart_upload("w.bin", "id", [])
    with pytest.raises(InvalidArgument, match="more than once"):
        repo.complete_multipart_upload(
            "w.bin", "id", [MultipartUploadPart(1, "a"), MultipartUploadPart(1, "b")]
        )
    with pytest.raises(InvalidArgument, match="etag"):
        repo.complete_multipart_upload("w.bin", "id", [MultipartUploadPart(1, None)])
    with pytest.raises(InvalidArgument, match="upload_id"):
        repo.complete_multipart_upload("w.bin", "", [MultipartUploadPart(1, "a")])


MULTIPART_OPERATIONS: dict[str, Callable[[Any, str], object]] = {
    "create": lambda repo, p: repo.create_multipart_upload("w.bin", 2, p),
    "complete": lambda repo, p: repo.complete_multipart_upload(
        "w.bin", "upload", [MultipartUploadPart(1, "etag")], p
    ),
    "abort": lambda repo, p: repo.abort_multipart_upload("w.bin", "upload", p),
}


@pytest.mark.parametrize("operation", sorted(MULTIPART_OPERATIONS))
def test_every_traversal_is_refused_by_multipart_uploads(
    multipart: tuple[Any, Any], operation: str, tmp_path: Path
) -> None:
    repo, unfinished = multipart
    for form in TRAVERSALS:
        path = form.replace("{outside}", str(tmp_path / "outside"))
        with pytest.raises(InvalidArgument) as info:
            MULTIPART_OPERATIONS[operation](repo, path)
        message = str(info.value)
        assert "Invalid artifact path" in message or "Invalid 'path'" in message, form
    assert unfinished() == []
    assert repo.list_artifacts() == []
