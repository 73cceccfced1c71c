"""S3ArtifactRepository against a real S3 server (SeaweedFS, started by ``tests/_seaweed.py``):
what only S3 has (URIs, listing pages, keys other tools wrote, streamed multipart writes, S3's
errors); the contract all backends share is tests/artifacts/test_repository_conformance.py."""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from tests._seaweed import SeaweedFS

from mltrail._exceptions import InvalidArgument, NotFound, PermissionDenied
from mltrail.artifacts import get_artifact_repository
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


def test_objects_get_a_content_type_and_a_key_is_no_folder(
    repo: S3ArtifactRepository, s3: Any
) -> None:
    repo.write_stream("model/MLmodel", [b"flavors:", b" {}\n"])
    repo.write_stream("metrics.json", [b"{}"])
    assert get(s3, repo, "exp/run/artifacts/model/MLmodel") == b"flavors: {}\n"
    head = s3.head_object(Bucket=repo.bucket, Key="exp/run/artifacts/metrics.json")
    assert head["ContentType"] == "application/json"
    s3.put_object(Bucket=repo.bucket, Key="exp/run/other", Body=b"x")
    assert S3ArtifactRepository(f"s3://{repo.bucket}/exp/run/other").file_info("") is None


def test_listing_pages_through_many_keys(repo: S3ArtifactRepository, s3: Any) -> None:
    names = [f"f{i:04d}.txt" for i in range(1005)]  # more than one page of 1000
    with concurrent.futures.ThreadPoolExecutor(8) as pool:  # written behind the repository
        list(
            pool.map(
                lambda n: s3.put_object(Bucket=repo.bucket, Key=f"exp/run/artifacts/many/{n}"),
                names,
            )
        )
    listed = repo.list_artifacts("many")
    assert [f.path for f in listed] == [f"many/{n}" for n in names]


# -- reads ----------------------------------------------------------------------------------------


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


# -- deletes --------------------------------------------------------------------------------------


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
