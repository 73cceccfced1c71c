"""Conformance: searching registered models and versions (filters, order, cursor pages)."""

from __future__ import annotations

import pytest

from mltrail._exceptions import InvalidArgument
from mltrail.entities import ModelVersionTag, RegisteredModelTag
from mltrail.store.sql import SqlBackend


@pytest.fixture
def models(store: SqlBackend, run_id: str) -> SqlBackend:
    for name, team in (("churn", "risk"), ("churn-v2", "risk"), ("fraud", "ops"), ("Ads", None)):
        tags = [RegisteredModelTag("team", team)] if team else []
        store.registry.create_registered_model(name, tags)
    for name, count in (("churn", 3), ("fraud", 2), ("Ads", 1)):
        for _ in range(count):
            store.registry.create_model_version(name, f"runs:/{run_id}/model")
    store.registry.set_model_version_tag("churn", 2, ModelVersionTag("pre_deploy_checks", "PASSED"))
    store.registry.set_model_version_tag("fraud", 1, ModelVersionTag("pre_deploy_checks", "FAILED"))
    store.registry.transition_model_version_stage("churn", 3, "Production")
    return store


def _names(page: list[object]) -> list[str]:
    return [m.name for m in page]  # type: ignore[attr-defined]


def _versions(page: list[object]) -> list[tuple[str, int]]:
    return [(v.name, v.version) for v in page]  # type: ignore[attr-defined]


def test_search_registered_models_filters(models: SqlBackend) -> None:
    s = models
    assert _names(s.registry.search_registered_models()) == ["Ads", "churn", "churn-v2", "fraud"]
    assert _names(s.registry.search_registered_models("name = 'fraud'")) == ["fraud"]
    assert _names(s.registry.search_registered_models("name LIKE 'churn%'")) == [
        "churn",
        "churn-v2",
    ]
    assert _names(s.registry.search_registered_models("name ILIKE 'ADS'")) == ["Ads"]
    assert _names(s.registry.search_registered_models("name LIKE 'ADS'")) == []
    assert _names(s.registry.search_registered_models("tags.team = 'risk'")) == [
        "churn",
        "churn-v2",
    ]
    assert _names(s.registry.search_registered_models("tags.team IS NULL")) == ["Ads"]
    assert _names(s.registry.search_registered_models("name = 'fraud' OR tags.team = 'risk'")) == [
        "churn",
        "churn-v2",
        "fraud",
    ]
    assert _names(
        s.registry.search_registered_models("(name LIKE 'c%' OR name = 'Ads') AND tags.team != 'x'")
    ) == ["churn", "churn-v2"]
    assert _names(s.registry.search_registered_models("name IN ('Ads', 'fraud')")) == [
        "Ads",
        "fraud",
    ]
    found = s.registry.search_registered_models("name = 'churn'")[0]
    assert {v.current_stage: v.version for v in found.latest_versions} == {
        "None": 2,
        "Production": 3,
    }


