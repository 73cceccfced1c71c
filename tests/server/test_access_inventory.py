"""Every route declares its access rule, and the rules resolve to the right resources.

- The inventory: the built app's whole route table (recursing into mounts; with the artifact
  proxy served and not, with the UI built and not) has a rule for every path and method, and
  the rule table names no route the app does not have.
- The declarations hang together: filtered rules are on listings only, every search is
  filtered, every argument a rule reads is one its endpoint takes, the OpenAPI document carries
  each operation's rule.
- :func:`resolve` against a real SQLite backend, for each kind of locator.
- The rules agree with MLflow's basic-auth validators (read from the installed ``mlflow``'s
  source, which is not imported: it needs Flask extras and seconds to load).
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route, Router

from mltrail._exceptions import InvalidArgument
from mltrail.entities import RunTag
from mltrail.entities._auth import Permission, ResourceType
from mltrail.server import Endpoint, ServerSettings, create_app
from mltrail.server._access import (
    ADMIN,
    ARTIFACT_LIST_PATH,
    ARTIFACT_PATH,
    AUTHENTICATED,
    CREATED_RUN_EXPERIMENT,
    EXPERIMENT_ID,
    EXPERIMENT_IDS,
    EXPERIMENT_NAME,
    LOGGED_MODEL_ID,
    MODEL_VERSION_NAME,
    MODELS_OF_METRICS,
    PUBLIC,
    RUN_ID,
    RUN_IDS,
    VERSION_SOURCE,
    Access,
    AccessKind,
    Check,
    edit,
    manage,
    read,
    resolve,
    searchable,
)
from mltrail.server._app import OPENAPI_PATH, server_endpoints
from mltrail.server._meta import mltrail_version
from mltrail.server._openapi import openapi_document
from mltrail.server._route_rules import PlainRoute, access_table, unruled
from mltrail.server._schema import obj
from mltrail.store import Backend, open_backend

EXP = ResourceType.EXPERIMENT
RM = ResourceType.REGISTERED_MODEL
LM = ResourceType.LOGGED_MODEL
READ, EDIT, MANAGE = Permission.READ, Permission.EDIT, Permission.MANAGE


# -- the inventory --------------------------------------------------------------------------------


def _walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(path pattern, method) of every route, this test's own walk of Starlette's table."""
    for route in routes:
        if isinstance(route, Mount) and isinstance(route.app, Router):
            yield from _walk(route.app.routes, prefix + route.path)
        elif isinstance(route, Mount):
            yield (prefix + route.path, "*")
        elif isinstance(route, Route):
            assert route.methods, f"{route.path} answers every method"
            for method in route.methods:
                yield (prefix + route.path, method)
        else:
            pytest.fail(f"a route of a kind this test does not know: {route!r}")


def _app(tmp_path: Path, *, serve_artifacts: bool, built_ui: bool) -> Starlette:
    static = tmp_path / "static"
    if built_ui:
        (static / "assets").mkdir(parents=True)
        (static / "index.html").write_text("<!doctype html>")
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'm.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
        serve_artifacts=serve_artifacts,
        static_dir=str(static),
    )
    return create_app(settings)


#: One route of each family the issue names, so the walk is known to reach them all.
_FAMILIES = {
    "tracking": ("/api/2.0/mlflow/runs/log-batch", "POST"),
    "ajax": ("/ajax-api/2.0/mlflow/experiments/search", "POST"),
    "metrics": ("/api/2.0/mlflow/metrics/get-history", "GET"),
    "logged models": ("/api/2.0/mlflow/logged-models/{model_id}", "PATCH"),
    "registry": ("/api/2.0/mlflow/model-versions/transition-stage", "POST"),
    "webhooks": ("/api/2.0/mlflow/webhooks/{webhook_id}/test", "POST"),
    "UI API": ("/ajax-api/2.0/mltrail/metrics/series-packed", "POST"),
    "api 3.0": ("/ajax-api/3.0/mlflow/server-info", "GET"),
    "openapi": (OPENAPI_PATH, "GET"),
    "run file for the UI": ("/get-artifact", "GET"),
    "health": ("/health", "HEAD"),
    "UI catch-all": ("/{path:path}", "GET"),
}
_PROXY_FAMILIES = {
    "artifacts": ("/api/2.0/mlflow-artifacts/artifacts/{artifact_path:path}", "DELETE"),
    "multipart": ("/ajax-api/2.0/mlflow-artifacts/mpu/part/{upload_id}/{part_number}", "PUT"),
}


