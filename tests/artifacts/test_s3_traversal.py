"""The name a multipart upload gets on S3, for every traversal form, on real SeaweedFS.

(Every traversal form against every other operation, on every backend, is in
tests/artifacts/test_repository_conformance.py.)  A refused name must raise ``InvalidArgument``
and change nothing: not the bucket (every key and ETag), not the unfinished multipart uploads,
not the local folders.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests._seaweed import SeaweedFS, empty_bucket
from tests.artifacts.test_artifact_traversal import TRAVERSALS

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts._multipart import MultipartUploadPart
from mltrail.artifacts._paths import is_valid_segment
from mltrail.artifacts.s3 import S3ArtifactRepository


@dataclass
class Env:
    repo: S3ArtifactRepository
    client: Any
    local: Path
    source_file: Path
    source_dir: Path
    dst: Path


@pytest.fixture(scope="module")
def module_env(seaweedfs: SeaweedFS, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """One bucket for the module (the hundreds of refusals below never reach S3)."""
    client = seaweedfs.client()
    bucket = f"mltrail-trav-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    for key in ("root/a/b.txt", "root/top.txt", "outside/sentinel.txt", "rootsibling/x"):
        client.put_object(Bucket=bucket, Key=key, Body=b"do not touch")
    local = tmp_path_factory.mktemp("s3-traversal")
    source_dir = local / "src"
    (source_dir / "sub").mkdir(parents=True)
    source_file = source_dir / "payload.txt"
    source_file.write_bytes(b"payload")
    (source_dir / "sub" / "deep.txt").write_bytes(b"deep")
    dst = local / "dst"
    dst.mkdir()
    (local / "tmp").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in seaweedfs.env().items():
            patch.setenv(name, value)
        yield Env(
            S3ArtifactRepository(f"s3://{bucket}/root"), client, local, source_file,
            source_dir, dst,
        )  # fmt: skip
    empty_bucket(client, bucket)
    client.delete_bucket(Bucket=bucket)


@pytest.fixture
def env(module_env: Env, monkeypatch: pytest.MonkeyPatch) -> Env:
    for name, value in {
        "MLFLOW_S3_ENDPOINT_URL": os.environ["MLFLOW_S3_ENDPOINT_URL"],
        "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(tempfile, "tempdir", str(module_env.local / "tmp"))
    return module_env


def state(env: Env) -> tuple[dict[str, str], list[str], list[tuple[str, bytes]]]:
    """Every key with its ETag, the unfinished uploads, and every local file with its bytes."""
    keys: dict[str, str] = {}
    for page in env.client.get_paginator("list_objects_v2").paginate(Bucket=env.repo.bucket):
        keys.update({obj["Key"]: obj["ETag"] for obj in page.get("Contents", [])})
    uploads = env.client.list_multipart_uploads(Bucket=env.repo.bucket).get("Uploads", [])
    local = sorted(
        (p.relative_to(env.local).as_posix(), p.read_bytes() if p.is_file() else b"")
        for p in env.local.rglob("*")
    )
    return keys, sorted(u["Key"] for u in uploads), local


Operation = Callable[[Env, str], object]

OPERATIONS: dict[str, Operation] = {
    "log_artifact": lambda e, p: e.repo.log_artifact(e.source_file, p),
    "log_artifacts": lambda e, p: e.repo.log_artifacts(e.source_dir, p),
    "list_artifacts": lambda e, p: e.repo.list_artifacts(p),
    "download_artifacts": lambda e, p: e.repo.download_artifacts(p, e.dst),
    "download_artifacts_tempdir": lambda e, p: e.repo.download_artifacts(p),
    "delete_artifacts": lambda e, p: e.repo.delete_artifacts(p),
    "open_read": lambda e, p: e.repo.open_read(p).close(),
    "write_stream": lambda e, p: e.repo.write_stream(p, [b"evil"]),
    "file_info": lambda e, p: e.repo.file_info(p),
    "mpu_create_dir": lambda e, p: e.repo.create_multipart_upload("w.bin", 2, p),
    "mpu_complete_dir": lambda e, p: e.repo.complete_multipart_upload(
        "w.bin", "upload", [MultipartUploadPart(1, "etag")], p
    ),
    "mpu_abort_dir": lambda e, p: e.repo.abort_multipart_upload("w.bin", "upload", p),
}


@pytest.mark.parametrize("form", TRAVERSALS)
def test_mpu_file_name_is_its_last_component_or_refused(env: Env, form: str) -> None:
    """As in MLflow, mpu/create's ``path`` is the client's local file: only its last component
    (split on ``/`` and ``\\``) names the artifact, which lands directly in the directory."""
    name = form.replace("{outside}", str(env.local / "outside"))
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    before = state(env)
    if not is_valid_segment(last):
        with pytest.raises(InvalidArgument, match="Invalid"):
            env.repo.create_multipart_upload(name, 2, "mpu")
        assert state(env) == before
        return
    created = env.repo.create_multipart_upload(name, 1, "mpu")
    assert created.upload_id is not None
    try:
        uploads = env.client.list_multipart_uploads(Bucket=env.repo.bucket).get("Uploads", [])
        assert [u["Key"] for u in uploads] == [f"root/mpu/{last}"]
    finally:
        env.repo.abort_multipart_upload(name, created.upload_id, "mpu")
    assert state(env) == before
