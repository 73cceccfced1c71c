"""The OpenAPI 3.1 document of the server, built from the same endpoint declarations that parse
requests (served at ``/api/openapi.json``).

Every JSON endpoint is listed under ``/api/...``; the same operations answer under
``/ajax-api/...`` (MLflow's UI prefix), which the document notes but does not repeat.  Each
operation carries its access rule as ``x-mltrail-access`` (:meth:`Access.describe
<mltrail.server._access.Access.describe>`): ``{"kind": "resource", "needs": [{"permission":
"EDIT", "find": "run", "arg": "run_id"}]}``, ``{"kind": "authenticated", "filtered_by":
"experiment"}``, ``{"kind": "admin"}``...
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from mltrail.server._routing import Endpoint

__all__ = ["ERROR_SCHEMA", "openapi_document"]

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error_code": {"type": "string"},
        "message": {"type": "string"},
        "details": {
            "type": "object",
            "description": (
                "Facts about the error for programs to read, when it has any: a filter "
                "error's 0-based position in the filter, the limit a request passed."
            ),
            "properties": {"position": {"type": "integer"}, "limit": {"type": "integer"}},
        },
    },
    "required": ["error_code", "message"],
}
_ERRORS = {
    "default": {
        "description": "An error in MLflow's shape (400, 404, 413, 500, ...)",
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    }
}


def _clean(schema: Any) -> Any:
    """The schema without our private ``x-`` keys."""
    if isinstance(schema, dict):
        return {k: _clean(v) for k, v in schema.items() if not k.startswith("x-")}
    if isinstance(schema, list):
        return [_clean(v) for v in schema]
    return schema


def _openapi_path(path: str) -> str:
    return path.replace(":path}", "}")


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "x-mltrail-access": endpoint.access.describe(),
    }
    if endpoint.raw is not None:
        extra = copy.deepcopy(endpoint.openapi)
        responses = extra.pop("responses", {})
        op.update(extra)
        op["responses"] = {**responses, **_ERRORS}
        return op
    params = _clean(endpoint.params)
    if endpoint.method == "GET":
        required = set(params.get("required", ()))
        parameters = []
        for name, schema in params.get("properties", {}).items():
            parameter: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": schema,
            }
            if schema.get("type") == "array":
                parameter.update(style="form", explode=True)
            parameters.append(parameter)
        op["parameters"] = parameters
    else:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": params}},
        }
    op["responses"] = {
        "200": {
            "description": "OK",
            "content": {"application/json": {"schema": _clean(endpoint.response)}},
        },
        **_ERRORS,
    }
    return op


def openapi_document(
    endpoints: Sequence[Endpoint], version: str, extra_paths: dict[str, Any] | None = None
) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        for api in endpoint.versions:
            path = f"/api/{api}{_openapi_path(endpoint.path)}"
            paths.setdefault(path, {})[endpoint.method.lower()] = _operation(endpoint)
    for path, item in (extra_paths or {}).items():
        paths.setdefault(path, {}).update(item)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mltrail tracking server",
            "version": version,
            "description": (
                "MLflow's REST API (tracking, metrics, artifacts) plus mltrail extensions "
                "under /api/2.0/mltrail. Every /api/... operation is also served under "
                "/ajax-api/..., the prefix MLflow's web UI uses. Errors are "
                '{"error_code": ..., "message": ...} with MLflow\'s codes, and "details" '
                "(such as a filter error's position) when the error has any."
            ),
        },
        "paths": paths,
        "components": {"schemas": {"Error": ERROR_SCHEMA}},
    }
