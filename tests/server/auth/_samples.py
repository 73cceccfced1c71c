"""A valid request for every route of an authenticating app, aimed at the hidden data of a
:class:`~._world.World`.

:data:`SAMPLES` maps an endpoint's (method, path below its API version) or a plain route's
(method, full path) to a function of the world returning a :class:`Sample`: the path
parameters, query and body of a request the owner of the data could make.  HEAD uses GET's
sample; a mounted application (``*``) is sampled as a GET.  :func:`plan` turns the app's
access table into requests and lists the routes without a sample (the walk fails on any).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.server.auth._world import OWNER, READER, World

__all__ = ["SAMPLES", "Planned", "Sample", "plan", "relative"]

_PREFIX = re.compile(r"^/(api|ajax-api)/(2\.0|3\.0)(?=/)")
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass(frozen=True)
class Sample:
    path: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] | None = None
    json: Any = None
    content: bytes | None = None


@dataclass(frozen=True)
class Planned:
    """One request of the walk: the route's key and the concrete request."""

    pattern: str
    method: str  # the route's key: a method or "*"
    send_method: str
    url: str
    params: dict[str, Any] | None
    json: Any
    content: bytes | None

    def __str__(self) -> str:
        return f"{self.method} {self.pattern}"

    def request_text(self) -> str:
        return f"{self.url} {self.params!r} {self.json!r} {self.content!r}"


Make = Callable[[World], Sample]


def _q(**params: Any) -> Make:
    return lambda w: Sample(params={k: v(w) if callable(v) else v for k, v in params.items()})


def _b(**body: Any) -> Make:
    return lambda w: Sample(json={k: v(w) if callable(v) else v for k, v in body.items()})


def _unique(stem: str) -> Callable[[World], str]:
    """A new name at each call (a create called under both API prefixes must not collide)."""
    counter = itertools.count()
    return lambda w: f"{stem}-{next(counter)}"


def _exp(w: World) -> str:
    return w.experiment_id


def _run(w: World) -> str:
    return w.run_id


def _runs(w: World) -> list[str]:
    return [w.run_id]


def _exps(w: World) -> list[str]:
    return [w.experiment_id]


def _name(w: World) -> str:
    return w.model_name


def _model(w: World) -> str:
    return w.logged_model_id


def _secret_exp_name(w: World) -> str:
    return w.secrets["experiment name"]


def _source(w: World) -> str:
    return f"runs:/{w.run_id}/model"


def _lm(**extra: Any) -> Make:
    return lambda w: Sample(path={"model_id": w.logged_model_id, **extra})


def _lm_body(body: Any) -> Make:
    return lambda w: Sample(path={"model_id": w.logged_model_id}, json=body)


def _hook(body: Any = None) -> Make:
    return lambda w: Sample(path={"webhook_id": w.webhook_id}, json=body)


_WORKSPACES = itertools.count()


def _workspace(name: str, body: Any = None) -> Make:
    return lambda w: Sample(path={"workspace_name": name}, json=body)


def _artifact(file: str, content: bytes | None = None, json: Any = None) -> Make:
    return lambda w: Sample(
        path={"artifact_path": f"{w.run_artifacts}{file}"}, content=content, json=json
    )


def _graphql_query(w: World) -> str:
    return (
        f'{{ mlflowGetExperiment(input: {{experimentId: "{w.experiment_id}"}}) '
        "{ experiment { name } apiError { code } } }"
    )


_GRANT_TARGET = {"username": READER, "resource_type": "experiment", "resource_id": _exp}

