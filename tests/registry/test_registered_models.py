"""Conformance: registered models (create, read, rename, describe, delete, tags, aliases)."""

from __future__ import annotations

import pytest

from mltrail._exceptions import AlreadyExists, InvalidArgument, NotFound
from mltrail.entities import RegisteredModelTag
from mltrail.store.sql import SqlBackend


def test_create_and_get(store: SqlBackend) -> None:
    created = store.registry.create_registered_model(
        "churn", [RegisteredModelTag("team", "risk")], "predicts churn"
    )
    assert (created.name, created.description, created.tags) == (
        "churn",
        "predicts churn",
        {"team": "risk"},
    )
    assert created.creation_timestamp == created.last_updated_timestamp
    assert created.creation_timestamp is not None
    got = store.registry.get_registered_model("churn")
    assert got == created
    assert got.latest_versions == []
    assert got.aliases == {}


def test_duplicate_names_are_refused_after_normalisation(store: SqlBackend) -> None:
    store.registry.create_registered_model("churn model")
    with pytest.raises(AlreadyExists, match=r"already exists"):
        store.registry.create_registered_model("churn model")
    for spelling in ("churn%20model", "churn%2520model", "churn%252520model"):
        with pytest.raises(AlreadyExists, match="names the same model as 'churn model'"):
            store.registry.create_registered_model(spelling)
    # NFKC: a full-width letter is the same name.
    store.registry.create_registered_model("\uff21B")
    with pytest.raises(AlreadyExists):
        store.registry.create_registered_model("AB")
    names = [m.name for m in store.registry.search_registered_models()]
    assert names == ["churn model", "\uff21B"]


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "non-empty"),
        ("   ", "non-empty"),
        ("a/b", "cannot contain '/'"),
        ("a%2Fb", "cannot contain '/'"),
        ("a:b", "cannot contain"),
        ("a\x00b", "control characters|NUL characters"),
        ("..", "not a usable name"),
        ("%2e%2e", "not a usable name"),
        ("x" * 257, "256"),
    ],
)
def test_invalid_names(store: SqlBackend, name: str, rule: str) -> None:
    with pytest.raises(InvalidArgument, match=rule):
        store.registry.create_registered_model(name)


def test_not_found(store: SqlBackend) -> None:
    for call in (
        lambda: store.registry.get_registered_model("nope"),
        lambda: store.registry.update_registered_model("nope", "d"),
        lambda: store.registry.rename_registered_model("nope", "other"),
        lambda: store.registry.delete_registered_model("nope"),
        lambda: store.registry.set_registered_model_tag("nope", RegisteredModelTag("k", "v")),
        lambda: store.registry.delete_registered_model_tag("nope", "k"),
        lambda: store.registry.get_latest_versions("nope"),
    ):
        with pytest.raises(NotFound, match="name=nope not found"):
            call()


def test_encoded_name_reaches_the_same_model(store: SqlBackend) -> None:
    store.registry.create_registered_model("my model")
    assert store.registry.get_registered_model("my%20model").name == "my model"


def test_update_description(store: SqlBackend) -> None:
    before = store.registry.create_registered_model("m", description="old")
    after = store.registry.update_registered_model("m", "new")
    assert after.description == "new"
    assert after.last_updated_timestamp is not None
    assert before.last_updated_timestamp is not None
    assert after.last_updated_timestamp >= before.last_updated_timestamp
    assert store.registry.get_registered_model("m").description == "new"
    with pytest.raises(InvalidArgument, match="description"):
        store.registry.update_registered_model("m", 5)  # type: ignore[arg-type]


def test_rename_keeps_versions_tags_and_aliases(store: SqlBackend, run_id: str) -> None:
    store.registry.create_registered_model("old", [RegisteredModelTag("k", "v")])
    store.registry.create_model_version("old", f"runs:/{run_id}/model")
    store.registry.set_registered_model_alias("old", "champion", 1)
    renamed = store.registry.rename_registered_model("old", "new")
    assert renamed.name == "new"
    assert renamed.tags == {"k": "v"}
    assert renamed.aliases == {"champion": 1}
    assert [v.name for v in renamed.latest_versions] == ["new"]
    assert store.registry.get_model_version("new", 1).name == "new"
    with pytest.raises(NotFound):
        store.registry.get_registered_model("old")
    store.registry.create_registered_model("taken")
    with pytest.raises(AlreadyExists):
        store.registry.rename_registered_model("new", "taken")
    with pytest.raises(AlreadyExists, match="names the same model as 'taken'"):
        store.registry.rename_registered_model("new", "tak%65n")
    with pytest.raises(InvalidArgument, match="cannot contain '/'"):
        store.registry.rename_registered_model("new", "a/b")


