"""S3ArtifactRepository against a real S3 server (SeaweedFS, started by ``tests/_seaweed.py``)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._seaweed import SeaweedFS

from mltrail._exceptions import InvalidArgument, NotFound, PermissionDenied
from mltrail.artifacts import FileInfo, get_artifact_repository
from mltrail.artifacts._multipart import MultipartUploadPart
from mltrail.artifacts.s3 import S3ArtifactRepository

MiB = 1024 * 1024


@pytest.fixture
def repo(s3_bucket: str) -> S3ArtifactRepository:
    return S3ArtifactRepository(f"{s3_bucket}/exp/run/artifacts")


@pytest.fixture
def s3(seaweedfs: SeaweedFS) -> Any:
    return seaweedfs.client()


def all_keys(s3: Any, repo: S3ArtifactRepository) -> dict[str, str]:
    """Every key in the repository's bucket with its ETag."""
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=repo.bucket):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = obj["ETag"]
    return found


def get(s3: Any, repo: S3ArtifactRepository, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=repo.bucket, Key=key)["Body"].read())


# -- URIs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "bucket", "prefix"),
    [
        ("s3://my-bucket", "my-bucket", ""),
        ("s3://my-bucket/", "my-bucket", ""),
        ("s3://my-bucket/a/b", "my-bucket", "a/b"),
        ("s3://my-bucket/a/b/", "my-bucket", "a/b"),
        ("S3://data.example-1/x", "data.example-1", "x"),
    ],
)
def test_uri_is_parsed(uri: str, bucket: str, prefix: str) -> None:
    repo = S3ArtifactRepository(uri)
    assert (repo.bucket, repo.prefix) == (bucket, prefix)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("s3://", "bucket name"),
        ("s3://ab/x", "bucket name"),
        ("s3://Upper/x", "bucket name"),
        ("s3://b..b/x", "bucket name"),
        ("s3://user@bucket/x", "bucket name"),
        ("s3://bucket:9000/x", "bucket name"),
        ("s3://bucket/a/../b", "'..'"),
        ("s3://bucket/a//b", "empty path segments"),
        ("s3://bucket/%2e%2e/x", "'..'"),
        ("s3://bucket/x?versionId=1", "query"),
        ("s3://bucket/x#frag", "fragment"),
        ("gs://bucket/x", "expected s3://"),
    ],
)
def test_bad_uri_is_refused(uri: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        S3ArtifactRepository(uri)


def test_small_parts_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="part_size"):
        S3ArtifactRepository("s3://bucket/x", part_size=MiB)


def test_scheme_is_registered(s3_bucket: str) -> None:
    repo = get_artifact_repository(f"{s3_bucket}/x")
    assert isinstance(repo, S3ArtifactRepository)
    assert repo.prefix == "x"


# -- writes and listings ------------------------------------------------------------------------


def test_write_list_and_stat(repo: S3ArtifactRepository, s3: Any) -> None:
    assert repo.write_stream("model/MLmodel", [b"flavors:", b" {}\n"]) == 12
    repo.write_stream("model/data/weights.bin", [b"\x00" * 10])
    repo.write_stream("metrics.json", [b"{}"])
    repo.write_stream("empty.txt", [])
    assert repo.list_artifacts() == [
        FileInfo("empty.txt", False, 0),
        FileInfo("metrics.json", False, 2),
        FileInfo("model", True, None),
    ]
    assert repo.list_artifacts("model") == [
        FileInfo("model/MLmodel", False, 12),
        FileInfo("model/data", True, None),
    ]
    assert repo.list_artifacts("model/") == repo.list_artifacts("model")
    assert repo.list_artifacts("model/data") == [FileInfo("model/data/weights.bin", False, 10)]
    assert repo.list_artifacts("model/MLmodel") == []  # a file has no children
    assert repo.list_artifacts("missing") == []
    assert repo.file_info("model") == FileInfo("model", True, None)
    assert repo.file_info("model/MLmodel") == FileInfo("model/MLmodel", False, 12)
    assert repo.file_info("missing") is None
    assert repo.file_info("") == FileInfo("", True, None)
    s3.put_object(Bucket=repo.bucket, Key="exp/run/other", Body=b"x")
    assert S3ArtifactRepository(f"s3://{repo.bucket}/exp/run/other").file_info("") is None
    assert get(s3, repo, "exp/run/artifacts/model/MLmodel") == b"flavors: {}\n"
    head = s3.head_object(Bucket=repo.bucket, Key="exp/run/artifacts/metrics.json")
    assert head["ContentType"] == "application/json"