@pytest.mark.parametrize("serve_artifacts", [True, False], ids=["proxy", "no-proxy"])
@pytest.mark.parametrize("built_ui", [True, False], ids=["ui", "no-ui"])
def test_every_route_has_a_rule(tmp_path: Path, serve_artifacts: bool, built_ui: bool) -> None:
    app = _app(tmp_path, serve_artifacts=serve_artifacts, built_ui=built_ui)
    table: dict[tuple[str, str], Access] = app.state.access
    walked = set(_walk(app.routes))

    assert sorted(f"{m} {p}" for p, m in walked - set(table)) == []
    assert sorted(f"{m} {p}" for p, m in set(table) - walked) == []
    families = {**_FAMILIES, **(_PROXY_FAMILIES if serve_artifacts else {})}
    assert {name: key in walked for name, key in families.items()} == dict.fromkeys(families, True)
    assert any(p.startswith("/api/2.0/mlflow-artifacts/") for p, _ in walked) == serve_artifacts
    assert (("/assets", "*") in walked) == built_ui
    assert (("/assets/{path:path}", "GET") in walked) == (not built_ui)


def test_rules_of_plain_routes(tmp_path: Path) -> None:
    table = _app(tmp_path, serve_artifacts=True, built_ui=True).state.access
    assert table[("/health", "GET")] == PUBLIC
    assert table[("/ajax-api/3.0/mlflow/server-info", "GET")] == PUBLIC
    assert (
        table[("/assets", "*")] == table[("/", "GET")] == table[("/{path:path}", "GET")] == PUBLIC
    )
    assert table[("/version", "GET")] == AUTHENTICATED
    assert table[(OPENAPI_PATH, "GET")] == AUTHENTICATED
    assert table[("/get-artifact", "GET")] == read(RUN_ID)
    assert table[("/ajax-api/2.0/mlflow/runs/delete", "POST")] == manage(RUN_ID)
    assert table[("/api/2.0/mlflow/runs/get", "HEAD")] == read(RUN_ID)


def test_a_route_without_a_rule_is_refused(tmp_path: Path) -> None:
    async def nothing(request: Any) -> Any:
        raise AssertionError("never called")

    with pytest.raises(TypeError, match="access"):
        Endpoint("GET", "/mltrail/x", "x", obj({}), handler=lambda ctx, args: {})

    ruled = PlainRoute(Route("/ruled", nothing, methods=["POST"]), ADMIN)
    bare = Route("/bare", nothing, methods=["GET"])
    mounted = Mount("/m", routes=[Route("/inner", nothing, methods=["PUT"])])
    table = access_table([], [ruled])
    assert unruled([ruled.route, bare, mounted], table) == [
        "GET /bare",
        "HEAD /bare",
        "PUT /m/inner",
    ]

    settings = ServerSettings(backend_store_uri=f"sqlite:///{tmp_path / 'm.db'}")
    app = create_app(settings, extra_routes=[ruled])
    assert app.state.access[("/ruled", "POST")] == ADMIN


# -- the declarations -----------------------------------------------------------------------------


def _endpoints() -> list[Endpoint]:
    return server_endpoints(ServerSettings(serve_artifacts=True))


def _has_array(schema: dict[str, Any]) -> bool:
    return any(p.get("type") == "array" for p in schema.get("properties", {}).values())


def test_filtered_rules_are_on_listings_and_every_search_is_filtered() -> None:
    endpoints = _endpoints()
    filtered = [e for e in endpoints if e.access.filtered]
    listings = {(e.method, e.path) for e in endpoints if e.path.endswith("/search")}
    assert {(e.method, e.path) for e in filtered} == listings | {("GET", "/mlflow/webhooks")}
    assert len(filtered) == 9
    for e in filtered:
        assert _has_array(e.response), f"{e.method} {e.path} is filtered but lists nothing"
        assert e.access.kind is AccessKind.AUTHENTICATED
    by_path = {(e.method, e.path): e.access.filtered_by for e in filtered}
    assert by_path[("POST", "/mlflow/runs/search")] is EXP
    assert by_path[("GET", "/mlflow/experiments/search")] is EXP
    assert by_path[("POST", "/mlflow/model-versions/search")] is RM
    assert by_path[("POST", "/mlflow/logged-models/search")] is LM


