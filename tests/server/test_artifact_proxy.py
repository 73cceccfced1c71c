"""The artifact proxy: streaming up and down, listing, deleting, ownership and traversal."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.server.conftest import Api

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def _tree(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _prefix(api: Api) -> str:
    eid = api.experiment()
    rid = api.run(eid)["run_id"]
    return f"{eid}/{rid}/artifacts"


def test_upload_download_list_delete(api: Api) -> None:
    prefix = _prefix(api)
    assert api.client.put(f"{PROXY}/{prefix}/dir/a.txt", content=b"hello").json() == {}
    api.client.put(f"{PROXY}/{prefix}/b.bin", content=b"\x00\x01")
    assert (api.artifacts / prefix / "dir" / "a.txt").read_bytes() == b"hello"
    response = api.get(f"{PROXY}/{prefix}/dir/a.txt")
    assert response.content == b"hello"
    assert response.headers["content-length"] == "5"
    listing = api.ok("GET", PROXY, params={"path": prefix})
    assert listing["files"] == [
        {"path": "b.bin", "is_dir": False, "file_size": 2},
        {"path": "dir", "is_dir": True},
    ]
    run_id = prefix.split("/")[1]
    run_listing = api.ok(
        "GET", "/api/2.0/mlflow/artifacts/list", params={"run_id": run_id, "path": "dir"}
    )
    assert run_listing["root_uri"] == f"mlflow-artifacts:/{prefix}"
    assert run_listing["files"] == [{"path": "dir/a.txt", "is_dir": False, "file_size": 5}]
    ui = api.get("/get-artifact", params={"run_uuid": run_id, "path": "dir/a.txt"})
    assert ui.content == b"hello"
    assert ui.headers["content-type"].startswith("text/plain")
    assert ui.headers["x-content-type-options"] == "nosniff"
    assert api.client.delete(f"{PROXY}/{prefix}/dir").json() == {}
    assert not (api.artifacts / prefix / "dir").exists()
    missing = api.get(f"{PROXY}/{prefix}/dir/a.txt")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_html_artifacts_are_never_served_as_pages(api: Api) -> None:
    prefix = _prefix(api)
    api.client.put(f"{PROXY}/{prefix}/x.html", content=b"<script>alert(1)</script>")
    ui = api.get("/get-artifact", params={"run_uuid": prefix.split("/")[1], "path": "x.html"})
    assert ui.headers["content-type"].startswith("text/plain")
    assert "sandbox" in ui.headers["content-security-policy"]
    proxy = api.get(f"{PROXY}/{prefix}/x.html")
    assert proxy.headers["content-type"] == "application/octet-stream"


def test_uploads_only_inside_existing_runs(api: Api) -> None:
    prefix = _prefix(api)
    eid, rid, _ = prefix.split("/")
    cases = [
        f"{eid}/{'f' * 32}/artifacts/x.txt",  # no such run
        f"{eid}/{rid}/x.txt",  # outside the run's artifacts folder
        f"{eid}/{rid}/artifacts",  # the root itself is not a file
        "other/x.txt",
        "x.txt",
        f".mltrail-mpu/{rid}/artifacts/x",
    ]
    for path in cases:
        response = api.client.put(f"{PROXY}/{path}", content=b"data")
        assert response.status_code in (403, 404), (path, response.text)
        assert response.json()["error_code"] in ("RESOURCE_DOES_NOT_EXIST", "PERMISSION_DENIED")
    api.ok("POST", "/api/2.0/mlflow/runs/delete", json={"run_id": rid})
    response = api.client.put(f"{PROXY}/{prefix}/x.txt", content=b"data")
    assert response.status_code == 403
    assert _tree(api.artifacts) == {}


TRAVERSALS = [
    "../x",
    "..%2fx",
    "%2e%2e/x",
    "%252e%252e/x",
    "%25252e%25252e/x",
    "a/../../x",
    "a\\..\\x",
    "a%5c..%5cx",
    "a;/../x",
    "..;/x",
    "a;x",
    "a%23/../../x",
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "//proc/self/root/etc/passwd",
    "C:/Windows/win.ini",
    "a/%00b",
    "a//b",
    "%EF%BC%8E%EF%BC%8E/x",
]


def _raw(api: Api, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send *path* byte for byte (httpx would normalise ``..`` segments away)."""
    url = httpx.URL(str(api.client.base_url))
    conn = http.client.HTTPConnection(url.host, url.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("tail", TRAVERSALS)
def test_traversal_forms_are_refused(api: Api, tail: str) -> None:
    prefix = _prefix(api)
    outside = api.artifacts.parent / "victim.txt"
    outside.write_bytes(b"secret")
    before = _tree(api.artifacts)
    raw = f"{PROXY}/{prefix}/{tail}"
    for method in ("PUT", "GET", "DELETE"):
        status, content = _raw(api, method, raw, b"evil")
        assert status == 400, (method, tail, status, content)
        assert b"secret" not in content
        assert json.loads(content)["error_code"] == "INVALID_PARAMETER_VALUE"
    decoded = urllib.parse.unquote(tail)
    listing = api.client.get(PROXY, params={"path": f"{prefix}/{decoded}"})
    assert listing.status_code == 400, decoded
    run_id = prefix.split("/")[1]
    ui = api.client.get("/get-artifact", params={"run_uuid": run_id, "path": decoded})
    assert ui.status_code == 400, decoded
    run_list = api.client.get(
        "/api/2.0/mlflow/artifacts/list", params={"run_id": run_id, "path": decoded}
    )
    assert run_list.status_code == 400, decoded
    assert _tree(api.artifacts) == before
    assert outside.read_bytes() == b"secret"


def test_experiment_artifact_location_must_stay_in_destination(api: Api) -> None:
    for location in (
        "file:///etc",
        "/tmp/x",
        "s3://bucket/x",
        "mlflow-artifacts:/../x",
        "mlflow-artifacts:/",
    ):
        response = api.post(
            "/api/2.0/mlflow/experiments/create",
            json={"name": location, "artifact_location": location},
        )
        assert response.status_code == 400, location
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    body = api.ok(
        "POST",
        "/api/2.0/mlflow/experiments/create",
        json={"name": "ok", "artifact_location": "mlflow-artifacts:/team/x"},
    )
    rid = api.run(body["experiment_id"])["run_id"]
    path = f"team/x/{rid}/artifacts/f.txt"
    assert api.client.put(f"{PROXY}/{path}", content=b"1").status_code == 200
    assert (api.artifacts / path).read_bytes() == b"1"


def test_no_proxy_when_not_serving_artifacts(make_api: object) -> None:
    api = make_api(serve_artifacts=False)  # type: ignore[operator]
    response = api.client.put(f"{PROXY}/0/x/artifacts/a", content=b"1")
    assert response.status_code in (404, 405)
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    eid = api.experiment()
    location = api.ok("GET", "/api/2.0/mlflow/experiments/get", params={"experiment_id": eid})[
        "experiment"
    ]["artifact_location"]
    assert location.startswith("file://")


def test_large_upload_and_download_stream(api: Api) -> None:
    """64 MB each way through the proxy, in chunks; the bytes arrive intact."""
    prefix = _prefix(api)
    block = os.urandom(1 << 20)
    digest = hashlib.sha256()

    def body() -> Iterator[bytes]:
        for i in range(64):
            chunk = block[i:] + block[:i]
            digest.update(chunk)
            yield chunk

    response = api.client.put(f"{PROXY}/{prefix}/big.bin", content=body())
    assert response.status_code == 200, response.text
    assert (api.artifacts / prefix / "big.bin").stat().st_size == 64 << 20
    down = hashlib.sha256()
    size = 0
    with api.client.stream("GET", f"{PROXY}/{prefix}/big.bin") as stream:
        assert stream.headers["content-length"] == str(64 << 20)
        for chunk in stream.iter_bytes():
            down.update(chunk)
            size += len(chunk)
    assert size == 64 << 20
    assert down.hexdigest() == digest.hexdigest()


def test_interrupted_upload_leaves_nothing(api: Api) -> None:
    prefix = _prefix(api)

    def body() -> Iterator[bytes]:
        yield b"x" * (1 << 20)
        raise RuntimeError("client gives up")

    with pytest.raises((RuntimeError, httpx.HTTPError)):
        api.client.put(f"{PROXY}/{prefix}/partial.bin", content=body())
    assert not (api.artifacts / prefix / "partial.bin").exists()
