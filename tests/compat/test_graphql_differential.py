"""Differential: ``/graphql`` on MLflow's own server and on mltrail's.

The same experiment, run (metrics with a NaN and an infinity, params, tags, a dataset input,
a finished status), registered model and version are made over REST on a real ``mlflow
server`` and on an mltrail server; then the same GraphQL requests get the same answers:

- the four queries MLflow 3.17's web UI sends (run page, metric charts, experiment, run
  search), with their variables, and the other root fields;
- introspection: ``__typename``, ``__schema`` (every type, field, argument, input field, enum
  value, directive; descriptions left out: mltrail answers null for them), ``__type(name:)``;
- documents the schema refuses: misspelled fields (with graphql-core's "Did you mean"),
  unknown arguments and input fields, literals of the wrong type, selections on leaves or
  missing under objects, unknown types and fragments, fragments that cannot apply, variables
  undefined, unused or required and missing; and a root field whose endpoint fails.

Ids, paths and creation times differ between the servers: they are replaced by labels before
comparing.  Two differences are deliberate (their own tests below): a root field called
without its ``input`` names the missing parameter here, where MLflow answers its resolver's
Python ``TypeError``; and ``runViewType`` works here, where MLflow 3.17 fails on any value
(``Failed to parse run_view_type field: int() argument must be ... not 'EnumMeta'``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._live_server import (
    ThreadedServer,
    start_mlflow_server,
)

from mltrail.server import ServerSettings, create_app

pytestmark = pytest.mark.slow

API = "/api/2.0/mlflow"
#: Fields whose values differ between two servers by nature (times, folders).
VARYING = {"creationTime", "lastUpdateTime", "creationTimestamp", "lastUpdatedTimestamp"}
PATHS = {"artifactUri", "artifactLocation", "rootUri"}

RUN_FIELDS = """
    info { runName status runUuid experimentId artifactUri endTime lifecycleStage startTime
           userId }
    experiment { experimentId name tags { key value } artifactLocation lifecycleStage
                 lastUpdateTime }
    data { metrics { key value step timestamp } params { key value } tags { key value } }
    inputs { datasetInputs { dataset { digest name profile schema source sourceType }
                             tags { key value } }
             modelInputs { modelId } }
    outputs { modelOutputs { modelId step } }