def _path_params(path: str) -> set[str]:
    return set(re.findall(r"\{(\w+)(?::\w+)?\}", path))


def _takes(endpoint: Endpoint) -> set[str]:
    taken = set(endpoint.params.get("properties", {})) | _path_params(endpoint.path)
    taken |= {p["name"] for p in endpoint.openapi.get("parameters", [])}
    return taken


def test_every_argument_a_rule_reads_is_one_its_endpoint_takes() -> None:
    wrong = [
        f"{e.method} {e.path}: {arg}"
        for e in _endpoints()
        for arg in e.access.args
        if arg not in _takes(e)
    ]
    assert wrong == []


def test_raw_endpoints_read_their_rule_from_path_or_query_but_one() -> None:
    """Enforcement sees a raw endpoint's path parameters and query before the handler runs;
    only series-packed keeps its rule's argument in its JSON body (declared in ``params``)."""
    in_body = [
        f"{e.method} {e.path}"
        for e in _endpoints()
        if e.raw is not None
        and not set(e.access.args)
        <= _path_params(e.path) | {p["name"] for p in e.openapi.get("parameters", [])}
    ]
    assert in_body == ["POST /mltrail/metrics/series-packed"]


def test_openapi_operations_carry_their_rule() -> None:
    endpoints = _endpoints()
    document = openapi_document(endpoints, mltrail_version())
    ops = {
        (method.upper(), path): op
        for path, item in document["paths"].items()
        for method, op in item.items()
    }
    for e in endpoints:
        for api in e.versions:
            path = f"/api/{api}{e.path.replace(':path}', '}')}"
            assert ops[(e.method, path)]["x-mltrail-access"] == e.access.describe()
    assert ops[("POST", "/api/2.0/mlflow/runs/log-batch")]["x-mltrail-access"] == {
        "kind": "resource",
        "needs": [
            {"permission": "EDIT", "find": "run", "arg": "run_id"},
            {"permission": "EDIT", "find": "logged-models-in", "arg": "metrics"},
        ],
    }
    assert ops[("GET", "/api/2.0/mlflow/experiments/search")]["x-mltrail-access"] == {
        "kind": "authenticated",
        "filtered_by": "experiment",
    }
    assert ops[("GET", "/api/2.0/mlflow/webhooks")]["x-mltrail-access"] == {
        "kind": "authenticated",
        "filtered_by": "webhook",
    }


def test_rules_combine_and_refuse_nonsense() -> None:
    both = edit(RUN_ID) & read(EXPERIMENT_ID)
    assert [(n.permission, n.locator) for n in both.needs] == [
        (EDIT, RUN_ID),
        (READ, EXPERIMENT_ID),
    ]
    assert str(both) == "EDIT run(run_id) & READ experiment(experiment_id)"
    with pytest.raises(ValueError, match="only resource rules combine"):
        ADMIN & read(RUN_ID)
    with pytest.raises(ValueError, match="a resource rule needs locators"):
        Access(AccessKind.RESOURCE)
    with pytest.raises(ValueError, match="open to every signed-in user"):
        Access(AccessKind.PUBLIC, filtered_by=EXP)
    with pytest.raises(ValueError, match="at least one locator"):
        read()


# -- resolution against a real backend -----------------------------------------------------------


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    opened = open_backend(f"sqlite:///{tmp_path / 'auth.db'}", "mlflow-artifacts:/")
    yield opened
    opened.close()


def _run(backend: Backend, experiment_id: str) -> str:
    run = backend.runs.create_run(experiment_id, "alice", 0, [RunTag("t", "v")], None)
    return run.info.run_id


def test_resolve_experiments(backend: Backend) -> None:
    exp = backend.experiments.create_experiment("alpha")
    assert resolve(read(EXPERIMENT_ID), {"experiment_id": exp}, backend) == [
        Check(READ, ((EXP, exp),))
    ]
    assert resolve(read(EXPERIMENT_NAME), {"experiment_name": "alpha"}, backend) == [
        Check(READ, ((EXP, exp),))
    ]
    assert resolve(read(EXPERIMENT_NAME), {"experiment_name": "nope"}, backend) == []
    assert resolve(read(EXPERIMENT_IDS), {"experiment_ids": [exp, "0", exp]}, backend) == [
        Check(READ, ((EXP, exp),)),
        Check(READ, ((EXP, "0"),)),
    ]
    # runs/create without an experiment id creates in experiment 0
    assert resolve(edit(CREATED_RUN_EXPERIMENT), {}, backend) == [Check(EDIT, ((EXP, "0"),))]
    assert resolve(edit(EXPERIMENT_ID), {}, backend) == []