def test_listing_pages_through_many_keys(repo: S3ArtifactRepository) -> None:
    names = [f"f{i:04d}.txt" for i in range(1005)]  # more than one page of 1000
    for name in names:
        repo.write_stream(f"many/{name}", [b"x"])
    listed = repo.list_artifacts("many")
    assert [f.path for f in listed] == [f"many/{n}" for n in names]


def test_log_artifact_and_log_artifacts(
    repo: S3ArtifactRepository, s3: Any, tmp_path: Path
) -> None:
    one = tmp_path / "one.txt"
    one.write_bytes(b"one")
    repo.log_artifact(one)
    repo.log_artifact(one, "nested/deeper")
    tree = tmp_path / "tree"
    (tree / "sub" / "subsub").mkdir(parents=True)
    (tree / "a.txt").write_bytes(b"a")
    (tree / "sub" / "b.txt").write_bytes(b"bb")
    (tree / "sub" / "subsub" / "c.txt").write_bytes(b"ccc")
    repo.log_artifacts(tree, "tree")
    repo.log_artifacts(tree)
    keys = {k.removeprefix("exp/run/artifacts/") for k in all_keys(s3, repo)}
    assert keys == {
        "one.txt",
        "nested/deeper/one.txt",
        "tree/a.txt",
        "tree/sub/b.txt",
        "tree/sub/subsub/c.txt",
        "a.txt",
        "sub/b.txt",
        "sub/subsub/c.txt",
    }
    assert get(s3, repo, "exp/run/artifacts/tree/sub/subsub/c.txt") == b"ccc"


def test_log_artifact_refuses_missing_sources(repo: S3ArtifactRepository, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="not an existing local file"):
        repo.log_artifact(tmp_path / "missing.txt")
    with pytest.raises(InvalidArgument, match="not an existing local directory"):
        repo.log_artifacts(tmp_path / "missing")


def test_upload_refuses_a_link_leaving_the_source(
    repo: S3ArtifactRepository, s3: Any, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"secret")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "ok.txt").write_bytes(b"ok")
    (tree / "leak").symlink_to(secret)
    with pytest.raises(InvalidArgument, match="outside the directory"):
        repo.log_artifacts(tree)
    assert all_keys(s3, repo) == {}


def test_file_and_directory_cannot_share_a_name(repo: S3ArtifactRepository) -> None:
    repo.write_stream("dir/file.txt", [b"x"])
    with pytest.raises(InvalidArgument, match="is a directory"):
        repo.write_stream("dir", [b"y"])
    with pytest.raises(InvalidArgument, match="exists and is not a directory"):
        repo.write_stream("dir/file.txt/below", [b"y"])
    with pytest.raises(InvalidArgument, match="at the root"):
        repo.write_stream("", [b"y"])
    with pytest.raises(InvalidArgument, match="chunks must be bytes"):
        repo.write_stream("text.txt", ["text"])  # type: ignore[list-item]


def test_overwrite_replaces_the_object(repo: S3ArtifactRepository) -> None:
    repo.write_stream("a.txt", [b"old"])
    repo.write_stream("a.txt", [b"new!"])
    with repo.open_read("a.txt") as stream:
        assert stream.read() == b"new!"
    assert repo.file_info("a.txt") == FileInfo("a.txt", False, 4)


# -- reads ----------------------------------------------------------------------------------------


def test_open_read_streams(repo: S3ArtifactRepository) -> None:
    payload = os.urandom(3 * MiB + 17)
    repo.write_stream("blob.bin", [payload])
    with repo.open_read("blob.bin") as stream:
        first = stream.read(1000)
        rest = b"".join(iter(lambda: stream.read(64 * 1024), b""))
    assert first + rest == payload
    repo.write_stream("d/x", [b"x"])
    with pytest.raises(InvalidArgument, match="is a directory"):
        repo.open_read("d")
    with pytest.raises(InvalidArgument, match="is a directory"):
        repo.open_read("")
    with pytest.raises(NotFound, match="does not exist"):
        repo.open_read("missing.bin")