#: Endpoints: (method, path below /api/<version>) -> sample.
_ENDPOINTS: dict[tuple[str, str], Make] = {
    # experiments
    ("POST", "/mlflow/experiments/create"): _b(name=_unique("stranger-made")),
    ("GET", "/mlflow/experiments/get"): _q(experiment_id=_exp),
    ("GET", "/mlflow/experiments/get-by-name"): _q(experiment_name=_secret_exp_name),
    ("GET", "/mlflow/experiments/search"): _q(max_results=100),
    ("POST", "/mlflow/experiments/search"): _b(max_results=100),
    ("POST", "/mlflow/experiments/delete"): _b(experiment_id=_exp),
    ("POST", "/mlflow/experiments/restore"): _b(experiment_id=_exp),
    ("POST", "/mlflow/experiments/update"): _b(experiment_id=_exp, new_name="renamed"),
    ("POST", "/mlflow/experiments/set-experiment-tag"): _b(experiment_id=_exp, key="k", value="v"),
    ("POST", "/mlflow/experiments/delete-experiment-tag"): _b(experiment_id=_exp, key="note"),
    # runs
    ("POST", "/mlflow/runs/create"): _b(experiment_id=_exp, start_time=1),
    ("GET", "/mlflow/runs/get"): _q(run_id=_run),
    ("POST", "/mlflow/runs/update"): _b(run_id=_run, status="FINISHED", end_time=2),
    ("POST", "/mlflow/runs/delete"): _b(run_id=_run),
    ("POST", "/mlflow/runs/restore"): _b(run_id=_run),
    ("POST", "/mlflow/runs/log-metric"): _b(run_id=_run, key="m", value=1.0, timestamp=1),
    ("POST", "/mlflow/runs/log-parameter"): _b(run_id=_run, key="p2", value="v"),
    ("POST", "/mlflow/runs/set-tag"): _b(run_id=_run, key="t", value="v"),
    ("POST", "/mlflow/runs/delete-tag"): _b(run_id=_run, key="why"),
    ("POST", "/mlflow/runs/log-batch"): _b(run_id=_run, params=[{"key": "p3", "value": "v"}]),
    ("POST", "/mlflow/runs/log-inputs"): _b(run_id=_run, datasets=[]),
    ("POST", "/mlflow/runs/log-model"): _b(run_id=_run, model_json='{"artifact_path": "m"}'),
    ("POST", "/mlflow/runs/search"): _b(experiment_ids=_exps, max_results=100),
    ("POST", "/mltrail/runs/move"): _b(run_ids=_runs, experiment_id="0"),
    ("POST", "/mlflow/runs/outputs"): lambda w: Sample(
        json={"run_id": w.run_id, "models": [{"model_id": w.logged_model_id, "step": 0}]}
    ),
    # metrics
    ("GET", "/mlflow/metrics/get-history"): _q(run_id=_run, metric_key="loss"),
    ("GET", "/mlflow/metrics/get-history-bulk-interval"): _q(run_ids=_runs, metric_key="loss"),
    ("GET", "/mlflow/metrics/get-history-bulk"): _q(run_id=_runs, metric_key="loss"),
    ("POST", "/mlflow/experiments/search-datasets"): _b(experiment_ids=_exps),
    ("POST", "/mlflow/upload-artifact"): lambda w: Sample(
        params={"run_uuid": w.run_id, "path": "uploaded.txt"}, content=b"x"
    ),
    ("POST", "/mltrail/metrics/series"): _b(run_ids=_runs, metric_keys=["loss"]),
    ("POST", "/mltrail/metrics/series-packed"): _b(run_ids=_runs, metric_keys=["loss"]),
    # logged models
    ("POST", "/mlflow/logged-models"): _b(experiment_id=_exp, name="lm2", source_run_id=_run),
    ("POST", "/mlflow/logged-models/search"): _b(experiment_ids=_exps, max_results=100),
    ("GET", "/mlflow/logged-models/{model_id}"): _lm(),
    ("PATCH", "/mlflow/logged-models/{model_id}"): _lm_body({"status": "LOGGED_MODEL_READY"}),
    ("DELETE", "/mlflow/logged-models/{model_id}"): _lm(),
    ("PATCH", "/mlflow/logged-models/{model_id}/tags"): _lm_body(
        {"tags": [{"key": "k", "value": "v"}]}
    ),
    ("DELETE", "/mlflow/logged-models/{model_id}/tags/{tag_key:path}"): _lm(tag_key="k"),
    ("POST", "/mlflow/logged-models/{model_id}/params"): _lm_body(
        {"params": [{"key": "k", "value": "v"}]}
    ),
    ("GET", "/mlflow/logged-models/{model_id}/artifacts/directories"): _lm(),
    ("GET", "/mlflow/logged-models/{model_id}/artifacts/files"): lambda w: Sample(
        path={"model_id": w.logged_model_id}, params={"artifact_file_path": "MLmodel"}
    ),
    # registered models and versions
    ("POST", "/mlflow/registered-models/create"): _b(name=_unique("stranger-model")),
    ("GET", "/mlflow/registered-models/get"): _q(name=_name),
    ("POST", "/mlflow/registered-models/rename"): _b(name=_name, new_name="renamed-model"),
    ("PATCH", "/mlflow/registered-models/update"): _b(name=_name, description="d"),
    ("DELETE", "/mlflow/registered-models/delete"): _b(name=_name),
    ("GET", "/mlflow/registered-models/search"): _q(max_results=100),
    ("POST", "/mlflow/registered-models/search"): _b(max_results=100),
    ("GET", "/mlflow/registered-models/get-latest-versions"): _q(name=_name),
    ("POST", "/mlflow/registered-models/get-latest-versions"): _b(name=_name),
    ("POST", "/mlflow/registered-models/set-tag"): _b(name=_name, key="k", value="v"),
    ("DELETE", "/mlflow/registered-models/delete-tag"): _b(name=_name, key="k"),
    ("POST", "/mlflow/registered-models/alias"): _b(name=_name, alias="next", version="2"),
    ("DELETE", "/mlflow/registered-models/alias"): _b(name=_name, alias="champion"),
    ("GET", "/mlflow/registered-models/alias"): _q(name=_name, alias="champion"),
    ("POST", "/mlflow/model-versions/create"): _b(name=_name, source=_source, run_id=_run),
    ("GET", "/mlflow/model-versions/get"): _q(name=_name, version="1"),
    ("PATCH", "/mlflow/model-versions/update"): _b(name=_name, version="1", description="d"),
    ("DELETE", "/mlflow/model-versions/delete"): _b(name=_name, version="2"),
    ("POST", "/mlflow/model-versions/transition-stage"): _b(
        name=_name, version="1", stage="Production"
    ),
    ("GET", "/mlflow/model-versions/search"): _q(max_results=100),
    ("POST", "/mlflow/model-versions/search"): _b(max_results=100),
    ("GET", "/mlflow/model-versions/get-download-uri"): _q(name=_name, version="1"),
    ("POST", "/mlflow/model-versions/set-tag"): _b(name=_name, version="1", key="k", value="v"),
    ("DELETE", "/mlflow/model-versions/delete-tag"): _b(name=_name, version="1", key="k"),
    # webhooks (a user manages the ones they create)
    ("POST", "/mlflow/webhooks"): _b(
        name="h",
        url="https://93.184.215.14/x",
        events=[{"entity": "model_version", "action": "created"}],
    ),
    ("GET", "/mlflow/webhooks"): _q(max_results=100),
    ("GET", "/mlflow/webhooks/{webhook_id}"): _hook(),
    ("PATCH", "/mlflow/webhooks/{webhook_id}"): _hook({"status": "DISABLED"}),
    ("DELETE", "/mlflow/webhooks/{webhook_id}"): _hook(),
    ("POST", "/mlflow/webhooks/{webhook_id}/test"): _hook({}),
    ("GET", "/mlflow/webhooks/{webhook_id}/deliveries"): _hook(),
    ("GET", "/mlflow/server-info"): _q(),
    # workspaces (any signed-in user lists and reads them; admins change them)
    ("GET", "/mlflow/workspaces"): _q(),
    ("POST", "/mlflow/workspaces"): _b(name=lambda w: f"team-{next(_WORKSPACES)}"),
    ("GET", "/mlflow/workspaces/{workspace_name}"): _workspace("default"),
    ("PATCH", "/mlflow/workspaces/{workspace_name}"): _workspace("default", {"description": "d"}),
    ("DELETE", "/mlflow/workspaces/{workspace_name}"): _workspace("team-x"),
    # artifacts
    ("GET", "/mlflow/artifacts/list"): _q(run_id=_run),
    ("GET", "/mlflow-artifacts/artifacts/{artifact_path:path}"): _artifact("/notes.txt"),
    ("PUT", "/mlflow-artifacts/artifacts/{artifact_path:path}"): _artifact("/new.txt", b"x"),
    ("DELETE", "/mlflow-artifacts/artifacts/{artifact_path:path}"): _artifact("/notes.txt"),
    ("GET", "/mlflow-artifacts/artifacts"): lambda w: Sample(params={"path": w.run_artifacts}),
    ("POST", "/mlflow-artifacts/mpu/create/{artifact_path:path}"): _artifact(
        "", json={"path": "other.bin", "num_parts": 1}
    ),
    ("POST", "/mlflow-artifacts/mpu/complete/{artifact_path:path}"): lambda w: Sample(
        path={"artifact_path": w.run_artifacts},
        json={"path": "big.bin", "upload_id": w.upload_id, "parts": []},
    ),
    ("POST", "/mlflow-artifacts/mpu/abort/{artifact_path:path}"): lambda w: Sample(
        path={"artifact_path": w.run_artifacts}, json={"path": "big.bin", "upload_id": w.upload_id}
    ),
    ("PUT", "/mlflow-artifacts/mpu/part/{upload_id}/{part_number}"): lambda w: Sample(
        path={"upload_id": w.upload_id, "part_number": "1"}, content=b"part"
    ),
    # MLflow's users and grants
    ("POST", "/mlflow/users/create"): _b(username="newcomer", password="newcomer-password"),
    ("GET", "/mlflow/users/get"): _q(username=OWNER),
    ("GET", "/mlflow/users/current"): _q(),
    ("GET", "/mlflow/users/list"): _q(),
    ("PATCH", "/mlflow/users/update-password"): _b(username=OWNER, password="taken-over-now"),
    ("PATCH", "/mlflow/users/update-admin"): _b(username=OWNER, is_admin=True),
    ("DELETE", "/mlflow/users/delete"): _b(username=OWNER),
    ("POST", "/mlflow/users/permissions/grant"): _b(**_GRANT_TARGET, permission="MANAGE"),
    ("POST", "/mlflow/users/permissions/revoke"): _b(**_GRANT_TARGET),
    ("GET", "/mlflow/users/permissions/get"): _q(**_GRANT_TARGET),
    ("GET", "/mlflow/users/permissions/list"): _q(username=OWNER),
    ("GET", "/mlflow/users/current/permissions"): _q(),
    # mltrail's tokens, audit and sessions
    ("POST", "/mltrail/tokens/create"): _b(name="mine"),
    ("GET", "/mltrail/tokens/list"): _q(username=OWNER),
    ("POST", "/mltrail/tokens/revoke"): lambda w: Sample(json={"token_id": w.owner_token_id}),
    ("GET", "/mltrail/audit/list"): _q(max_results=100),
    ("POST", "/mltrail/auth/login"): _b(username=OWNER, password="a-wrong-password"),
    ("POST", "/mltrail/auth/logout"): _b(),
}