def test_resolve_runs_to_their_experiments(backend: Backend) -> None:
    a = backend.experiments.create_experiment("a")
    b = backend.experiments.create_experiment("b")
    run_a, run_b, other_a = _run(backend, a), _run(backend, b), _run(backend, a)
    assert resolve(manage(RUN_ID), {"run_id": run_a}, backend) == [Check(MANAGE, ((EXP, a),))]
    assert resolve(read(RUN_ID), {"run_uuid": run_b}, backend) == [Check(READ, ((EXP, b),))]
    assert resolve(read(RUN_IDS), {"run_ids": [run_a, run_b, other_a]}, backend) == [
        Check(READ, ((EXP, a),)),
        Check(READ, ((EXP, b),)),
    ]
    missing = "0" * 32
    assert resolve(read(RUN_ID), {"run_id": missing}, backend) == []
    assert resolve(read(RUN_IDS), {"run_ids": [missing, run_b]}, backend) == [
        Check(READ, ((EXP, b),))
    ]


def test_resolve_costs_one_store_call_per_run(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = backend.experiments.create_experiment("a")
    runs = [_run(backend, exp) for _ in range(3)]
    calls: list[str] = []
    get_run = backend.runs.get_run

    def counting(run_id: str) -> Any:
        calls.append(run_id)
        return get_run(run_id)

    monkeypatch.setattr(backend.runs, "get_run", counting)
    resolve(read(RUN_IDS), {"run_ids": runs}, backend)
    assert calls == runs
    calls.clear()
    resolve(
        read(EXPERIMENT_ID) & read(MODEL_VERSION_NAME), {"experiment_id": exp, "name": "m"}, backend
    )
    assert calls == []


def test_resolve_registered_models_and_versions(backend: Backend) -> None:
    assert resolve(manage(MODEL_VERSION_NAME), {"name": "churn", "version": "3"}, backend) == [
        Check(MANAGE, ((RM, "churn"),))
    ]


def test_resolve_logged_models_own_grant_then_experiment(backend: Backend) -> None:
    exp = backend.experiments.create_experiment("a")
    model = backend.logged_models.create_logged_model(exp, name="clf")
    mid = model.model_id
    expected = [Check(READ, ((EXP, exp),)), Check(EDIT, ((LM, mid), (EXP, exp)))]
    assert resolve(edit(LOGGED_MODEL_ID), {"model_id": mid}, backend) == expected
    assert resolve(edit(LOGGED_MODEL_ID), {"model_id": "m-" + "0" * 32}, backend) == []
    run = _run(backend, exp)
    metrics = {"run_id": run, "metrics": [{"key": "k", "model_id": mid}, {"key": "j"}]}
    assert resolve(edit(RUN_ID, MODELS_OF_METRICS), metrics, backend) == [
        Check(EDIT, ((EXP, exp),)),
        *expected,
    ]
    backend.logged_models.delete_logged_model(mid)
    assert resolve(edit(LOGGED_MODEL_ID), {"model_id": mid}, backend) == expected


def test_resolve_artifact_paths_to_their_owner(backend: Backend) -> None:
    exp = backend.experiments.create_experiment("a")
    run = _run(backend, exp)
    model = backend.logged_models.create_logged_model(exp, name="clf")
    owner = [Check(EDIT, ((EXP, exp),))]
    for path in (f"{exp}/{run}/artifacts/model/MLmodel", f"{exp}/{run}/artifacts", exp):
        assert resolve(edit(ARTIFACT_PATH), {"artifact_path": path}, backend) == owner, path
    model_path = f"{exp}/models/{model.model_id}/artifacts/MLmodel"
    assert resolve(read(ARTIFACT_PATH), {"artifact_path": model_path}, backend) == [
        Check(READ, ((EXP, exp),)),
        Check(READ, ((LM, model.model_id), (EXP, exp))),
    ]
    # owned by nothing: only an admin
    for path in ("elsewhere/file.txt", f"999/{run}/artifacts/x", f"{exp}x/y"):
        assert resolve(edit(ARTIFACT_PATH), {"artifact_path": path}, backend) == [Check(EDIT)]
    assert resolve(read(ARTIFACT_LIST_PATH), {}, backend) == [Check(READ)]
    assert Check(READ).admin_only
    with pytest.raises(InvalidArgument):
        resolve(read(ARTIFACT_PATH), {"artifact_path": f"{exp}/../secret"}, backend)


def test_resolve_model_version_sources(backend: Backend) -> None:
    exp = backend.experiments.create_experiment("a")
    run = _run(backend, exp)
    model = backend.logged_models.create_logged_model(exp, name="clf")
    rule = read(VERSION_SOURCE)
    assert resolve(rule, {"source": "models:/churn/3"}, backend) == [Check(READ, ((RM, "churn"),))]
    assert resolve(rule, {"source": f"models:/{model.model_id}"}, backend) == [
        Check(READ, ((EXP, exp),)),
        Check(READ, ((LM, model.model_id), (EXP, exp))),
    ]
    assert resolve(rule, {"source": f"runs:/{run}/model"}, backend) == [Check(READ, ((EXP, exp),))]
    assert resolve(rule, {"source": f"mlflow-artifacts:/{exp}/{run}/artifacts"}, backend) == []


def test_rules_without_resources_resolve_to_nothing(backend: Backend) -> None:
    for rule in (PUBLIC, AUTHENTICATED, ADMIN, searchable(EXP)):
        assert resolve(rule, {"run_id": "x", "experiment_id": "1"}, backend) == []


def test_resolve_what_the_declared_rules_read(backend: Backend) -> None:
    """The declared rules of a few endpoints, resolved with the arguments those endpoints get."""
    rules = {(e.method, e.path): e.access for e in _endpoints()}
    exp = backend.experiments.create_experiment("a")
    run = _run(backend, exp)
    move = resolve(
        rules[("POST", "/mltrail/runs/move")], {"run_ids": [run], "experiment_id": "0"}, backend
    )
    assert move == [Check(MANAGE, ((EXP, exp),)), Check(EDIT, ((EXP, "0"),))]
    upload = rules[("PUT", "/mlflow-artifacts/artifacts/{artifact_path:path}")]
    path = {"artifact_path": f"{exp}/{run}/artifacts/a.txt"}
    assert resolve(upload, path, backend) == [Check(EDIT, ((EXP, exp),))]
    version = rules[("POST", "/mlflow/model-versions/create")]
    args = {"name": "churn", "source": f"runs:/{run}/model", "run_id": run}
    assert resolve(version, args, backend) == [
        Check(EDIT, ((RM, "churn"),)),
        Check(READ, ((EXP, exp),)),
    ]


# -- agreement with MLflow ------------------------------------------------------------------------

#: Our endpoint -> the request message MLflow's auth tables key its validator by.
_MLFLOW_MESSAGES = {
    ("POST", "/mlflow/experiments/create"): "CreateExperiment",
    ("GET", "/mlflow/experiments/get"): "GetExperiment",
    ("GET", "/mlflow/experiments/get-by-name"): "GetExperimentByName",
    ("POST", "/mlflow/experiments/delete"): "DeleteExperiment",
    ("POST", "/mlflow/experiments/restore"): "RestoreExperiment",
    ("POST", "/mlflow/experiments/update"): "UpdateExperiment",
    ("POST", "/mlflow/experiments/set-experiment-tag"): "SetExperimentTag",
    ("POST", "/mlflow/experiments/delete-experiment-tag"): "DeleteExperimentTag",
    ("POST", "/mlflow/runs/create"): "CreateRun",
    ("GET", "/mlflow/runs/get"): "GetRun",
    ("POST", "/mlflow/runs/update"): "UpdateRun",
    ("POST", "/mlflow/runs/delete"): "DeleteRun",
    ("POST", "/mlflow/runs/restore"): "RestoreRun",
    ("POST", "/mlflow/runs/log-metric"): "LogMetric",
    ("POST", "/mlflow/runs/log-parameter"): "LogParam",
    ("POST", "/mlflow/runs/set-tag"): "SetTag",
    ("POST", "/mlflow/runs/delete-tag"): "DeleteTag",
    ("POST", "/mlflow/runs/log-batch"): "LogBatch",
    ("POST", "/mlflow/runs/log-inputs"): "LogInputs",
    ("POST", "/mlflow/runs/log-model"): "LogModel",
    ("POST", "/mlflow/runs/outputs"): "LogOutputs",
    ("GET", "/mlflow/metrics/get-history"): "GetMetricHistory",
    ("GET", "/mlflow/artifacts/list"): "ListArtifacts",
    ("POST", "/mlflow/registered-models/create"): "CreateRegisteredModel",
    ("GET", "/mlflow/registered-models/get"): "GetRegisteredModel",
    ("POST", "/mlflow/registered-models/rename"): "RenameRegisteredModel",
    ("PATCH", "/mlflow/registered-models/update"): "UpdateRegisteredModel",
    ("DELETE", "/mlflow/registered-models/delete"): "DeleteRegisteredModel",
    ("POST", "/mlflow/registered-models/get-latest-versions"): "GetLatestVersions",
    ("POST", "/mlflow/registered-models/set-tag"): "SetRegisteredModelTag",
    ("DELETE", "/mlflow/registered-models/delete-tag"): "DeleteRegisteredModelTag",
    ("POST", "/mlflow/registered-models/alias"): "SetRegisteredModelAlias",
    ("DELETE", "/mlflow/registered-models/alias"): "DeleteRegisteredModelAlias",
    ("GET", "/mlflow/registered-models/alias"): "GetModelVersionByAlias",
    ("POST", "/mlflow/model-versions/create"): "CreateModelVersion",
    ("GET", "/mlflow/model-versions/get"): "GetModelVersion",
    ("PATCH", "/mlflow/model-versions/update"): "UpdateModelVersion",
    ("DELETE", "/mlflow/model-versions/delete"): "DeleteModelVersion",
    ("POST", "/mlflow/model-versions/transition-stage"): "TransitionModelVersionStage",
    ("GET", "/mlflow/model-versions/get-download-uri"): "GetModelVersionDownloadUri",
    ("POST", "/mlflow/model-versions/set-tag"): "SetModelVersionTag",
    ("DELETE", "/mlflow/model-versions/delete-tag"): "DeleteModelVersionTag",
    ("POST", "/mlflow/logged-models"): "CreateLoggedModel",
    ("GET", "/mlflow/logged-models/{model_id}"): "GetLoggedModel",
    ("PATCH", "/mlflow/logged-models/{model_id}"): "FinalizeLoggedModel",
    ("DELETE", "/mlflow/logged-models/{model_id}"): "DeleteLoggedModel",
    ("PATCH", "/mlflow/logged-models/{model_id}/tags"): "SetLoggedModelTags",
    ("DELETE", "/mlflow/logged-models/{model_id}/tags/{tag_key:path}"): "DeleteLoggedModelTag",
    ("POST", "/mlflow/logged-models/{model_id}/params"): "LogLoggedModelParamsRequest",
    ("GET", "/mlflow/logged-models/{model_id}/artifacts/directories"): "ListLoggedModelArtifacts",
}
#: Where we differ on purpose: MLflow keeps webhooks to admins; here a user may create one
#: and manage what they created (it is sent only their models' events: server/auth/_webhooks).
_WEBHOOK_MESSAGES = {
    ("POST", "/mlflow/webhooks"): ("CreateWebhook", AccessKind.AUTHENTICATED),
    ("GET", "/mlflow/webhooks"): ("ListWebhooks", AccessKind.AUTHENTICATED),
    ("GET", "/mlflow/webhooks/{webhook_id}"): ("GetWebhook", MANAGE),
    ("PATCH", "/mlflow/webhooks/{webhook_id}"): ("UpdateWebhook", MANAGE),
    ("DELETE", "/mlflow/webhooks/{webhook_id}"): ("DeleteWebhook", MANAGE),
    ("POST", "/mlflow/webhooks/{webhook_id}/test"): ("TestWebhook", MANAGE),
}
#: What each MLflow validator asks for, in our terms (a rule's kind, or the permission its
#: first need asks for).
_VALIDATOR_NEEDS: dict[str, AccessKind | Permission] = {
    "validate_can_create_experiment": AccessKind.AUTHENTICATED,
    "validate_can_create_registered_model": AccessKind.AUTHENTICATED,
    "sender_is_admin": AccessKind.ADMIN,
    "validate_can_read_experiment": READ,
    "validate_can_read_experiment_by_name": READ,
    "validate_can_read_run": READ,
    "_validate_can_read_registered_model_or_prompt": READ,
    "validate_can_read_model_or_prompt_version": READ,
    "validate_can_read_logged_model": READ,
    "validate_can_update_experiment": EDIT,
    "validate_can_create_run": EDIT,
    "validate_can_update_run": EDIT,
    "validate_can_log_metric": EDIT,
    "validate_can_log_batch": EDIT,
    "validate_can_log_inputs": EDIT,
    "validate_can_log_outputs": EDIT,
    "_validate_can_update_registered_model_or_prompt": EDIT,
    "validate_can_create_model_version": EDIT,
    "validate_can_update_model_or_prompt_version": EDIT,
    "validate_can_set_model_or_prompt_version_alias": EDIT,
    "validate_can_create_logged_model": EDIT,
    "validate_can_update_logged_model": EDIT,
    "validate_can_delete_experiment": MANAGE,
    "validate_can_delete_run": MANAGE,
    "validate_can_delete_registered_model_or_prompt_cascade": MANAGE,
    "validate_can_delete_model_or_prompt_version": MANAGE,
    "validate_can_delete_model_or_prompt_version_alias": MANAGE,
    "validate_can_delete_logged_model": MANAGE,
}
_MLFLOW_TABLES = (
    "BEFORE_REQUEST_HANDLERS",
    "LOGGED_MODEL_BEFORE_REQUEST_HANDLERS",
    "WEBHOOK_BEFORE_REQUEST_HANDLERS",
)


def _mlflow_validators() -> dict[str, str]:
    """MLflow's request message -> validator name, read from its auth module's source."""
    spec = importlib.util.find_spec("mlflow")
    if spec is None or spec.origin is None:
        pytest.skip("mlflow is not installed")
    source = Path(spec.origin).parent / "server" / "auth" / "__init__.py"
    validators: dict[str, str] = {}
    for node in ast.parse(source.read_text()).body:
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Dict):
            continue
        if not any(isinstance(t, ast.Name) and t.id in _MLFLOW_TABLES for t in node.targets):
            continue
        for key, value in zip(node.value.keys, node.value.values, strict=True):
            if isinstance(key, ast.Name) and isinstance(value, ast.Name):
                validators[key.id] = value.id
    return validators


