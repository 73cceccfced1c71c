"""The artifact proxy's multipart uploads (``mpu/create|complete|abort``), local and S3.

A folder destination stages the parts on the server (part URLs point back at it); an S3
destination hands out presigned part URLs.  Both are driven here by hand (the wire protocol), by
the official mlflow client and by mltrail's client, each uploading a file above its multipart
threshold.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.compat.conftest import MLFLOW_WARNINGS
from tests.server.conftest import Api
from tests.server.test_artifact_proxy import TRAVERSALS, _raw, _tree

from mltrail.artifacts import S3ArtifactRepository
from mltrail.server._multipart_routes import StagedUploads

MPU = "/api/2.0/mlflow-artifacts/mpu"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def _run_dir(api: Api) -> tuple[str, str]:
    eid = api.experiment()
    rid = api.run(eid)["run_id"]
    return rid, f"{eid}/{rid}/artifacts"


def _create(api: Api, directory: str, path: str, num_parts: int) -> dict[str, Any]:
    return dict(
        api.ok("POST", f"{MPU}/create/{directory}", json={"path": path, "num_parts": num_parts})
    )


def _put_parts(created: dict[str, Any], data: bytes, part_size: int) -> list[dict[str, Any]]:
    parts = []
    for credential in created["credentials"]:
        number = credential["part_number"]
        chunk = data[(number - 1) * part_size : number * part_size]
        answer = httpx.put(credential["url"], content=chunk, headers=credential["headers"])
        assert answer.status_code == 200, answer.text
        parts.append({"part_number": number, "etag": answer.headers["etag"], "url": None})
    return parts


def test_staged_upload_in_parts(api: Api) -> None:
    _, directory = _run_dir(api)
    data = os.urandom(300_000)
    created = _create(api, f"{directory}/model", "/home/me/weights.bin", 3)
    assert len(created["upload_id"]) == 40
    assert [c["part_number"] for c in created["credentials"]] == [1, 2, 3]
    assert created["credentials"][0]["url"].startswith(str(api.client.base_url) + MPU + "/part/")
    parts = _put_parts(created, data, 100_000)
    # A part sent again (a client retry) replaces the first copy: the ETag names the one kept.
    again = httpx.put(created["credentials"][1]["url"], content=data[100_000:200_000])
    parts[1]["etag"] = again.headers["etag"]
    assert again.headers["etag"] != parts[0]["etag"]
    body = {"path": "/home/me/weights.bin", "upload_id": created["upload_id"], "parts": parts}
    assert api.ok("POST", f"{MPU}/complete/{directory}/model", json=body) == {}
    assert (api.artifacts / directory / "model" / "weights.bin").read_bytes() == data
    assert not (api.artifacts / ".mltrail-mpu" / created["upload_id"]).exists()
    listing = api.ok("GET", PROXY, params={"path": ""})
    assert [f["path"] for f in listing["files"]] == [directory.split("/")[0]]
    # Completed: the id is gone.
    again = api.post(f"{MPU}/complete/{directory}/model", json=body)
    assert again.status_code == 404, again.text
    assert again.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_staged_upload_abort_and_mismatches(api: Api) -> None:
    _, directory = _run_dir(api)
    created = _create(api, directory, "a.bin", 2)
    upload_id = created["upload_id"]
    parts = _put_parts(created, b"x" * 20, 10)
    staging = api.artifacts / ".mltrail-mpu" / upload_id
    assert len(list(staging.iterdir())) == 3  # the manifest and two parts
    cases: list[tuple[dict[str, Any], str]] = [
        ({"path": "b.bin", "upload_id": upload_id, "parts": parts}, "writes"),
        ({"path": "a.bin", "upload_id": upload_id, "parts": []}, "at least one part"),
        ({"path": "a.bin", "upload_id": upload_id, "parts": [parts[0], parts[0]]}, "more than"),
        ({"path": "a.bin", "upload_id": upload_id, "parts": [{"part_number": 1}]}, "etag"),
        (
            {"path": "a.bin", "upload_id": upload_id, "parts": [{**parts[0], "etag": '"0"'}]},
            "etag",
        ),
        (
            {"path": "a.bin", "upload_id": upload_id, "parts": [{**parts[0], "part_number": 2}]},
            "was not uploaded",
        ),
        ({"path": "a.bin", "upload_id": "../x", "parts": parts}, "upload_id"),
        ({"path": "a.bin", "parts": parts}, "upload_id"),
        ({"path": "a.bin", "upload_id": upload_id, "parts": [{"part_number": 0}]}, "part_number"),
        ({"upload_id": upload_id, "parts": parts}, "path"),
    ]
    for body, words in cases:
        response = api.post(f"{MPU}/complete/{directory}", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert words in response.json()["message"], (words, response.text)
    bad_part = httpx.put(created["credentials"][0]["url"].rsplit("/", 1)[0] + "/3", content=b"1")
    assert bad_part.status_code == 400
    assert "parts 1 to 2" in bad_part.json()["message"]
    for tail in ("x/1", f"{upload_id}/0", f"{upload_id}/x", f"{'0' * 40}/1"):
        answer = httpx.put(f"{api.client.base_url}{MPU}/part/{tail}", content=b"1")
        assert answer.status_code in (400, 404), (tail, answer.text)
    abort = {"path": "a.bin", "upload_id": upload_id}
    assert api.ok("POST", f"{MPU}/abort/{directory}", json=abort) == {}
    assert not staging.exists()
    assert not (api.artifacts / directory / "a.bin").exists()
    late = httpx.put(created["credentials"][0]["url"], content=b"1")
    assert late.status_code == 404


def test_multipart_only_inside_existing_active_runs(api: Api) -> None:
    rid, directory = _run_dir(api)
    eid = directory.split("/")[0]
    for target in (
        f"{eid}/{'f' * 32}/artifacts",
        f"{eid}/{rid}",
        "elsewhere",
        f".mltrail-mpu/{rid}/artifacts",
    ):
        response = api.post(f"{MPU}/create/{target}", json={"path": "x.bin", "num_parts": 1})
        assert response.status_code in (403, 404), (target, response.text)
    created = _create(api, directory, "x.bin", 1)
    api.ok("POST", "/api/2.0/mlflow/runs/delete", json={"run_id": rid})
    part = httpx.put(created["credentials"][0]["url"], content=b"1")
    assert part.status_code == 403
    body = {"path": "x.bin", "upload_id": created["upload_id"], "parts": []}
    assert api.post(f"{MPU}/complete/{directory}", json=body).status_code == 403
    again = api.post(f"{MPU}/create/{directory}", json={"path": "y", "num_parts": 1})
    assert again.status_code == 403


@pytest.mark.parametrize("verb", ["create", "complete", "abort"])
def test_traversal_forms_are_refused(api: Api, verb: str) -> None:
    _, directory = _run_dir(api)
    before = _tree(api.artifacts)
    body = json.dumps({"path": "x.bin", "num_parts": 1, "upload_id": "0" * 40, "parts": []})
    for tail in TRAVERSALS:
        status, content = _raw(api, "POST", f"{MPU}/{verb}/{directory}/{tail}", body.encode())
        assert status == 400, (verb, tail, status, content)
        assert json.loads(content)["error_code"] == "INVALID_PARAMETER_VALUE"
    for name in ("..", "a/..", "x\\..", "%2e%2e", "x;y", "C:", ""):
        response = api.post(f"{MPU}/{verb}/{directory}", json={**json.loads(body), "path": name})
        assert response.status_code == 400, (verb, name, response.text)
    assert _tree(api.artifacts) == before


def test_bad_create_requests(api: Api) -> None:
    _, directory = _run_dir(api)
    for body, words in (
        ({"path": "x", "num_parts": 0}, "num_parts"),
        ({"path": "x", "num_parts": 10_001}, "num_parts"),
        ({"path": "x", "num_parts": "many"}, "num_parts"),
        ({"path": 3}, "path"),
        ({}, "path"),
    ):
        response = api.post(f"{MPU}/create/{directory}", json=body)
        assert response.status_code == 400, (body, response.text)
        assert words in response.json()["message"]
    response = api.client.post(f"{MPU}/create/{directory}", content=b"{not json")
    assert response.status_code == 400


def test_stale_staged_uploads_are_swept(api: Api) -> None:
    _, directory = _run_dir(api)
    old = api.artifacts / ".mltrail-mpu" / ("00000001" + "a" * 32)
    old.mkdir(parents=True)
    (old / "upload.json").write_text("{}")
    _create(api, directory, "x.bin", 1)
    assert not old.exists()


def test_server_info_advertises_native_multipart_only(api: Api) -> None:
    info = api.ok("GET", "/api/3.0/mlflow/server-info")
    assert info["multipart_uploads_enabled"] is False


# -- real clients --------------------------------------------------------------------------------


def _big_file(tmp_path: Path, size: int) -> tuple[Path, str]:
    path = tmp_path / "big.bin"
    data = os.urandom(size)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def _count_calls(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> list[object]:
    calls: list[object] = []
    real = getattr(cls, name)

    def spy(self: object, *args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, spy)
    return calls


@pytest.fixture
def small_multipart(monkeypatch: pytest.MonkeyPatch) -> int:
    """Multipart for files of 1 MB and more, in 5 MiB parts (S3's smallest)."""
    part = 5 * 1024 * 1024
    for prefix in ("MLFLOW", "MLTRAIL"):
        monkeypatch.setenv(f"{prefix}_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(1024 * 1024))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(part))
    return part


def _mlflow_upload(api: Api, source: Path, tmp_path: Path) -> tuple[str, Path]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=str(api.client.base_url).rstrip("/"))
    eid = client.create_experiment("mpu")
    run = client.create_run(eid)
    client.log_artifact(run.info.run_id, str(source), "weights")
    listed = client.list_artifacts(run.info.run_id, "weights")
    assert [(f.path, f.file_size) for f in listed] == [("weights/big.bin", source.stat().st_size)]
    local = client.download_artifacts(run.info.run_id, "weights/big.bin", str(tmp_path / "dl"))
    return run.info.run_id, Path(local)


def _mltrail_upload(api: Api, source: Path, tmp_path: Path) -> Path:
    import mltrail

    client = mltrail.MlflowClient(tracking_uri=str(api.client.base_url).rstrip("/"))
    eid = client.create_experiment("mpu-mltrail")
    run = client.create_run(eid)
    client.log_artifact(run.info.run_id, str(source), "weights")
    local = client.download_artifacts(run.info.run_id, "weights/big.bin", str(tmp_path / "dl2"))
    return Path(local)


@pytest.mark.filterwarnings(*MLFLOW_WARNINGS)
def test_official_mlflow_client_uploads_in_parts_to_a_folder(
    api: Api, tmp_path: Path, small_multipart: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, digest = _big_file(tmp_path, 2 * small_multipart + 12345)
    completed = _count_calls(monkeypatch, StagedUploads, "complete")
    _, local = _mlflow_upload(api, source, tmp_path)
    assert len(completed) == 1
    assert hashlib.sha256(local.read_bytes()).hexdigest() == digest
    assert not any((api.artifacts / ".mltrail-mpu").iterdir())


@pytest.fixture
def s3_api(make_api: Callable[..., Api], s3_bucket: str) -> Api:
    return make_api(artifacts_destination=f"{s3_bucket}/team")


@pytest.mark.filterwarnings(*MLFLOW_WARNINGS)
def test_official_mlflow_client_uploads_in_parts_to_s3(
    s3_api: Api,
    s3_bucket: str,
    tmp_path: Path,
    small_multipart: int,
    monkeypatch: pytest.MonkeyPatch,
    seaweedfs: Any,
) -> None:
    assert s3_api.ok("GET", "/api/3.0/mlflow/server-info")["multipart_uploads_enabled"] is True
    source, digest = _big_file(tmp_path, 2 * small_multipart + 777)
    completed = _count_calls(monkeypatch, S3ArtifactRepository, "complete_multipart_upload")
    run_id, local = _mlflow_upload(s3_api, source, tmp_path)
    assert len(completed) == 1
    assert hashlib.sha256(local.read_bytes()).hexdigest() == digest
    bucket = s3_bucket.removeprefix("s3://")
    s3 = seaweedfs.client()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    tail = f"/{run_id}/artifacts/weights/big.bin"
    assert any(k.startswith("team/") and k.endswith(tail) for k in keys), keys
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@pytest.mark.parametrize("destination", ["folder", "s3"])
def test_mltrail_client_uploads_in_parts(
    destination: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    small_multipart: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api: Api = request.getfixturevalue("api" if destination == "folder" else "s3_api")
    joiner = (
        (StagedUploads, "complete")
        if destination == "folder"
        else (
            S3ArtifactRepository,
            "complete_multipart_upload",
        )
    )
    source, digest = _big_file(tmp_path, small_multipart + 99)
    completed = _count_calls(monkeypatch, *joiner)
    local = _mltrail_upload(api, source, tmp_path)
    assert len(completed) == 1
    assert hashlib.sha256(local.read_bytes()).hexdigest() == digest


def test_s3_multipart_abort_and_ownership(s3_api: Api, seaweedfs: Any, s3_bucket: str) -> None:
    _, directory = _run_dir(s3_api)
    created = _create(s3_api, directory, "C:\\Users\\me\\w.bin", 2)
    assert all("X-Amz-Signature" in c["url"] for c in created["credentials"])
    body = {"path": "w.bin", "upload_id": created["upload_id"]}
    assert s3_api.ok("POST", f"{MPU}/abort/{directory}", json=body) == {}
    bucket = s3_bucket.removeprefix("s3://")
    assert seaweedfs.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    response = s3_api.post(f"{MPU}/create/0/{'a' * 32}/artifacts", json={"path": "w.bin"})
    assert response.status_code == 404