#: Plain routes: (method, full path) -> sample.
_PLAIN: dict[tuple[str, str], Make] = {
    ("GET", "/health"): _q(),
    ("GET", "/version"): _q(),
    ("GET", "/api/openapi.json"): _q(),
    ("GET", "/get-artifact"): _q(run_uuid=_run, path="notes.txt"),
    ("GET", "/model-versions/get-artifact"): _q(name=_name, version="1", path="MLmodel"),
    ("POST", "/graphql"): lambda w: Sample(json={"query": _graphql_query(w)}),
    ("GET", "/graphql"): lambda w: Sample(params={"query": _graphql_query(w)}),
    ("GET", "/"): _q(),
    ("GET", "/{path:path}"): lambda w: Sample(path={"path": f"experiments/{w.experiment_id}"}),
    ("*", "/assets"): _q(),
}

SAMPLES: dict[tuple[str, str], Make] = {**_ENDPOINTS, **_PLAIN}


def _sample_for(method: str, pattern: str) -> tuple[Make, str] | None:
    """The sample of a route key and the method to send it with."""
    send = "GET" if method in ("HEAD", "*") else method
    for key in ((method, pattern), (send, pattern), (send, _PREFIX.sub("", pattern))):
        if key in SAMPLES:
            return SAMPLES[key], "HEAD" if method == "HEAD" else send
    return None


def relative(pattern: str) -> str:
    """A route's path below its API version prefix (unchanged for a plain route)."""
    return _PREFIX.sub("", pattern)


def _fill(pattern: str, path: dict[str, str]) -> str:
    return _PARAM.sub(lambda m: path[m.group(1)], pattern)


def plan(
    keys: list[tuple[str, str]], world: World, asset: str = "index.html"
) -> tuple[list[Planned], list[str]]:
    """The request of every route key, and ``"METHOD path"`` of the keys without a sample."""
    planned: list[Planned] = []
    missing: list[str] = []
    for pattern, method in sorted(keys):
        found = _sample_for(method, pattern)
        if found is None:
            missing.append(f"{method} {pattern}")
            continue
        make, send = found
        sample = make(world)
        url = _fill(pattern, sample.path) if method != "*" else f"{pattern}/{asset}"
        planned.append(
            Planned(pattern, method, send, url, sample.params, sample.json, sample.content)
        )
    return planned, missing