def test_download_file_and_directory(repo: S3ArtifactRepository, tmp_path: Path) -> None:
    repo.write_stream("model/MLmodel", [b"m"])
    repo.write_stream("model/data/w.bin", [b"w" * 100])
    repo.write_stream("top.txt", [b"t"])
    local = Path(repo.download_artifacts("model/MLmodel", tmp_path / "one"))
    assert local == tmp_path / "one" / "model" / "MLmodel"
    assert local.read_bytes() == b"m"
    local = Path(repo.download_artifacts("model", tmp_path / "dir"))
    assert local == tmp_path / "dir" / "model"
    assert (local / "data" / "w.bin").read_bytes() == b"w" * 100
    assert sorted(p.relative_to(local).as_posix() for p in local.rglob("*")) == [
        "MLmodel",
        "data",
        "data/w.bin",
    ]
    everything = Path(repo.download_artifacts("", tmp_path / "all"))
    assert (everything / "top.txt").read_bytes() == b"t"
    assert (everything / "model" / "data" / "w.bin").exists()
    fresh = Path(repo.download_artifacts("top.txt"))
    assert fresh.read_bytes() == b"t"
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
    with pytest.raises(NotFound, match="does not exist"):
        repo.download_artifacts("missing", tmp_path / "none")


def test_keys_written_by_other_tools_that_no_path_names_are_skipped(
    repo: S3ArtifactRepository, s3: Any, tmp_path: Path
) -> None:
    repo.write_stream("ok/fine.txt", [b"fine"])
    odd = ("ok/%2e%2e", "ok/...", "ok/a;b", "ok/x#y", "ok/q?x", "ok/dir/")
    for key in odd:
        s3.put_object(Bucket=repo.bucket, Key=f"exp/run/artifacts/{key}", Body=b"")
    assert [f.path for f in repo.list_artifacts("ok")] == ["ok/dir", "ok/fine.txt"]
    local = Path(repo.download_artifacts("ok", tmp_path / "dst"))
    found = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert found == ["dst", "dst/ok", "dst/ok/dir", "dst/ok/fine.txt"]
    assert (local / "fine.txt").read_bytes() == b"fine"


def test_download_never_writes_through_a_link_in_the_destination(
    repo: S3ArtifactRepository, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "a").symlink_to(outside, target_is_directory=True)
    repo.write_stream("a/b.txt", [b"b"])
    for path in ("a/b.txt", "a", ""):
        with pytest.raises(PermissionDenied):
            repo.download_artifacts(path, dst)
    assert list(outside.iterdir()) == []


# -- deletes --------------------------------------------------------------------------------------


def test_delete_file_directory_and_root(repo: S3ArtifactRepository, s3: Any) -> None:
    for path in ("a.txt", "ab/x.txt", "a/one.txt", "a/b/two.txt", "keep/k.txt"):
        repo.write_stream(path, [b"."])
    s3.put_object(Bucket=repo.bucket, Key="exp/run/artifacts-sibling/x", Body=b"x")
    s3.put_object(Bucket=repo.bucket, Key="outside.txt", Body=b"x")
    repo.delete_artifacts("a")  # the directory a/, not a.txt nor ab/
    assert [f.path for f in repo.list_artifacts()] == ["a.txt", "ab", "keep"]
    repo.delete_artifacts("a.txt")
    repo.delete_artifacts("missing")  # nothing there: nothing to do
    assert [f.path for f in repo.list_artifacts()] == ["ab", "keep"]
    repo.delete_artifacts()
    assert repo.list_artifacts() == []
    assert set(all_keys(s3, repo)) == {"exp/run/artifacts-sibling/x", "outside.txt"}


# -- multipart ------------------------------------------------------------------------------------


def _chunks(total: int, chunk: int = MiB) -> Any:
    block = os.urandom(chunk)
    for index in range(0, total, chunk):
        yield (index.to_bytes(8, "big") + block)[: min(chunk, total - index)]


