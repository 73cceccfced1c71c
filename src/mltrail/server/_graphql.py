"""``/graphql``: the GraphQL endpoint MLflow's web UI reads runs, experiments, metrics and
artifacts through, answered by the same endpoints as the REST API.

Each root field is one REST endpoint (:data:`ROOT_FIELDS`): its ``input`` argument, in
camelCase, becomes the endpoint's arguments in snake_case; the endpoint's own schema checks
them, its own access rule admits the caller (with authentication on), its own handler answers,
and the answer is shaped as MLflow's schema shapes it: camelCase names, 64-bit integers as
strings, a NaN or infinite metric value as null, an absent list as ``[]``, ``apiError`` null
(an endpoint's error becomes ``apiError`` and an entry of ``errors``), ``__typename`` where
asked.  Two fields of a run are resolved by further endpoints: ``experiment`` (experiments/get)
and ``modelVersions`` (model-versions/search with the run's id).  The field ``test(inputString)``
echoes its input (``{output}``), as MLflow's does.

The response is ``{"data": ..., "errors": [message, ...] or null}`` with status 200, as
MLflow's; a document that does not parse or is over the limits of
:mod:`~mltrail.server._graphql_parse` gets ``data`` null and one error.  Fields the shape does
not have answer null (the schema is MLflow's, not declared here field by field).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mltrail._exceptions import InvalidArgument, MltrailError
from mltrail.server._context import ServerContext
from mltrail.server._errors import json_response
from mltrail.server._graphql_parse import (
    Document,
    Field,
    FragmentSpread,
    InlineFragment,
    Selection,
    Variable,
    check_limits,
    parse_document,
)
from mltrail.server._routing import Endpoint, read_json_body
from mltrail.server._schema import parse_body
from mltrail.server.auth._asgi import request_info
from mltrail.server.auth._guard import run_guarded

__all__ = ["ROOT_FIELDS", "RootField", "graphql_route_handler"]


@dataclass(frozen=True)
class RootField:
    """A root field answered by the endpoint (method, path); *type_name* names its answer."""

    method: str
    path: str
    type_name: str


ROOT_FIELDS: dict[str, RootField] = {
    "mlflowGetExperiment": RootField(
        "GET", "/mlflow/experiments/get", "MlflowGetExperimentResponse"
    ),
    "mlflowGetRun": RootField("GET", "/mlflow/runs/get", "MlflowGetRunResponse"),
    "mlflowSearchRuns": RootField("POST", "/mlflow/runs/search", "MlflowSearchRunsResponse"),
    "mlflowListArtifacts": RootField(
        "GET", "/mlflow/artifacts/list", "MlflowListArtifactsResponse"
    ),
    "mlflowGetMetricHistoryBulkInterval": RootField(
        "GET",
        "/mlflow/metrics/get-history-bulk-interval",
        "MlflowGetMetricHistoryBulkIntervalResponse",
    ),
    "mlflowSearchDatasets": RootField(
        "POST", "/mlflow/experiments/search-datasets", "MlflowSearchDatasetsResponse"
    ),
    "mlflowSearchModelVersions": RootField(
        "GET", "/mlflow/model-versions/search", "MlflowSearchModelVersionsResponse"
    ),
}
#: Fields that are lists in MLflow's schema: absent means empty.
_LIST_FIELDS = frozenset(
    {
        "metrics",
        "params",
        "tags",
        "runs",
        "files",
        "datasetSummaries",
        "datasetInputs",
        "modelInputs",
        "modelOutputs",
        "modelVersions",
        "experiments",
        "aliases",
        "latestVersions",
    }
)
#: What MLflow's schema answers for a field the REST answer leaves out (proto defaults).
_DEFAULTS = {"fileSize": "0", "context": ""}
#: Keys whose values stay numbers (MLflow's 32-bit integers and doubles).
_NUMBER_FIELDS = frozenset({"value", "maxResults"})
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(name: str) -> str:
    return _SNAKE.sub("_", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _input(value: Any) -> Any:
    """A GraphQL input object as an endpoint's arguments (camelCase -> snake_case)."""
    if isinstance(value, dict):
        return {_snake(k): _input(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_input(v) for v in value]
    return value


def _shaped(value: Any, key: str = "", metric: bool = False) -> Any:
    """An endpoint's answer in MLflow's GraphQL shape (camelCase; int64 as strings; a NaN or
    infinite metric value as null)."""
    if isinstance(value, dict):
        return {_camel(k): _shaped(v, _camel(k), metric) for k, v in value.items()}
    if isinstance(value, list):
        return [_shaped(v, key, metric or key == "metrics") for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if metric and key == "value":
        number = float(value) if isinstance(value, int | float | str) else math.nan
        return number if math.isfinite(number) else None
    if isinstance(value, int) and key not in _NUMBER_FIELDS:
        return str(value)
    return value


class _Run:
    """Executes one operation: resolves its root fields through the endpoints."""

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

    def root(self, selections: list[Selection]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields(selections):
            out[f.key] = self.root_field(f)
        return out

    def root_field(self, f: Field) -> Any:
        args = {k: self.resolve(v) for k, v in f.arguments.items()}
        if f.name == "test":
            return self.select({"output": args.get("inputString")}, f.selections, "TestResponse")
        if f.name == "__typename":
            return "Query"
        spec = ROOT_FIELDS.get(f.name)
        if spec is None:
            self.errors.append(f"Cannot query field '{f.name}' on type 'Query'.")
            return None
        given = args.get("input") or {}
        if not isinstance(given, dict):
            self.errors.append(f"Invalid value for argument 'input' of '{f.name}': an object")
            return None
        try:
            answer = _shaped(self.call(spec.method, spec.path, _input(given)))
        except MltrailError as exc:
            self.errors.append(str(exc))
            error = {"code": exc.error_code, "message": str(exc), "helpUrl": None}
            return self.select({"apiError": error}, f.selections, spec.type_name)
        answer.setdefault("apiError", None)
        return self.select(answer, f.selections, spec.type_name, run_links=True)

    def fields(self, selections: list[Selection]) -> list[Field]:
        out: list[Field] = []
        for s in selections:
            if isinstance(s, Field):
                out.append(s)
            elif isinstance(s, InlineFragment):
                out.extend(self.fields(s.selections))
            elif isinstance(s, FragmentSpread):
                fragment = self.document.fragments.get(s.name)
                if fragment is not None:
                    out.extend(self.fields(fragment.selections))
        return out

    def select(
        self,
        value: Any,
        selections: list[Selection] | None,
        type_name: str,
        *,
        run_links: bool = False,
    ) -> Any:
        if selections is None or value is None:
            return value
        if isinstance(value, list):
            return [self.select(v, selections, type_name, run_links=run_links) for v in value]
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for f in self.fields(selections):
            if f.name == "__typename":
                out[f.key] = type_name
                continue
            if run_links and f.name == "run" and isinstance(value.get("run"), dict):
                value = {**value, "run": self.run_extras(value["run"], f)}
            item = value.get(f.name)
            if item is None and f.name in _LIST_FIELDS:
                item = []
            elif item is None:
                item = _DEFAULTS.get(f.name)
            inner = f"{type_name.removesuffix('Response')}{f.name[:1].upper()}{f.name[1:]}"
            out[f.key] = self.select(item, f.selections, inner, run_links=run_links)
        return out

    def run_extras(self, run: dict[str, Any], f: Field) -> dict[str, Any]:
        """A run with the ``experiment`` and ``modelVersions`` the selection asks for."""
        wanted = {g.name for g in self.fields(f.selections or [])}
        info = run.get("info") or {}
        extra: dict[str, Any] = {}
        try:
            if "experiment" in wanted and info.get("experimentId") is not None:
                found = self.call(
                    "GET", "/mlflow/experiments/get", {"experiment_id": info["experimentId"]}
                )
                extra["experiment"] = _shaped(found.get("experiment"))
            if "modelVersions" in wanted and info.get("runId"):
                found = self.call(
                    "GET",
                    "/mlflow/model-versions/search",
                    {"filter": f"run_id = '{info['runId']}'"},
                )
                extra["modelVersions"] = _shaped(found.get("model_versions", []))
        except MltrailError as exc:
            self.errors.append(str(exc))
        return {**run, **extra}


def graphql_route_handler(
    ctx: ServerContext, endpoints: list[Endpoint]
) -> Callable[[Request], Any]:
    """The ``/graphql`` route (GET with ``query`` in the query string, or POST with JSON)."""
    table = {(e.method, e.path): e for e in endpoints if e.handler is not None}

    async def handle(request: Request) -> Response:
        try:
            if request.method == "GET":
                body: dict[str, Any] = dict(request.query_params)
            else:
                raw = await read_json_body(request, ctx.settings.max_json_body_bytes)
                if not isinstance(raw, dict):
                    raise InvalidArgument("Invalid request body: expected a JSON object")
                body = raw
            document = parse_document(body.get("query"))
            check_limits(document)
            operation = document.operation(body.get("operationName") or None)
            variables = {k: v for k, v in operation.variables.items() if v is not None}
            given = body.get("variables") or {}
            if not isinstance(given, dict):
                raise InvalidArgument("Invalid value for parameter 'variables': an object")
            variables.update(given)
        except InvalidArgument as exc:
            return json_response({"data": None, "errors": [str(exc)]})
        run = _Run(ctx, table, document, variables, request_info(request.scope))
        data = await ctx.run_blocking(run.root, operation.selections)
        return json_response({"data": data, "errors": run.errors or None})

    return handle