"""
#: The web UI's queries (MLflow 3.17), each with its variables ("{run}" and "{exp}" filled in).
UI_QUERIES: list[tuple[str, dict[str, Any]]] = [
    (
        f"""query GetRun($data: MlflowGetRunInput!) @component(name: "MLflow.RunPage") {{
          mlflowGetRun(input: $data) {{
            apiError {{ helpUrl code message }}
            run {{ {RUN_FIELDS} modelVersions {{ status version name source }} }}
          }}
        }}""",
        {"data": {"runId": "{run}"}},
    ),
    (
        """query GetMetricHistoryBulkInterval($data: MlflowGetMetricHistoryBulkIntervalInput!)
        @component(name: "MLflow.Charts") {
          mlflowGetMetricHistoryBulkInterval(input: $data) {
            __typename
            metrics { timestamp step runId key value }
            apiError { code message }
          }
        }""",
        {"data": {"runIds": ["{run}"], "metricKey": "loss"}},
    ),
    (
        """query MlflowGetExperimentQuery($input: MlflowGetExperimentInput!) {
          mlflowGetExperiment(input: $input) {
            apiError { code message }
            experiment { artifactLocation creationTime effectiveTraceArchivalRetention
                         experimentId lastUpdateTime lifecycleStage name tags { key value } }
          }
        }""",
        {"input": {"experimentId": "{exp}"}},
    ),
    (
        f"""query SearchRuns($data: MlflowSearchRunsInput!) {{
          mlflowSearchRuns(input: $data) {{
            apiError {{ helpUrl code message }}
            runs {{ {RUN_FIELDS}
                   modelVersions {{ version name creationTimestamp status source }} }}
          }}
        }}""",
        {"data": {"experimentIds": ["{exp}"]}},
    ),
    (
        """mutation { mlflowSearchRuns(input: {experimentIds: ["{exp}"], maxResults: 5,
             orderBy: ["metrics.loss DESC"]}) { runs { info { runId } }
             nextPageToken __typename } }""",
        {},
    ),
    (
        """mutation { mlflowSearchDatasets(input: {experimentIds: ["{exp}"]}) {
             datasetSummaries { experimentId name digest context } apiError { code } } }""",
        {},
    ),
    (
        """{ mlflowListArtifacts(input: {runId: "{run}"}) {
             files { path isDir fileSize } nextPageToken } }""",
        {},
    ),
    (
        """{ mlflowSearchModelVersions(input: {filter: "name = 'reg'"}) {
             modelVersions { name version status source runId tags { key value } aliases
                             currentStage description userId }
             nextPageToken } }""",
        {},
    ),
    ('{ test(inputString: "hi") { output } a: __typename }', {}),
    ('mutation { __typename testMutation(inputString: "y") { output } }', {}),
    ('{ mlflowGetRun(input: {runId: "0123456789abcdef"}) { run { info { runId } } } }', {}),
    ('{ mlflowGetExperiment(input: {experimentId: "424242"}) { experiment { name } } }', {}),
]

INTROSPECTION = [
    "{ __schema { queryType { name kind } mutationType { name } subscriptionType { name } } }",
    """{ __schema {
         types { kind name specifiedByURL isOneOf ofType { name }
           fields(includeDeprecated: true) { name isDeprecated deprecationReason
             args { name defaultValue type { ...T } } type { ...T } }
           inputFields { name defaultValue type { ...T } }
           enumValues { name isDeprecated } interfaces { name } possibleTypes { name } }
         directives { name isRepeatable locations args { name defaultValue type { ...T } } } } }
       fragment T on __Type { kind name ofType { kind name ofType { kind name ofType {
         kind name } } } }""",
    '{ __type(name: "MlflowRunInfo") { name kind fields { name type { name kind } } } }',
    '{ __type(name: "MlflowSearchRunsInput") { inputFields { name defaultValue } } }',
    '{ __type(name: "MlflowViewType") { enumValues { name } fields { name } } }',
    '{ __type(name: "Nope") { name } }',
]

INVALID = [
    '{ mlflowGetRun(input: {runId: "x"}) { run { info { runIdd } } } }',
    '{ mlflowGetRun(input: {runId: "x"}) { run { infoo { runId } } } }',
    '{ mlflowGetRunn(input: {runId: "x"}) { run { info { runId } } } }',
    '{ mlflowGetRun(input: {runId: "x"}) { run { foo bar info { baz } } } }',
    'mutation { mlflowGetRun(input: {runId: "x"}) { apiError { code } } }',
    "{ mlflowSearchDatasets(input: {}) { datasetSummaries { name } } }",
    '{ mlflowGetRun(input: {runId: "x"}, extra: 1) { apiError { code } } }',
    '{ mlflowGetRun(input: {runId: "x"}) { run { info { status(x: 1) } } } }',
    '{ mlflowGetRun(input: {runIdx: "x"}) { apiError { code } } }',
    "{ mlflowGetRun(input: {runId: 5}) { apiError { code } } }",
    '{ mlflowGetRun(input: "x") { apiError { code } } }',
    '{ mlflowSearchRuns(input: {maxResults: "x"}) { runs { info { runId } } } }',
    "{ mlflowSearchRuns(input: {maxResults: 1.5}) { runs { info { runId } } } }",
    "{ mlflowSearchRuns(input: {maxResults: 99999999999}) { runs { info { runId } } } }",
    '{ mlflowSearchRuns(input: {experimentIds: [1, "2"]}) { runs { info { runId } } } }',
    "{ mlflowSearchRuns(input: {runViewType: NOPE}) { runs { info { runId } } } }",
    '{ mlflowSearchRuns(input: {runViewType: "ALL"}) { runs { info { runId } } } }',
    '{ mlflowGetRun(input: {runId: "x"}) { run { info } } }',
    '{ mlflowGetRun(input: {runId: "x"}) { run { info { runId { a } } } } }',
    "{ __type { name } }",
    "query Q($id: String!) { mlflowGetRun(input: {runId: $id}) { apiError { code } } }",
    "query Q($id: Strin) { mlflowGetRun(input: {runId: $id}) { apiError { code } } }",
    'query Q($x: String) { test(inputString: "a") { output } }',
    "{ test(inputString: $y) { output } }",
    "{ ...F } fragment F on Nope { __typename }",
    '{ mlflowGetRun(input: {runId: "x"}) { ... on MlflowRunInfo { runId } } }',
    '{ mlflowGetRun(input: {runId: "x"}) { run { ...F } } } '
    "fragment F on MlflowRunExtension { info { runId } } fragment G on Query { __typename }",
]


def _make(url: str) -> dict[str, str]:
    """The same entities on the server at *url*; label -> id."""
    with httpx.Client(base_url=url + API, timeout=60) as http:

        def ok(path: str, body: dict[str, Any]) -> Any:
            return http.post(path, json=body).raise_for_status().json()

        exp = ok("/experiments/create", {"name": "gq", "tags": [{"key": "team", "value": "a"}]})
        eid = exp["experiment_id"]
        run = ok(
            "/runs/create",
            {"experiment_id": eid, "start_time": 1000, "run_name": "r1", "user_id": "ann"},
        )["run"]["info"]["run_id"]
        metrics = [
            {"key": "loss", "value": v, "timestamp": 2000 + s, "step": s}
            for s, v in enumerate([0.5, "NaN", 0.25, "Infinity", 0.125])
        ]
        ok(
            "/runs/log-batch",
            {
                "run_id": run,
                "metrics": metrics,
                "params": [{"key": "lr", "value": "0.1"}],
                "tags": [{"key": "note", "value": "x"}],
            },
        )
        dataset = {
            "name": "ds",
            "digest": "abc",
            "source_type": "local",
            "source": '{"uri": "data.csv"}',
            "schema": "",
            "profile": '{"rows": 3}',
        }
        ok(
            "/runs/log-inputs",
            {
                "run_id": run,
                "datasets": [
                    {"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": dataset}
                ],
            },
        )
        ok("/runs/update", {"run_id": run, "status": "FINISHED", "end_time": 3000})
        # a second run, still running, with nothing logged: unset fields and empty lists
        other = ok(
            "/runs/create",
            {"experiment_id": eid, "start_time": 1500, "user_id": "bo", "run_name": "r2"},
        )["run"]["info"]["run_id"]
        ok("/registered-models/create", {"name": "reg"})
        ok("/model-versions/create", {"name": "reg", "source": f"runs:/{run}/model", "run_id": run})
    return {"run": run, "other": other, "exp": eid}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.replace("{run}", ids["run"]).replace("{exp}", ids["exp"])
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _labelled(value: Any, ids: dict[str, str], key: str = "") -> Any:
    if key in VARYING and value is not None:
        return "<time>"
    if key in PATHS and value is not None:
        return "<path>"
    if isinstance(value, str):
        for label, real in ids.items():
            value = value.replace(real, f"<{label}>") if len(real) > 3 else value
        return value
    if isinstance(value, list):
        return [_labelled(v, ids, key) for v in value]
    if isinstance(value, dict):
        return {k: _labelled(v, ids, k) for k, v in value.items()}
    return value


def _ask(url: str, ids: dict[str, str], query: str, variables: dict[str, Any]) -> Any:
    body: dict[str, Any] = {"query": _fill(query, ids)}
    if variables:
        body["variables"] = _fill(variables, ids)
    response = httpx.post(url + "/graphql", json=body, timeout=60)
    assert response.status_code == 200, response.text
    answer = _labelled(response.json(), ids)
    if answer["data"] and "mlflowGetExperiment" in answer["data"]:
        experiment = (answer["data"]["mlflowGetExperiment"] or {}).get("experiment") or {}
        if experiment.get("experimentId") == ids["exp"]:  # short ids: label them here
            experiment["experimentId"] = "<exp>"
    return answer


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    """Where two answers first differ, for the failure message."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if a.get(key, "<absent>") != b.get(key, "<absent>"):
                return _first_difference(
                    a.get(key, "<absent>"), b.get(key, "<absent>"), f"{path}.{key}"
                )
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path}: ours {a!r}, MLflow's {b!r}"