def test_streamed_multipart_upload(s3_bucket: str, s3: Any) -> None:
    repo = S3ArtifactRepository(f"{s3_bucket}/mp", part_size=5 * MiB)
    total = 17 * MiB + 3  # four parts: 5 + 5 + 5 + 2 MiB
    digest = hashlib.sha256()
    chunks = []
    for chunk in _chunks(total):
        digest.update(chunk)
        chunks.append(chunk)
    assert repo.write_stream("big.bin", iter(chunks)) == total
    head = s3.head_object(Bucket=repo.bucket, Key="mp/big.bin")
    assert head["ContentLength"] == total
    with repo.open_read("big.bin") as stream:
        got = hashlib.sha256(stream.read()).hexdigest()
    assert got == digest.hexdigest()


def test_failed_stream_aborts_and_leaves_nothing(s3_bucket: str, s3: Any) -> None:
    repo = S3ArtifactRepository(f"{s3_bucket}/mp", part_size=5 * MiB)

    def failing() -> Any:
        yield from _chunks(12 * MiB)
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        repo.write_stream("broken.bin", failing())
    assert repo.file_info("broken.bin") is None
    assert s3.list_multipart_uploads(Bucket=repo.bucket).get("Uploads", []) == []


def test_client_multipart_upload_with_presigned_urls(repo: S3ArtifactRepository) -> None:
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
                credential.url,
                content=data[start : start + part],
                headers=credential.headers,
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


def test_client_multipart_upload_can_be_aborted(repo: S3ArtifactRepository, s3: Any) -> None:
    created = repo.create_multipart_upload("C:\\Users\\me\\w.bin", 2)
    assert created.upload_id is not None
    with httpx.Client() as http:
        answer = http.put(created.credentials[0].url, content=b"x" * (5 * MiB))
        assert answer.status_code == 200
    repo.abort_multipart_upload("C:\\Users\\me\\w.bin", created.upload_id)
    assert repo.file_info("w.bin") is None
    assert s3.list_multipart_uploads(Bucket=repo.bucket).get("Uploads", []) == []
    with pytest.raises(NotFound):
        repo.complete_multipart_upload("w.bin", created.upload_id, [MultipartUploadPart(1, '"x"')])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_parts": 0}, "between 1 and 10000"),
        ({"num_parts": 10_001}, "between 1 and 10000"),
        ({"num_parts": "3"}, "expected an integer"),
        ({"local_file": ""}, "expected the name"),
        ({"local_file": "dir/"}, "'.' and '..'|does not end"),
        ({"local_file": "/tmp/.."}, "'.' and '..'"),
        ({"local_file": "C:\\x\\%2e%2e"}, "'.' and '..'"),
        ({"local_file": "a\x00b"}, "NUL"),
        ({"artifact_path": "../up"}, "'.' and '..'"),
        ({"artifact_path": "/abs"}, "absolute"),
    ],
)
def test_multipart_create_refuses_bad_input(
    repo: S3ArtifactRepository, s3: Any, kwargs: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {"local_file": "w.bin", "num_parts": 2, "artifact_path": None}
    args.update(kwargs)
    with pytest.raises(InvalidArgument, match=message):
        repo.create_multipart_upload(**args)
    assert s3.list_multipart_uploads(Bucket=repo.bucket).get("Uploads", []) == []


def test_multipart_complete_refuses_bad_parts(repo: S3ArtifactRepository) -> None:
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
    for bad in ({"part_number": 0, "etag": "a"}, {"part_number": True}, ["x"], {"etag": 1}):
        with pytest.raises(InvalidArgument, match="parts"):
            MultipartUploadPart.from_dict(bad)


# -- errors from the server ---------------------------------------------------------------------


def test_wrong_credentials_are_permission_denied(
    repo: S3ArtifactRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(PermissionDenied, match="access denied"):
        repo.list_artifacts()
    with pytest.raises(PermissionDenied):
        repo.write_stream("x.txt", [b"x"])


def test_missing_bucket_is_not_found(s3_bucket: str) -> None:
    repo = S3ArtifactRepository("s3://mltrail-no-such-bucket-here/x")
    with pytest.raises(NotFound, match="does not exist"):
        repo.list_artifacts()


def test_unreachable_endpoint_is_temporarily_unavailable(
    monkeypatch: pytest.MonkeyPatch, s3_bucket: str
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLTRAIL_S3_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    from mltrail._exceptions import TemporarilyUnavailable

    repo = S3ArtifactRepository(f"{s3_bucket}/x")
    with pytest.raises(TemporarilyUnavailable, match="cannot reach"):
        repo.list_artifacts()