def test_search_registered_models_order_and_pages(models: SqlBackend) -> None:
    s = models
    assert _names(s.registry.search_registered_models(order_by=["name DESC"])) == [
        "fraud",
        "churn-v2",
        "churn",
        "Ads",
    ]
    by_update = s.registry.search_registered_models(order_by=["last_updated_timestamp DESC"])
    stamps = [m.last_updated_timestamp or 0 for m in by_update]
    assert stamps == sorted(stamps, reverse=True)
    seen: list[str] = []
    token = None
    while True:
        page = s.registry.search_registered_models(max_results=1, page_token=token)
        seen += _names(page)
        token = page.token
        if token is None:
            break
    assert seen == ["Ads", "churn", "churn-v2", "fraud"]
    # a page ends exactly at the last row: no empty extra page
    page = s.registry.search_registered_models(max_results=4)
    assert page.token is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filter_string": "nonsense = 'x'"}, "nonsense"),
        ({"filter_string": "name = "}, "expected a value"),
        ({"filter_string": "metrics.x > 1"}, "metric"),
        ({"max_results": 0}, "max_results"),
        ({"max_results": 1001}, "max_results"),
        ({"order_by": ["size DESC"]}, "size"),
        ({"order_by": ["name", "name DESC"]}, "duplicate"),
        ({"page_token": "garbage"}, "page_token"),
    ],
)
def test_search_registered_models_errors(
    models: SqlBackend, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        models.registry.search_registered_models(**kwargs)  # type: ignore[arg-type]


def test_search_model_versions_filters(models: SqlBackend, run_id: str) -> None:
    s = models
    assert len(s.registry.search_model_versions()) == 6
    assert sorted(_versions(s.registry.search_model_versions("name = 'churn'"))) == [
        ("churn", 1),
        ("churn", 2),
        ("churn", 3),
    ]
    assert _versions(s.registry.search_model_versions("tags.pre_deploy_checks = 'PASSED'")) == [
        ("churn", 2)
    ]
    assert sorted(
        _versions(
            s.registry.search_model_versions("name = 'Ads' OR tags.pre_deploy_checks = 'FAILED'")
        )
    ) == [("Ads", 1), ("fraud", 1)]
    assert _versions(
        s.registry.search_model_versions("name = 'churn' AND version_number >= 3")
    ) == [("churn", 3)]
    assert _versions(s.registry.search_model_versions("current_stage = 'production'")) == [
        ("churn", 3)
    ]
    assert len(s.registry.search_model_versions(f"run_id = '{run_id}'")) == 6
    assert len(s.registry.search_model_versions("source_path LIKE 'runs:/%'")) == 6
    assert s.registry.search_model_versions("name = 'nope'") == []
    with pytest.raises(InvalidArgument, match="max_results"):
        s.registry.search_model_versions(max_results=0)


def test_search_model_versions_order_and_pages(models: SqlBackend) -> None:
    s = models
    ordered = _versions(
        s.registry.search_model_versions(order_by=["name ASC", "version_number DESC"])
    )
    assert ordered == [
        ("Ads", 1),
        ("churn", 3),
        ("churn", 2),
        ("churn", 1),
        ("fraud", 2),
        ("fraud", 1),
    ]
    seen: list[tuple[str, int]] = []
    token = None
    while True:
        page = s.registry.search_model_versions(
            order_by=["name ASC", "version_number DESC"], max_results=4, page_token=token
        )
        seen += _versions(page)
        token = page.token
        if token is None:
            break
    assert seen == ordered
    # default order: newest update first
    stamps = [v.last_updated_timestamp or 0 for v in s.registry.search_model_versions()]
    assert stamps == sorted(stamps, reverse=True)
    with pytest.raises(InvalidArgument, match="page_token"):
        s.registry.search_model_versions(
            page_token=s.registry.search_registered_models(max_results=1).token
        )


def test_search_one_models_versions_by_name(models: SqlBackend) -> None:
    """``name = '...'`` (alone or ANDed) reads one model's versions: same rows, order, pages,
    tags and aliases as any other search, and the name still compares exactly."""
    s = models
    s.registry.set_registered_model_alias("churn", "champion", 1)
    s.registry.set_registered_model_alias("churn", "backup", 1)
    for order in (["version_number DESC"], ["version_number ASC"], ["creation_timestamp DESC"]):
        pages: list[tuple[str, int]] = []
        token = None
        while True:
            page = s.registry.search_model_versions(
                "name = 'churn'", max_results=2, order_by=order, page_token=token
            )
            pages += _versions(page)
            token = page.token
            if token is None:
                break
        assert pages == _versions(
            s.registry.search_model_versions("name LIKE 'churn'", order_by=order)
        )
        assert sorted(pages) == [("churn", 1), ("churn", 2), ("churn", 3)]
    newest_first = s.registry.search_model_versions(
        "name = 'churn'", order_by=["version_number DESC"]
    )
    assert [v.version for v in newest_first] == [3, 2, 1]
    by_version = {v.version: v for v in newest_first}
    assert by_version[2].tags == {"pre_deploy_checks": "PASSED"}
    assert by_version[1].aliases == ["backup", "champion"]
    assert by_version[3].tags == {}
    assert by_version[3].aliases == []
    assert by_version[3].current_stage == "Production"
    # each version owns its tags and aliases: changing one's leaves the others' alone
    by_version[3].tags["x"] = "1"
    by_version[3].aliases.append("y")
    assert by_version[2].tags == {"pre_deploy_checks": "PASSED"}
    assert by_version[1].aliases == ["backup", "champion"]
    by_version[2].tags["z"] = "2"
    again = {v.version: v for v in s.registry.search_model_versions("name = 'churn'")}
    assert again[3].tags == {}
    assert again[3].aliases == []
    assert again[2].tags == {"pre_deploy_checks": "PASSED"}
    assert again == {**by_version, 3: again[3], 2: again[2]}
    both = "name = 'churn' AND tags.pre_deploy_checks = 'PASSED'"
    assert _versions(s.registry.search_model_versions(both)) == [("churn", 2)]
    assert _versions(s.registry.search_model_versions("name = 'churn' AND name = 'fraud'")) == []
    assert s.registry.search_model_versions("name = 'CHURN'") == []
    either = s.registry.search_model_versions(
        "name = 'churn' OR name = 'Ads'", order_by=["name ASC"]
    )
    assert _versions(either) == [("Ads", 1), ("churn", 3), ("churn", 2), ("churn", 1)]


def test_search_arguments_of_the_wrong_type(models: SqlBackend) -> None:
    """Arguments that cannot key the statement cache still get the parser's clear error."""
    s = models
    with pytest.raises(InvalidArgument, match="filter"):
        s.registry.search_model_versions(["name = 'churn'"])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="order_by"):
        s.registry.search_model_versions(order_by=[["name"]])  # type: ignore[list-item]
    with pytest.raises(InvalidArgument, match="filter"):
        s.registry.search_registered_models({"name": "churn"})  # type: ignore[arg-type]


def test_mlflow_clients_prompt_filter_keeps_models(store: SqlBackend, run_id: str) -> None:
    """MLflow's client adds ``tags.`mlflow.prompt.is_prompt` != 'true'`` to every search."""
    store.registry.create_registered_model("model")
    store.registry.create_registered_model(
        "prompt", [RegisteredModelTag("mlflow.prompt.is_prompt", "true")]
    )
    store.registry.create_model_version("model", f"runs:/{run_id}/m")
    not_prompt = "tags.`mlflow.prompt.is_prompt` != 'true'"
    assert _names(store.registry.search_registered_models(not_prompt)) == ["model"]
    assert _names(
        store.registry.search_registered_models("tag.`mlflow.prompt.is_prompt` = 'false'")
    ) == ["model"]
    assert _names(
        store.registry.search_registered_models("tags.`mlflow.prompt.is_prompt` = 'true'")
    ) == ["prompt"]
    assert _versions(store.registry.search_model_versions(f"name = 'model' AND {not_prompt}")) == [
        ("model", 1)
    ]
    # other tags keep the SQL meaning: != needs the tag to be there
    assert _names(store.registry.search_registered_models("tags.team != 'x'")) == []