def _our_need(access: Access) -> AccessKind | Permission:
    return access.needs[0].permission if access.needs else access.kind


def test_rules_agree_with_mlflows_validators() -> None:
    validators = _mlflow_validators()
    rules = {(e.method, e.path): e.access for e in _endpoints()}
    ours = {key: _our_need(rules[key]) for key in _MLFLOW_MESSAGES}
    theirs = {key: _VALIDATOR_NEEDS[validators[msg]] for key, msg in _MLFLOW_MESSAGES.items()}
    assert ours == theirs
    for key, (message, need) in _WEBHOOK_MESSAGES.items():
        assert validators[message] == "sender_is_admin"
        assert _our_need(rules[key]) == need
    assert rules[("GET", "/mlflow/webhooks")].filtered_by is ResourceType.WEBHOOK
    # MLflow filters these listings' results rather than checking before the request.
    for message in ("SearchExperiments", "SearchRuns", "SearchRegisteredModels"):
        assert message not in validators
    assert validators["SearchLoggedModels"] == "validate_can_search_logged_models"
    assert validators["SearchModelVersions"] == "validate_can_search_model_versions"


def test_a_few_rules_spelled_out() -> None:
    rules = {(e.method, e.path): e.access for e in _endpoints()}
    assert rules[("POST", "/mlflow/runs/delete")] == manage(RUN_ID)
    assert rules[("POST", "/mlflow/runs/log-metric")] == edit(RUN_ID, LOGGED_MODEL_ID)
    assert rules[("POST", "/mlflow/runs/create")] == edit(CREATED_RUN_EXPERIMENT)
    assert rules[("GET", "/mlflow-artifacts/artifacts/{artifact_path:path}")] == read(ARTIFACT_PATH)
    assert rules[("DELETE", "/mlflow-artifacts/artifacts/{artifact_path:path}")] == manage(
        ARTIFACT_PATH
    )
    assert rules[("GET", "/mlflow-artifacts/artifacts")] == read(ARTIFACT_LIST_PATH)
    assert rules[("GET", "/mlflow/metrics/get-history-bulk-interval")] == read(RUN_IDS)
    assert rules[("GET", "/mlflow/server-info")] == PUBLIC
    assert rules[("PUT", "/mlflow-artifacts/mpu/part/{upload_id}/{part_number}")].kind is (
        AccessKind.UPLOAD_CAPABILITY
    )