def _everything() -> list[tuple[str, dict[str, Any]]]:
    return [*UI_QUERIES, *((q, {}) for q in INTROSPECTION), *((q, {}) for q in INVALID)]


@pytest.fixture(scope="module")
def mlflow_answers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Any]]:
    pytest.importorskip("mlflow")
    folder = tmp_path_factory.mktemp("mlflow-graphql")
    with start_mlflow_server(folder) as server:
        ids = _make(server.url)
        yield [_ask(server.url, ids, q, v) for q, v in _everything()]


@pytest.fixture
def mltrail_url(tmp_path: Path, serve: Callable[..., ThreadedServer]) -> str:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'g.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
    )
    return serve(create_app(settings)).url


def test_graphql_answers_as_mlflow_does(mlflow_answers: list[Any], mltrail_url: str) -> None:
    ids = _make(mltrail_url)
    for (query, variables), theirs in zip(_everything(), mlflow_answers, strict=True):
        ours = _ask(mltrail_url, ids, query, variables)
        assert ours == theirs, (query, _first_difference(ours, theirs))
    # the comparison holds real answers and real refusals, not only nulls
    run_page = mlflow_answers[0]["data"]["mlflowGetRun"]["run"]
    assert run_page["data"]["metrics"]
    assert run_page["modelVersions"]
    assert run_page["inputs"]["datasetInputs"]
    refused = mlflow_answers[len(UI_QUERIES) + len(INTROSPECTION)]
    assert refused["data"] is None
    assert "Did you mean 'runId'" in refused["errors"][0]


