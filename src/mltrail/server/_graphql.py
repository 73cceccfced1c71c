"""``/graphql``: the GraphQL endpoint MLflow's web UI reads runs, experiments, metrics and
artifacts through, on MLflow 3.17's schema (:mod:`._graphql_schema`), answered by the same
endpoints as the REST API.

A document is parsed and held to the limits of :mod:`._graphql_parse`, then checked against
the schema (:mod:`._graphql_check`): a field a type does not have, an unknown argument, a
literal of the wrong type and the like answer ``data`` null and graphql-core's messages, as
MLflow's server does.

Then each root field is one REST endpoint (:data:`ROOT_FIELDS`, :data:`MUTATION_FIELDS`): its
``input`` argument, in camelCase, becomes the endpoint's arguments in snake_case; the
endpoint's own schema checks them, its own access rule admits the caller (with authentication
on), its own handler answers, and the answer is written out as the schema's types say:

- 64-bit integers (``LongString``) as strings;
- a NaN metric value as null (and an error, except in a run's metrics, as MLflow's); an
  infinite one as the largest double (what MLflow stores for it);
- a field the REST answer leaves out as MLflow answers an unset protobuf field (``""``,
  ``"0"``, ``[]``, an empty object; ``apiError`` null).

An endpoint's error makes its field null and its message an entry of ``errors``; a field the
caller may not read is null, with no error (as MLflow's).  Two fields of a run are resolved by
further endpoints: ``experiment`` (experiments/get) and ``modelVersions`` (model-versions/search
with the run's id).  ``test`` echoes its ``inputString``; ``testMutation`` answers null, as
MLflow's does.  Introspection answers ``__typename``, ``__schema`` and ``__type(name:)`` from
the declared schema (descriptions null).

The response is ``{"data": ..., "errors": [message, ...] or null}`` with status 200, as
MLflow's.  A POST must be ``application/json`` (400 otherwise, as MLflow's): a form or a
cross-site "simple" request cannot carry a query.  A GET takes ``query`` (and ``variables``,
``operationName``) from the query string.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mltrail._exceptions import InvalidArgument, MltrailError, PermissionDenied
from mltrail.server._context import ServerContext
from mltrail.server._errors import error_response, json_response
from mltrail.server._graphql_check import check_document, missing_variables
from mltrail.server._graphql_parse import (
    Document,
    EnumLiteral,
    Field,
    FloatLiteral,
    InlineFragment,
    Selection,
    Variable,
    check_limits,
    parse_document,
)
from mltrail.server._graphql_schema import (
    META_FIELDS,
    SCHEMA,
    TypeRef,
    introspect_schema,
    introspect_type,
)
from mltrail.server._routing import Endpoint, read_json_body
from mltrail.server._schema import parse_body
from mltrail.server.auth._asgi import request_info
from mltrail.server.auth._guard import run_guarded

__all__ = ["MUTATION_FIELDS", "ROOT_FIELDS", "RootField", "graphql_route_handler"]


@dataclass(frozen=True)
class RootField:
    """A root field answered by the endpoint (method, path)."""

    method: str
    path: str


_SEARCH_RUNS = RootField("POST", "/mlflow/runs/search")
#: The query root's fields answered by endpoints (``test`` echoes; introspection aside).
ROOT_FIELDS: dict[str, RootField] = {
    "mlflowGetExperiment": RootField("GET", "/mlflow/experiments/get"),
    "mlflowGetRun": RootField("GET", "/mlflow/runs/get"),
    "mlflowSearchRuns": _SEARCH_RUNS,
    "mlflowListArtifacts": RootField("GET", "/mlflow/artifacts/list"),
    "mlflowGetMetricHistoryBulkInterval": RootField(
        "GET", "/mlflow/metrics/get-history-bulk-interval"
    ),
    "mlflowSearchModelVersions": RootField("GET", "/mlflow/model-versions/search"),
}
#: The mutation root's fields answered by endpoints (``testMutation`` answers null).
MUTATION_FIELDS: dict[str, RootField] = {
    "mlflowSearchDatasets": RootField("POST", "/mlflow/experiments/search-datasets"),
    "mlflowSearchRuns": _SEARCH_RUNS,
}
#: What MLflow answers for a scalar its message leaves unset (protobuf's defaults).
_UNSET: dict[str, Any] = {
    "String": "",
    "LongString": "0",
    "Int": 0,
    "Float": 0.0,
    "Boolean": False,
}
#: Types whose metric ``value`` MLflow answers as null for NaN (elsewhere NaN is an error).
_NAN_NULL = frozenset({"MlflowMetricExtension"})
_ABSENT = object()  # a field the REST answer does not have
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")
#: What MLflow stores (and so answers) for an infinite metric value.
_MAX_DOUBLE = 1.7976931348623157e308


def _snake(name: str) -> str:
    return _SNAKE.sub("_", name).lower()


def _input(value: Any) -> Any:
    """A GraphQL input object as an endpoint's arguments (camelCase -> snake_case)."""
    if isinstance(value, dict):
        return {_snake(k): _input(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_input(v) for v in value]
    if isinstance(value, EnumLiteral | FloatLiteral):
        return str(value) if isinstance(value, EnumLiteral) else float(value)
    return value


def _unset(name: str, ref: TypeRef) -> Any:
    """A field the REST answer leaves out, as MLflow's schema answers it from an unset field
    of its protobuf message: an empty list, an empty message, a scalar's default, an enum's
    first value; ``apiError`` (no field of the message) null."""
    if name == "apiError":
        return None
    if ref.of is not None:
        return []
    target = SCHEMA.types[ref.named]
    if target.kind == "OBJECT":
        return {}
    if target.kind == "ENUM":
        return target.values[0]
    return _UNSET[target.name]


def _is_nan(value: Any) -> bool:
    return value == "NaN" or (isinstance(value, float) and math.isnan(value))


def _float(value: Any) -> float | None:
    number = float(value)
    if math.isnan(number):
        return None
    if math.isinf(number):
        return _MAX_DOUBLE if number > 0 else -_MAX_DOUBLE
    return number


def _leaf(type_name: str, value: Any) -> Any:
    """A scalar or enum value as the schema's type writes it."""
    if type_name in ("String", "LongString"):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if type_name == "Int":
        return int(value)
    if type_name == "Float":
        return _float(value)
    if type_name == "Boolean":
        return bool(value)
    return str(value)  # an enum's name


class _Run:
    """Executes one (checked) operation: resolves its root fields through the endpoints."""

    def __init__(
        self,
        ctx: ServerContext,
        endpoints: Mapping[tuple[str, str], Endpoint],
        document: Document,
        variables: Mapping[str, Any],
        request: tuple[Mapping[str, str], str, str],
    ) -> None:
        self.ctx = ctx
        self.endpoints = endpoints
        self.document = document
        self.variables = variables
        self.request = request
        self.errors: list[str] = []

    def call(self, method: str, path: str, args: dict[str, Any]) -> dict[str, Any]:
        """The endpoint's answer to *args* (checked by its schema, admitted by its rule)."""
        endpoint = self.endpoints[(method, path)]
        assert endpoint.handler is not None
        checked = parse_body(args, endpoint.params)
        auth = self.ctx.auth
        if auth is None:
            return endpoint.handler(self.ctx, checked)
        headers, address, _ = self.request
        return run_guarded(
            auth,
            self.ctx,
            endpoint.access,
            None,
            endpoint.handler,
            (headers, address, "GET"),  # every root field reads
            checked,
            None,
        )

    def resolve(self, value: Any) -> Any:
        if isinstance(value, Variable):
            return self.variables.get(value.name)
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def root(self, kind: str, selections: list[Selection]) -> dict[str, Any]:
        root = SCHEMA.root(kind)
        assert root is not None
        out: dict[str, Any] = {}
        for f in self.fields(selections):
            definition = root.fields.get(f.name) or META_FIELDS[f.name]
            value = self.root_field(kind, f)
            out[f.key] = self.select(value, f.selections, definition.type)
        return out

    def root_field(self, kind: str, f: Field) -> Any:
        """A root field's value before selection (REST-shaped), or None with its error."""
        args = {k: self.resolve(v) for k, v in f.arguments.items()}
        if f.name == "test":
            return {"output": args.get("inputString")}
        if f.name == "testMutation":
            return None  # MLflow's resolver for it is never called: its answer is null
        if f.name == "__typename":
            return SCHEMA.query if kind == "query" else SCHEMA.mutation
        if f.name == "__schema":
            return introspect_schema()
        if f.name == "__type":
            name = str(args.get("name"))
            return introspect_type(TypeRef(name)) if name in SCHEMA.types else None
        spec = (ROOT_FIELDS if kind == "query" else MUTATION_FIELDS)[f.name]
        given = _input(args.get("input") or {})
        try:
            return self.call(spec.method, spec.path, given)
        except PermissionDenied:
            return None  # as MLflow's: the field is null, nothing said
        except MltrailError as exc:
            self.errors.append(str(exc))
            return None

    def fields(self, selections: list[Selection]) -> list[Field]:
        out: list[Field] = []
        for s in selections:
            if isinstance(s, Field):
                out.append(s)
            elif isinstance(s, InlineFragment):
                out.extend(self.fields(s.selections))
            else:
                fragment = self.document.fragments.get(s.name)
                if fragment is not None:
                    out.extend(self.fields(fragment.selections))
        return out

    def select(self, value: Any, selections: list[Selection] | None, ref: TypeRef) -> Any:
        """*value* written out as the type *ref* with the *selections* asked for."""
        if callable(value):
            value = value()
        if value is None:
            return None
        if ref.of is not None:
            items = value if isinstance(value, list) else [value]
            return [self.select(v, selections, ref.of) for v in items]
        target = SCHEMA.types[ref.named]
        if target.kind != "OBJECT":
            return _leaf(target.name, value)
        out: dict[str, Any] = {}
        for f in self.fields(selections or []):
            if f.name == "__typename":
                out[f.key] = target.name
                continue
            definition = target.fields[f.name]
            item = self.field_value(value, target.name, f)
            if item is _ABSENT:
                item = _unset(f.name, definition.type)
            elif definition.type.name == "Float" and _is_nan(item) and target.name not in _NAN_NULL:
                # graphql-core refuses NaN as a Float: the field is null, with this error
                self.errors.append("Float cannot represent non numeric value: nan")
                item = None
            out[f.key] = self.select(item, f.selections, definition.type)
        return out

    def field_value(self, value: dict[str, Any], type_name: str, f: Field) -> Any:
        if type_name == "MlflowRunExtension" and f.name in ("experiment", "modelVersions"):
            return self.run_link(value, f.name)
        if f.name in value:  # introspection objects are keyed by the GraphQL names
            return value[f.name]
        found = value.get(_snake(f.name), _ABSENT)
        return _ABSENT if found is None else found

    def run_link(self, run: dict[str, Any], name: str) -> Any:
        """A run's ``experiment`` or ``modelVersions``, from their endpoints."""
        info = run.get("info") or {}
        try:
            if name == "experiment" and info.get("experiment_id") is not None:
                found = self.call(
                    "GET", "/mlflow/experiments/get", {"experiment_id": info["experiment_id"]}
                )
                return found.get("experiment")
            if name == "modelVersions" and info.get("run_id"):
                found = self.call(
                    "GET",
                    "/mlflow/model-versions/search",
                    {"filter": f"run_id = '{info['run_id']}'"},
                )
                return found.get("model_versions", [])
        except PermissionDenied:
            return None
        except MltrailError as exc:
            self.errors.append(str(exc))
        return None


def _content_type_problem(content_type: str | None) -> str | None:
    """Why a POST's body is refused (as MLflow refuses it): only JSON is read, so a form or a
    cross-site "simple" request (``text/plain``) never reaches a query."""
    if content_type is None:
        return "Bad Request. Content-Type header is missing."
    if content_type.split(";")[0].strip().lower() != "application/json":
        return "Bad Request. Content-Type must be one of ['application/json']."
    return None


def graphql_route_handler(
    ctx: ServerContext, endpoints: list[Endpoint]
) -> Callable[[Request], Any]:
    """The ``/graphql`` route (GET with ``query`` in the query string, or POST with JSON)."""
    table = {(e.method, e.path): e for e in endpoints if e.handler is not None}

    async def handle(request: Request) -> Response:
        try:
            if request.method in ("GET", "HEAD"):  # a HEAD is answered as its GET
                body: dict[str, Any] = dict(request.query_params)
            else:
                refused = _content_type_problem(request.headers.get("content-type"))
                if refused:
                    return error_response(InvalidArgument(refused))
                raw = await read_json_body(request, ctx.settings.max_json_body_bytes)
                if not isinstance(raw, dict):
                    raise InvalidArgument("Invalid request body: expected a JSON object")
                body = raw
            document = parse_document(body.get("query"))
            check_limits(document)
            problems = check_document(document)
            if problems:
                return json_response({"data": None, "errors": problems})
            operation = document.operation(body.get("operationName") or None)
            variables = {k: v for k, v in operation.variables.items() if v is not None}
            given = body.get("variables") or {}
            if not isinstance(given, dict):
                raise InvalidArgument("Invalid value for parameter 'variables': an object")
            problems = missing_variables(operation, given)
            if problems:
                return json_response({"data": None, "errors": problems})
            variables.update(given)
        except InvalidArgument as exc:
            return json_response({"data": None, "errors": [str(exc)]})
        run = _Run(ctx, table, document, variables, request_info(request.scope))
        data = await ctx.run_blocking(run.root, operation.kind, operation.selections)
        return json_response({"data": data, "errors": run.errors or None})

    return handle
