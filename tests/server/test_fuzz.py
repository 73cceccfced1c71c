"""Schemathesis fuzzes every operation of the served OpenAPI document: never a 500.

The document is the one the app serves (built from the endpoint declarations); the requests go
over HTTP to a real server on a fresh store.  Bounded: a few examples per operation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from mltrail.server import ServerSettings
from mltrail.server._app import server_endpoints
from mltrail.server._meta import mltrail_version
from mltrail.server._openapi import openapi_document

_DOCUMENT = openapi_document(server_endpoints(ServerSettings()), mltrail_version())
schema = schemathesis.openapi.from_dict(_DOCUMENT)


@pytest.fixture
def fuzz_url(tmp_path: Path, serve: Callable[..., Any]) -> str:
    from mltrail.server import create_app

    app_settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'fuzz.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
        # The workspace endpoints answer (without workspaces they answer MLflow's 503,
        # tests/server/test_workspaces.py); the other endpoints act in the default workspace.
        enable_workspaces=True,
    )
    app = create_app(app_settings)
    served = app.state.endpoints
    assert {(e.method, e.path) for e in served} == {
        (e.method, e.path) for e in server_endpoints(ServerSettings())
    }
    return str(serve(app).url)


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case: schemathesis.Case, fuzz_url: str) -> None:
    response = case.call(base_url=fuzz_url, timeout=30)
    case.validate_response(response, checks=(not_a_server_error,))
    content_type = response.headers.get("content-type") or [""]
    if isinstance(content_type, list):
        content_type = content_type[0]
    if response.status_code >= 400 and content_type.startswith("application/json"):
        body = response.json()
        assert set(body) >= {"error_code", "message"}
        assert "Traceback" not in body["message"]
