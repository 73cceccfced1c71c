"""Searches answer with exactly what the caller may read, in full pages.

Seven experiments, each with three runs and a logged model, and seven registered models with
two versions each, all created by the admin.  ``viewer`` may read experiments 1, 3, 4 and 6
and models ``m1``, ``m3``, ``m4``, ``m6`` (READ grants) and nothing else (NO_PERMISSIONS grants
on the rest, which matter when the server's default is READ); one logged model in a readable
experiment is withheld by its own NO_PERMISSIONS grant.  For experiments, runs, registered
models, model versions and logged models: the viewer sees exactly the readable ones; paging
with a small ``max_results`` gives full pages, no repeats and no holes; naming an unreadable
experiment in ``experiment_ids`` returns nothing from it.  Both default permissions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tests.server.auth._apps import AuthApp, Caller, open_app

READABLE = (1, 3, 4, 6)
COUNT = 7
RUNS_PER_EXPERIMENT = 3


@dataclass
class Data:
    app: AuthApp
    default: str
    experiments: dict[int, str]  # index -> experiment id
    runs: dict[str, list[str]]  # experiment id -> run ids
    logged: dict[str, str]  # model id -> experiment id
    withheld_model: str  # a logged model in a readable experiment, denied by its own grant

    def readable_experiments(self) -> set[str]:
        return {self.experiments[i] for i in READABLE}


@pytest.fixture(scope="module", params=["READ", "NO_PERMISSIONS"])
def data(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Data]:
    app = open_app(tmp_path_factory.mktemp("search"), default_permission=request.param)
    app.create_users(["viewer"])
    admin = app.admin
    experiments: dict[int, str] = {}
    runs: dict[str, list[str]] = {}
    logged: dict[str, str] = {}
    for i in range(1, COUNT + 1):
        exp = admin.ok("POST", "/api/2.0/mlflow/experiments/create", json={"name": f"e{i}"})
        exp_id = experiments[i] = exp["experiment_id"]
        runs[exp_id] = [
            admin.ok(
                "POST",
                "/api/2.0/mlflow/runs/create",
                json={"experiment_id": exp_id, "start_time": 10 * i + r},
            )["run"]["info"]["run_id"]
            for r in range(RUNS_PER_EXPERIMENT)
        ]
        model = admin.ok(
            "POST", "/api/2.0/mlflow/logged-models", json={"experiment_id": exp_id, "name": f"l{i}"}
        )["model"]["info"]
        logged[model["model_id"]] = exp_id
        name = f"m{i}"
        admin.ok("POST", "/api/2.0/mlflow/registered-models/create", json={"name": name})
        for _ in range(2):
            admin.ok(
                "POST",
                "/api/2.0/mlflow/model-versions/create",
                json={"name": name, "source": f"runs:/{runs[exp_id][0]}/model"},
            )
        permission = "READ" if i in READABLE else "NO_PERMISSIONS"
        app.grant("viewer", "experiment", exp_id, permission)
        app.grant("viewer", "registered_model", name, permission)
    withheld = admin.ok(
        "POST",
        "/api/2.0/mlflow/logged-models",
        json={"experiment_id": experiments[READABLE[0]], "name": "withheld"},
    )["model"]["info"]["model_id"]
    logged[withheld] = experiments[READABLE[0]]
    app.grant("viewer", "logged_model", withheld, "NO_PERMISSIONS")
    yield Data(app, request.param, experiments, runs, logged, withheld)
    app.close()


def _pages(caller: Caller, path: str, body: dict[str, Any], key: str, size: int) -> list[list[Any]]:
    pages: list[list[Any]] = []
    token = None
    while True:
        answer = caller.ok("POST", path, json={**body, "max_results": size, "page_token": token})
        pages.append(answer.get(key, []))
        token = answer.get("next_page_token")
        if not token:
            return pages
        assert len(pages) < 50, "paging does not end"


def _check_paging(pages: list[list[Any]], size: int, ident: Any) -> list[Any]:
    """Every page but the last is full, the last is not empty (unless it is the only one), no
    item comes twice; the items, in order."""
    assert [len(p) for p in pages[:-1]] == [size] * (len(pages) - 1)
    assert pages[-1] or len(pages) == 1
    items = [ident(x) for page in pages for x in page]
    assert len(items) == len(set(items))
    return items


@pytest.fixture(scope="module")
def viewer(data: Data) -> Caller:
    return data.app.user("viewer")


def test_experiments(data: Data, viewer: Caller) -> None:
    path = "/api/2.0/mlflow/experiments/search"
    expected = data.readable_experiments() | ({"0"} if data.default == "READ" else set())
    for size in (1, 2, 3):
        pages = _pages(viewer, path, {}, "experiments", size)
        assert set(_check_paging(pages, size, lambda e: e["experiment_id"])) == expected
    admin = _pages(data.app.admin, path, {}, "experiments", 100)[0]
    assert len(admin) == COUNT + 1


def test_runs(data: Data, viewer: Caller) -> None:
    path = "/api/2.0/mlflow/runs/search"
    everything = {"experiment_ids": list(data.runs)}
    expected = {r for e in data.readable_experiments() for r in data.runs[e]}
    for size in (2, 5):
        pages = _pages(viewer, path, everything, "runs", size)
        assert set(_check_paging(pages, size, lambda r: r["info"]["run_id"])) == expected
    # ordered searches page the same way
    ordered = {**everything, "order_by": ["attributes.start_time DESC"]}
    pages = _pages(viewer, path, ordered, "runs", 4)
    items = _check_paging(pages, 4, lambda r: (r["info"]["start_time"], r["info"]["run_id"]))
    assert [t for t, _ in items] == sorted((t for t, _ in items), reverse=True)
    assert {r for _, r in items} == expected


def test_runs_of_an_unreadable_experiment_are_not_listed(data: Data, viewer: Caller) -> None:
    path = "/api/2.0/mlflow/runs/search"
    hidden = data.experiments[2]
    answer = viewer.ok("POST", path, json={"experiment_ids": [hidden]})
    assert answer.get("runs", []) == []
    assert "next_page_token" not in answer
    mixed = viewer.ok("POST", path, json={"experiment_ids": [hidden, data.experiments[3]]})
    assert {r["info"]["experiment_id"] for r in mixed["runs"]} == {data.experiments[3]}
    assert len(data.app.admin.ok("POST", path, json={"experiment_ids": [hidden]})["runs"]) == 3


def test_registered_models(data: Data, viewer: Caller) -> None:
    path = "/api/2.0/mlflow/registered-models/search"
    expected = {f"m{i}" for i in READABLE}
    for size in (1, 3):
        pages = _pages(viewer, path, {}, "registered_models", size)
        assert set(_check_paging(pages, size, lambda m: m["name"])) == expected
    # a filter naming a hidden model finds nothing
    answer = viewer.ok("POST", path, json={"filter": "name = 'm2'"})
    assert answer.get("registered_models", []) == []


def test_model_versions(data: Data, viewer: Caller) -> None:
    path = "/api/2.0/mlflow/model-versions/search"
    expected = {(f"m{i}", str(v)) for i in READABLE for v in (1, 2)}
    for size in (3, 5):
        pages = _pages(viewer, path, {}, "model_versions", size)
        items = _check_paging(pages, size, lambda v: (v["name"], v["version"]))
        assert set(items) == expected
    answer = viewer.ok("POST", path, json={"filter": "name = 'm2'"})
    assert answer.get("model_versions", []) == []


def test_logged_models(data: Data, viewer: Caller) -> None:
    path = "/api/2.0/mlflow/logged-models/search"
    everything = {"experiment_ids": sorted(set(data.logged.values()))}
    readable = data.readable_experiments()
    expected = {m for m, e in data.logged.items() if e in readable} - {data.withheld_model}
    for size in (1, 2):
        pages = _pages(viewer, path, everything, "models", size)
        assert set(_check_paging(pages, size, lambda m: m["info"]["model_id"])) == expected
    hidden = viewer.ok("POST", path, json={"experiment_ids": [data.experiments[2]]})
    assert hidden.get("models", []) == []
    # the withheld model is refused directly too, while its experiment's others are readable
    refused = viewer.get(f"/api/2.0/mlflow/logged-models/{data.withheld_model}")
    assert refused.status_code == 403
    other = next(iter(expected))
    assert viewer.get(f"/api/2.0/mlflow/logged-models/{other}").status_code == 200