def test_a_root_field_without_its_input_names_the_parameter(mltrail_url: str) -> None:
    """The one deliberate difference: MLflow answers a Python TypeError here."""
    answer = httpx.post(
        mltrail_url + "/graphql", json={"query": "{ mlflowGetRun { run { info { runId } } } }"}
    )
    assert answer.json() == {
        "data": {"mlflowGetRun": None},
        "errors": [
            "Missing value for required parameter 'run_id'. See the API docs for more "
            "information about request parameters."
        ],
    }


def test_run_view_type_is_applied(mltrail_url: str) -> None:
    """The second deliberate difference: MLflow 3.17 cannot read ``runViewType`` at all."""
    ids = _make(mltrail_url)
    httpx.post(mltrail_url + API + "/runs/delete", json={"run_id": ids["other"]})
    found = {}
    for view in ("ACTIVE_ONLY", "DELETED_ONLY", "ALL"):
        query = (
            f'mutation {{ mlflowSearchRuns(input: {{experimentIds: ["{ids["exp"]}"], '
            f"runViewType: {view}}}) {{ runs {{ info {{ runId }} }} }} }}"
        )
        answer = httpx.post(mltrail_url + "/graphql", json={"query": query}).json()
        assert answer["errors"] is None
        found[view] = {r["info"]["runId"] for r in answer["data"]["mlflowSearchRuns"]["runs"]}
    assert found == {
        "ACTIVE_ONLY": {ids["run"]},
        "DELETED_ONLY": {ids["other"]},
        "ALL": {ids["run"], ids["other"]},
    }