def test_delete_removes_versions_tags_and_aliases(store: SqlBackend, run_id: str) -> None:
    store.registry.create_registered_model("m", [RegisteredModelTag("k", "v")])
    store.registry.create_model_version("m", f"runs:/{run_id}/model")
    store.registry.set_registered_model_alias("m", "a", 1)
    store.registry.delete_registered_model("m")
    with pytest.raises(NotFound):
        store.registry.get_registered_model("m")
    assert list(store.registry.search_model_versions()) == []
    again = store.registry.create_registered_model("m")
    assert again.tags == {}
    assert store.registry.create_model_version("m", f"runs:/{run_id}/model").version == 1


def test_tags(store: SqlBackend) -> None:
    store.registry.create_registered_model("m")
    store.registry.set_registered_model_tag("m", RegisteredModelTag("k", "v1"))
    store.registry.set_registered_model_tag("m", RegisteredModelTag("k", "v2"))
    store.registry.set_registered_model_tag("m", RegisteredModelTag("other", ""))
    assert store.registry.get_registered_model("m").tags == {"k": "v2", "other": ""}
    store.registry.delete_registered_model_tag("m", "k")
    store.registry.delete_registered_model_tag("m", "never-set")
    assert store.registry.get_registered_model("m").tags == {"other": ""}
    long_value = "x" * 100_000
    store.registry.set_registered_model_tag("m", RegisteredModelTag("long", long_value))
    assert store.registry.get_registered_model("m").tags["long"] == long_value
    with pytest.raises(InvalidArgument, match="100000"):
        store.registry.set_registered_model_tag("m", RegisteredModelTag("long", long_value + "x"))
    with pytest.raises(InvalidArgument):
        store.registry.set_registered_model_tag("m", RegisteredModelTag("../k", "v"))


def test_aliases(store: SqlBackend, run_id: str) -> None:
    store.registry.create_registered_model("m")
    for _ in range(3):
        store.registry.create_model_version("m", f"runs:/{run_id}/model")
    store.registry.set_registered_model_alias("m", "champion", 1)
    store.registry.set_registered_model_alias("m", "challenger", "2")
    store.registry.set_registered_model_alias("m", "also-two", 2)
    assert store.registry.get_registered_model("m").aliases == {
        "also-two": 2,
        "challenger": 2,
        "champion": 1,
    }
    assert store.registry.get_model_version("m", 2).aliases == ["also-two", "challenger"]
    assert store.registry.get_model_version_by_alias("m", "champion").version == 1
    # one version per alias: setting it again moves it
    store.registry.set_registered_model_alias("m", "champion", 3)
    assert store.registry.get_model_version_by_alias("m", "champion").version == 3
    assert store.registry.get_model_version("m", 1).aliases == []
    store.registry.delete_registered_model_alias("m", "champion")
    with pytest.raises(NotFound, match="alias champion not found"):
        store.registry.get_model_version_by_alias("m", "champion")
    with pytest.raises(NotFound, match="not found"):
        store.registry.set_registered_model_alias("m", "x", 99)
    # deleting a version drops its aliases
    store.registry.delete_model_version("m", 2)
    assert store.registry.get_registered_model("m").aliases == {}


@pytest.mark.parametrize(
    ("alias", "rule"),
    [
        ("", "cannot be empty"),
        ("a b", "alphanumerics"),
        ("a/b", "alphanumerics"),
        ("latest", "reserved"),
        ("LATEST", "reserved"),
        ("v1", "reserved"),
        ("V12", "reserved"),
        ("a" * 256, "255"),
    ],
)
def test_invalid_aliases(store: SqlBackend, run_id: str, alias: str, rule: str) -> None:
    store.registry.create_registered_model("m")
    store.registry.create_model_version("m", f"runs:/{run_id}/model")
    with pytest.raises(InvalidArgument, match=rule):
        store.registry.set_registered_model_alias("m", alias, 1)
