"""``/graphql``: MLflow's UI queries answered through the REST endpoints, the parser's grammar
and limits, and each root field held to its endpoint's access rule."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._asgi import BASE_URL, SyncASGITransport
from tests.server.auth._apps import open_app

from mltrail._exceptions import InvalidArgument
from mltrail.server import ServerSettings, create_app
from mltrail.server._graphql_parse import (
    MAX_ALIASES,
    MAX_ROOT_FIELDS,
    Field,
    FragmentSpread,
    InlineFragment,
    Variable,
    check_limits,
    parse_document,
)

API = "/api/2.0/mlflow"


@pytest.fixture
def client(tmp_path: Path) -> Any:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'graphql.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
    )
    transport = SyncASGITransport(create_app(settings))
    with httpx.Client(transport=transport, base_url=BASE_URL) as c:
        yield c
    transport.close()


def _ok(c: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    answer = c.request(method, path, **kwargs)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _query(c: httpx.Client, query: str, **body: Any) -> Any:
    answer = c.post("/graphql", json={"query": query, **body})
    assert answer.status_code == 200
    return answer.json()


def test_the_grammar() -> None:
    doc = parse_document(
        """
        # MLflow's UI names its queries and tags them with a directive
        query Q($id: String!, $n: [Int!] = [1, 2]) @component(name: "Run page") {
          first: mlflowGetRun(input: {runId: $id, flags: [true, false, null], x: -1.5e3}) {
            run { ...Info ... on MlflowRun { data { metrics { key } } } }
          }
          other: test(inputString: \"\"\"
              block \"\"\")
        }
        fragment Info on MlflowRun { info { runId } }
        mutation M { mlflowSearchRuns(input: {experimentIds: ["1"]}) { runs { info { runId } } } }
        """
    )
    query = doc.operation("Q")
    assert (query.kind, query.variables) == ("query", {"id": None, "n": [1, 2]})
    first = query.selections[0]
    assert isinstance(first, Field)
    assert (first.key, first.name) == ("first", "mlflowGetRun")
    assert first.arguments["input"] == {
        "runId": Variable("id"),
        "flags": [True, False, None],
        "x": -1500.0,
    }
    run = first.selections[0] if first.selections else None
    assert isinstance(run, Field)
    assert run.selections is not None
    assert isinstance(run.selections[0], FragmentSpread)
    assert isinstance(run.selections[1], InlineFragment)
    other = query.selections[1]
    assert isinstance(other, Field)
    assert other.arguments == {"inputString": "block "}
    assert doc.operation("M").kind == "mutation"
    with pytest.raises(InvalidArgument, match="operation name"):
        doc.operation(None)
    for bad, words in [
        ("query {", "expected"),
        ("{ a(x: ) }", "unexpected"),
        ("type T { a: Int }", "only queries and mutations"),
        ("{ a } %", "unexpected character"),
        ("", "Missing value for required parameter 'query'"),
    ]:
        with pytest.raises(InvalidArgument, match=words):
            parse_document(bad)


def test_the_limits() -> None:
    def refused(query: str, words: str) -> None:
        with pytest.raises(InvalidArgument, match=words):
            check_limits(parse_document(query))

    root = " ".join(f'f{i}: test(inputString: "a") {{ output }}' for i in range(11))
    refused(f"{{ {root} }}", f"at most {MAX_ROOT_FIELDS} root fields; this one has 11")
    aliased = " ".join(f"e{i}: experiment {{ name }}" for i in range(MAX_ALIASES + 1))
    refused(f"{{ x {{ {aliased} }} }}", f"at most {MAX_ALIASES} aliases")
    # aliases spread over fragments of one selection set count together
    spread = (
        "{ x { ...A ...B } } fragment A on T { a1: n a2: n a3: n a4: n a5: n a6: n } "
        "fragment B on T { b1: n b2: n b3: n b4: n b5: n b6: n }"
    )
    refused(spread, "aliases")
    deep = "name"
    for _ in range(12):
        deep = f"name {{ {deep} }}"
    refused(f"{{ {deep} }}", "maximum depth of 10")
    wide = " ".join(f"f{i} {{ name }}" for i in range(1002))
    refused(f"{{ x {{ {wide} }} }}", "maximum total selections of 1000")
    refused("{ ...A } fragment A on Q { ...A }", "within itself")
    check_limits(parse_document(f"{{ x {{ {' '.join(f'e{i}: n' for i in range(10))} }} }}"))


def test_mlflows_ui_queries(client: httpx.Client, tmp_path: Path) -> None:
    exp = _ok(client, "POST", f"{API}/experiments/create", json={"name": "g"})["experiment_id"]
    run = _ok(client, "POST", f"{API}/runs/create", json={"experiment_id": exp, "start_time": 5})
    run_id = run["run"]["info"]["run_id"]
    metrics = [
        {"key": "loss", "value": v, "timestamp": 7, "step": s}
        for s, v in enumerate([0.5, "NaN", 0.25])
    ]
    _ok(client, "POST", f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics})
    _ok(client, "POST", f"{API}/registered-models/create", json={"name": "m"})
    _ok(
        client,
        "POST",
        f"{API}/model-versions/create",
        json={"name": "m", "source": f"runs:/{run_id}/model", "run_id": run_id},
    )
    got = _query(
        client,
        """query Run($data: MlflowGetRunInput!) @component(name: "run") {
             mlflowGetRun(input: $data) {
               apiError { code message }
               __typename
               run { info { runId status startTime } experiment { name experimentId }
                     modelVersions { name version }
                     data { metrics { key value step timestamp } params { key } } }
             }
           }""",
        variables={"data": {"runId": run_id}},
        operationName="Run",
    )
    assert got["errors"] is None
    answer = got["data"]["mlflowGetRun"]
    assert answer["apiError"] is None
    assert answer["__typename"] == "MlflowGetRunResponse"
    assert answer["run"]["info"] == {"runId": run_id, "status": "RUNNING", "startTime": "5"}
    assert answer["run"]["experiment"] == {"name": "g", "experimentId": exp}
    assert answer["run"]["modelVersions"] == [{"name": "m", "version": "1"}]
    assert answer["run"]["data"]["metrics"] == [
        {"key": "loss", "value": 0.25, "step": "2", "timestamp": "7"}
    ]
    assert answer["run"]["data"]["params"] == []
    series = _query(
        client,
        f"""{{ mlflowGetMetricHistoryBulkInterval(input: {{runIds: ["{run_id}"],
                 metricKey: "loss"}}) {{ metrics {{ step value runId }} }} }}""",
    )["data"]["mlflowGetMetricHistoryBulkInterval"]["metrics"]
    assert [m["step"] for m in series] == ["0", "1", "2"]
    assert series[1]["value"] is None
    assert not any(isinstance(m["value"], float) and math.isnan(m["value"]) for m in series)
    searched = _query(
        client,
        f"""mutation {{ mlflowSearchRuns(input: {{experimentIds: ["{exp}"], maxResults: 5}})
              {{ runs {{ info {{ runId }} }} nextPageToken }} }}""",
    )["data"]["mlflowSearchRuns"]
    # an absent page token is protobuf's unset string, as MLflow answers it
    assert searched == {"runs": [{"info": {"runId": run_id}}], "nextPageToken": ""}
    missing = _query(
        client, '{ mlflowGetExperiment(input: {experimentId: "999"}) { apiError { code } } }'
    )
    # an endpoint's error: the field is null, the message in errors (as MLflow's)
    assert missing["data"] == {"mlflowGetExperiment": None}
    assert "999" in missing["errors"][0]
    # what the schema refuses is refused before anything runs
    unknown = _query(client, "{ nope { x } }")
    assert unknown == {"data": None, "errors": ["Cannot query field 'nope' on type 'Query'."]}
    bad = _query(client, "{ mlflowGetRun(input: {runId: 5}) { apiError { code } } }")
    assert bad == {"data": None, "errors": ["String cannot represent a non string value: 5"]}
    over = _query(client, "{ " + " ".join(f"a{i}: test {{ output }}" for i in range(11)) + " }")
    assert over["data"] is None
    assert "root fields" in over["errors"][0]
    echoed = client.get("/graphql", params={"query": '{ test(inputString: "x") { output } }'})
    assert echoed.json() == {"data": {"test": {"output": "x"}}, "errors": None}


def test_each_root_field_keeps_its_endpoints_rule(tmp_path: Path) -> None:
    """A user who may not read an experiment gets null for it (its endpoint's rule holds
    inside GraphQL too); anonymous callers are refused at the door."""
    app = open_app(tmp_path, default_permission="NO_PERMISSIONS")
    try:
        app.create_users(["viewer"])
        admin = app.admin
        exp = admin.ok("POST", f"{API}/experiments/create", json={"name": "secret"})
        query = f'{{ mlflowGetExperiment(input: {{experimentId: "{exp["experiment_id"]}"}}) ' + (
            "{ experiment { name } apiError { code } } }"
        )
        seen = admin.client.post("/graphql", json={"query": query}).json()
        assert seen["data"]["mlflowGetExperiment"]["experiment"]["name"] == "secret"
        refused = app.user("viewer").client.post("/graphql", json={"query": query}).json()
        # as MLflow's: a field the caller may not read is null, with nothing said
        assert refused == {"data": {"mlflowGetExperiment": None}, "errors": None}
        assert app.anonymous().client.post("/graphql", json={"query": query}).status_code == 401
    finally:
        app.close()


def test_a_post_must_be_json(client: httpx.Client) -> None:
    """As MLflow's: a form or a cross-site "simple" request (text/plain) carries no query."""
    body = '{"query": "{ __typename }"}'
    for headers, words in [
        ({"Content-Type": "text/plain"}, "Content-Type must be one of ['application/json']"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "must be one of"),
        ({}, "Content-Type header is missing"),
    ]:
        answer = client.post("/graphql", content=body.encode(), headers=headers)
        assert answer.status_code == 400
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert words in answer.json()["message"]
    typed = {"Content-Type": "application/json; charset=utf-8"}
    answer = client.post("/graphql", content=body.encode(), headers=typed)
    assert answer.json() == {"data": {"__typename": "Query"}, "errors": None}


def test_the_schema_refuses_what_it_does_not_have(client: httpx.Client) -> None:
    """The checks of _graphql_check, in graphql-core's words (MLflow's own answers are
    compared in tests/compat/test_graphql_differential.py)."""
    for query, message in [
        (
            '{ mlflowGetRun(input: {runId: "x"}) { run { info { runIdd } } } }',
            "Cannot query field 'runIdd' on type 'MlflowRunInfo'. "
            "Did you mean 'runId' or 'runUuid'?",
        ),
        (
            '{ mlflowGetRun(input: {runId: "x"}, extra: 1) { apiError { code } } }',
            "Unknown argument 'extra' on field 'Query.mlflowGetRun'.",
        ),
        (
            '{ mlflowGetRun(input: {runIdx: "x"}) { apiError { code } } }',
            "Field 'runIdx' is not defined by type 'MlflowGetRunInput'. "
            "Did you mean 'runId' or 'runUuid'?",
        ),
        (
            "{ mlflowSearchRuns(input: {runViewType: ALLL}) { runs { info { runId } } } }",
            "Value 'ALLL' does not exist in 'MlflowViewType' enum. "
            "Did you mean the enum value 'ALL'?",
        ),
        (
            '{ mlflowGetRun(input: {runId: "x"}) { run { info } } }',
            "Field 'info' of type 'MlflowRunInfo' must have a selection of subfields. "
            "Did you mean 'info { ... }'?",
        ),
        (
            "query Q($id: String!) { mlflowGetRun(input: {runId: $id}) { apiError { code } } }",
            "Variable '$id' of required type 'String!' was not provided.",
        ),
    ]:
        assert _query(client, query) == {"data": None, "errors": [message]}, query
    introspected = _query(client, '{ __type(name: "MlflowRunInfo") { kind fields { name } } }')
    fields = introspected["data"]["__type"]["fields"]
    assert introspected["data"]["__type"]["kind"] == "OBJECT"
    assert [f["name"] for f in fields][:3] == ["runId", "runUuid", "runName"]
