"""Conformance: model versions (numbering, sources, stages, tags, copies) on every backend."""

from __future__ import annotations

import threading

import pytest

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities import ModelVersionTag
from mltrail.store.sql import SqlBackend


def test_versions_are_numbered_from_one_per_model(store: SqlBackend, run_id: str) -> None:
    store.registry.create_registered_model("a")
    store.registry.create_registered_model("b")
    assert [
        store.registry.create_model_version("a", f"runs:/{run_id}/m").version for _ in range(3)
    ] == [
        1,
        2,
        3,
    ]
    assert store.registry.create_model_version("b", f"runs:/{run_id}/m").version == 1
    # numbers of deleted versions are not reused
    store.registry.delete_model_version("a", 3)
    assert store.registry.create_model_version("a", f"runs:/{run_id}/m").version == 4


def test_create_and_get_version(store: SqlBackend, run_id: str) -> None:
    store.registry.create_registered_model("m")
    mv = store.registry.create_model_version(
        "m",
        f"runs:/{run_id}/model",
        run_id,
        [ModelVersionTag("pre_deploy_checks", "PASSED")],
        run_link="http://example.com/run",
        description="first",
    )
    assert (mv.name, mv.version, mv.status, mv.current_stage) == ("m", 1, "READY", "None")
    assert (mv.run_id, mv.source, mv.description) == (run_id, f"runs:/{run_id}/model", "first")
    assert mv.tags == {"pre_deploy_checks": "PASSED"}
    assert mv.run_link == "http://example.com/run"
    got = store.registry.get_model_version("m", "1")
    assert got == mv
    # the run is linked even when only the source names it
    assert store.registry.create_model_version("m", f"runs:/{run_id}/model").run_id == run_id
    with pytest.raises(NotFound, match=r"Model Version \(name=m, version=9\) not found"):
        store.registry.get_model_version("m", 9)
    with pytest.raises(NotFound, match="name=nope not found"):
        store.registry.create_model_version("nope", f"runs:/{run_id}/model")
    for bad in ("x", "0", "-1", True):
        with pytest.raises(InvalidArgument, match="version"):
            store.registry.get_model_version("m", bad)  # type: ignore[arg-type]


def test_download_uri_is_inside_the_run_artifacts(store: SqlBackend, run_id: str) -> None:
    artifact_uri = store.runs.get_run(run_id).info.artifact_uri
    store.registry.create_registered_model("m")
    store.registry.create_model_version("m", f"runs:/{run_id}/sub/model")
    assert store.registry.get_model_version_download_uri("m", 1) == f"{artifact_uri}/sub/model"
    store.registry.create_model_version("m", f"{artifact_uri}/model", run_id)
    assert store.registry.get_model_version_download_uri("m", 2) == f"{artifact_uri}/model"
    # from another registered version: the same files
    store.registry.create_registered_model("copy")
    store.registry.create_model_version("copy", "models:/m/1")
    assert store.registry.get_model_version_download_uri("copy", 1) == f"{artifact_uri}/sub/model"
    assert store.registry.get_model_version("copy", 1).run_id == run_id


def test_sources_from_models_uris(store: SqlBackend, run_id: str) -> None:
    store.registry.create_registered_model("m")
    store.registry.create_model_version("m", f"runs:/{run_id}/a")
    store.registry.create_model_version("m", f"runs:/{run_id}/b")
    store.registry.set_registered_model_alias("m", "champion", 1)
    store.registry.transition_model_version_stage("m", 2, "Staging")
    store.registry.create_registered_model("n")
    base = store.runs.get_run(run_id).info.artifact_uri
    for source, expected in (
        ("models:/m/1", f"{base}/a"),
        ("models:/m@champion", f"{base}/a"),
        ("models:/m/staging", f"{base}/b"),
        ("models:/m/latest", f"{base}/b"),
        ("models:/m/1/sub", f"{base}/a/sub"),
    ):
        mv = store.registry.create_model_version("n", source)
        assert store.registry.get_model_version_download_uri("n", mv.version) == expected, source
    with pytest.raises(NotFound, match="stage Production"):
        store.registry.create_model_version("n", "models:/m/Production")
    with pytest.raises(InvalidArgument, match="stage"):
        store.registry.create_model_version("n", "models:/m/Nonsense")
    with pytest.raises(NotFound, match="alias gone"):
        store.registry.create_model_version("n", "models:/m@gone")


def test_source_traversal_forms_are_refused(store: SqlBackend, run_id: str) -> None:
    base = store.runs.get_run(run_id).info.artifact_uri
    local = base.removeprefix("file://")
    store.registry.create_registered_model("m")
    store.registry.create_model_version("m", f"runs:/{run_id}/model")  # models:/m/1 exists
    refused = [
        "/etc/passwd",
        "file:///etc/passwd",
        "file:/etc/passwd",
        "file://localhost/etc/passwd",
        "etc/passwd",
        "",
        "   ",
        "//proc/self/root/etc/passwd",
        f"{base}/../../other-run/artifacts",
        f"{base}/%2e%2e/%2e%2e/x",
        f"{base}/%252e%252e/x",
        f"{base}/%25252e%25252e/x",
        f"{base}/..%2fx",
        f"{base}/a/..\\..\\x",
        f"{base}/a;/../../x",
        f"{base}/a#/../../x",
        f"{base}/a?x=/../../",
        f"{local}/../../../etc",
        f"{base}X/model",
        f"runs:/{run_id}/../../other",
        f"runs:/{run_id}/%2e%2e/other",
        f"runs:/{run_id}//etc/passwd",
        f"runs:/{run_id}/C:/windows",
        "runs:/../../etc/passwd",
        "models:/m/1/../../../etc",
        "models:/m/1/%2e%2e/x",
    ]
    for source in refused:
        with pytest.raises(InvalidArgument):
            store.registry.create_model_version("m", source, run_id)
    # without run_id a local location is refused outright
    with pytest.raises(InvalidArgument, match="To use a local path as a model version source"):
        store.registry.create_model_version("m", f"{base}/model")
    with pytest.raises(InvalidArgument, match="names run"):
        store.registry.create_model_version("m", f"runs:/{run_id}/model", "0" * 32)
    # the spellings of the same run location are accepted
    for ok in (f"{base}/model", f"{local}/model", f"{base}/", base):
        store.registry.create_model_version("m", ok, run_id)
    assert [v.version for v in store.registry.search_model_versions("name = 'm'")] == [
        5,
        4,
        3,
        2,
        1,
    ]


REMOTE_SOURCES = [
    "s3://bucket/path/model",
    "gs://bucket/path/model",
    "wasbs://container@account.blob.core.windows.net/path/model",
    "hdfs://namenode:8020/path/model",
    "dbfs:/databricks/mlflow/model",
    "http://host:9000/models/model",
    "s3://bucket/models/artifact/..../",
]


@pytest.mark.parametrize("source", REMOTE_SOURCES)
def test_a_remote_source_is_kept_as_given(store: SqlBackend, run_id: str, source: str) -> None:
    """As MLflow: the server never reads a remote source, so it checks only that its path does
    not climb; with or without run_id, whether or not this server has that run."""
    store.registry.create_registered_model("m")
    for linked in (None, run_id, "f" * 32):
        mv = store.registry.create_model_version("m", source, linked)
        assert (mv.source, mv.run_id) == (source, linked)
        assert store.registry.get_model_version_download_uri("m", mv.version) == source


@pytest.mark.parametrize(
    "source",
    [
        "s3://bucket/models/../../../",
        "s3a://my_bucket/api/2.0/mlflow-artifacts/artifacts/../../../",
        "ftp://host:8888/api/2.0/mlflow-artifacts/artifacts/../../../",
        "http://host:9000/models/../../../",
        "gs://bucket/models/..%2f..%2fartifacts",
        "gs://bucket/models/%252e%252e/x",
        "hdfs://nn/models/./x",
        "wasbs://c@a.blob.core.windows.net/models/artifact%00",
        "dbfs:/run/artifacts/a%3f/../../../../",
    ],
)
def test_a_remote_source_that_climbs_is_refused(
    store: SqlBackend, run_id: str, source: str
) -> None:
    store.registry.create_registered_model("m")
    with pytest.raises(InvalidArgument, match="If supplying a source as an http, https"):
        store.registry.create_model_version("m", source, run_id)


def test_a_run_tracked_elsewhere_is_a_source_as_given(store: SqlBackend, run_id: str) -> None:
    """A registry apart from tracking: runs:/ of a run this server does not have is kept as
    given (MLflow checks neither); a run_id beside it must still name the same run."""
    elsewhere = "e" * 32
    store.registry.create_registered_model("m")
    mv = store.registry.create_model_version("m", f"runs:/{elsewhere}/model")
    assert (mv.source, mv.run_id) == (f"runs:/{elsewhere}/model", elsewhere)
    assert store.registry.get_model_version_download_uri("m", 1) == f"runs:/{elsewhere}/model"
    assert store.registry.create_model_version("m", f"runs:/{elsewhere}/m", elsewhere).version == 2
    with pytest.raises(InvalidArgument, match="names run"):
        store.registry.create_model_version("m", f"runs:/{elsewhere}/model", run_id)
    with pytest.raises(InvalidArgument, match="names run"):
        store.registry.create_model_version("m", f"runs:/{run_id}/model", elsewhere)
    # local and proxied sources are read by the server: their run must be here
    base = store.runs.get_run(run_id).info.artifact_uri
    for source in (f"{base}/model", "mlflow-artifacts:/1/x/artifacts/model"):
        with pytest.raises(InvalidArgument, match="names no run of this server"):
            store.registry.create_model_version("m", source, elsewhere)


def test_a_logged_models_location_is_a_source_with_its_model_id(
    store: SqlBackend, run_id: str
) -> None:
    """As MLflow 3: a location inside the artifacts of the logged model given as model_id."""
    model = store.logged_models.create_logged_model("0", "clf", source_run_id=run_id)
    other = store.logged_models.create_logged_model("0", "other", source_run_id=run_id)
    location = model.artifact_location
    store.registry.create_registered_model("m")
    mv = store.registry.create_model_version("m", location, run_id, model_id=model.model_id)
    assert (mv.source, mv.model_id, mv.run_id) == (location, model.model_id, run_id)
    assert store.registry.get_model_version_download_uri("m", mv.version) == location
    # without run_id, the model's source run is linked
    below = store.registry.create_model_version("m", f"{location}/sub", model_id=model.model_id)
    assert below.run_id == run_id
    assert store.registry.get_model_version_download_uri("m", below.version) == f"{location}/sub"
    # the location of another model, no model id, or a climb out: refused
    for source, model_id in (
        (location, other.model_id),
        (location, None),
        (f"{location}/../../x", model.model_id),
        (f"{location}/%2e%2e/x", model.model_id),
    ):
        with pytest.raises(InvalidArgument):
            store.registry.create_model_version("m", source, model_id=model_id)
    with pytest.raises(InvalidArgument, match="no logged model"):
        store.registry.create_model_version("m", location, model_id="m-" + "0" * 32)


def test_update_and_delete_version(store: SqlBackend, run_id: str) -> None:
    store.registry.create_registered_model("m")
    store.registry.create_model_version("m", f"runs:/{run_id}/model", description="a")
    assert store.registry.update_model_version("m", 1, "b").description == "b"
    assert store.registry.get_model_version("m", 1).description == "b"
    store.registry.delete_model_version("m", 1)
    with pytest.raises(NotFound):
        store.registry.get_model_version("m", 1)
    with pytest.raises(NotFound):
        store.registry.delete_model_version("m", 1)


def test_version_tags(store: SqlBackend, run_id: str) -> None:
    store.registry.create_registered_model("m")
    store.registry.create_model_version("m", f"runs:/{run_id}/model")
    store.registry.set_model_version_tag("m", 1, ModelVersionTag("pre_deploy_checks", "PENDING"))
    store.registry.set_model_version_tag("m", "1", ModelVersionTag("pre_deploy_checks", "PASSED"))
    store.registry.set_model_version_tag("m", 1, ModelVersionTag("k", "v"))
    assert store.registry.get_model_version("m", 1).tags == {
        "pre_deploy_checks": "PASSED",
        "k": "v",
    }
    store.registry.delete_model_version_tag("m", 1, "k")
    assert store.registry.get_model_version("m", 1).tags == {"pre_deploy_checks": "PASSED"}
    with pytest.raises(NotFound):
        store.registry.set_model_version_tag("m", 2, ModelVersionTag("k", "v"))
    with pytest.raises(InvalidArgument, match="100000"):
        store.registry.set_model_version_tag("m", 1, ModelVersionTag("k", "x" * 100_001))


def test_stages_and_archive_existing_versions(store: SqlBackend, run_id: str) -> None:
    store.registry.create_registered_model("m")
    for _ in range(4):
        store.registry.create_model_version("m", f"runs:/{run_id}/model")
    assert store.registry.transition_model_version_stage("m", 1, "production").current_stage == (
        "Production"
    )
    store.registry.transition_model_version_stage("m", 2, "Production")
    store.registry.transition_model_version_stage("m", 3, "Staging")
    moved = store.registry.transition_model_version_stage("m", 4, "Production", True)
    assert moved.current_stage == "Production"
    stages = {v.version: v.current_stage for v in store.registry.search_model_versions("name='m'")}
    assert stages == {1: "Archived", 2: "Archived", 3: "Staging", 4: "Production"}
    with pytest.raises(InvalidArgument, match="Invalid Model Version stage"):
        store.registry.transition_model_version_stage("m", 1, "Deployed")
    with pytest.raises(InvalidArgument, match="not an Active stage"):
        store.registry.transition_model_version_stage("m", 1, "Archived", True)
    store.registry.transition_model_version_stage("m", 1, "None")
    assert store.registry.get_model_version("m", 1).current_stage == "None"


def test_latest_versions(store: SqlBackend, run_id: str) -> None:
    store.registry.create_registered_model("m")
    for _ in range(5):
        store.registry.create_model_version("m", f"runs:/{run_id}/model")
    store.registry.transition_model_version_stage("m", 1, "Production")
    store.registry.transition_model_version_stage("m", 2, "Production")
    store.registry.transition_model_version_stage("m", 3, "Staging")
    latest = store.registry.get_latest_versions("m")
    assert {v.current_stage: v.version for v in latest} == {
        "None": 5,
        "Staging": 3,
        "Production": 2,
    }
    assert [v.version for v in store.registry.get_latest_versions("m", ["production"])] == [2]
    assert [
        v.version for v in store.registry.get_latest_versions("m", ["Staging", "Production"])
    ] == [3, 2]
    assert store.registry.get_latest_versions("m", ["Archived"]) == []
    model = store.registry.get_registered_model("m")
    assert {v.current_stage: v.version for v in model.latest_versions} == {
        "None": 5,
        "Staging": 3,
        "Production": 2,
    }
    with pytest.raises(InvalidArgument, match="stage"):
        store.registry.get_latest_versions("m", ["Nope"])


def test_copy_model_version(store: SqlBackend, run_id: str) -> None:
    store.registry.create_registered_model("src")
    store.registry.create_model_version(
        "src", f"runs:/{run_id}/model", tags=[ModelVersionTag("k", "v")], description="d"
    )
    src = store.registry.get_model_version("src", 1)
    copied = store.registry.copy_model_version(src, "dst")  # creates dst
    assert (copied.name, copied.version, copied.source) == ("dst", 1, "models:/src/1")
    assert (copied.run_id, copied.tags, copied.description) == (run_id, {"k": "v"}, "d")
    assert store.registry.copy_model_version(src, "dst").version == 2
    assert store.registry.get_model_version_download_uri(
        "dst", 1
    ) == store.registry.get_model_version_download_uri("src", 1)
    # the copy keeps its files when the original goes away
    store.registry.delete_registered_model("src")
    assert store.registry.get_model_version_download_uri("dst", 1).endswith("/artifacts/model")


def test_versions_made_from_a_run(store: SqlBackend, run_id: str) -> None:
    other = store.runs.create_run("0", "bob", 1, [], "other").info.run_id
    store.registry.create_registered_model("a")
    store.registry.create_registered_model("b")
    store.registry.create_model_version("a", f"runs:/{run_id}/model")
    store.registry.create_model_version("b", f"runs:/{run_id}/model")
    store.registry.create_model_version("b", f"runs:/{other}/model")
    found = store.registry.search_model_versions(f"run_id = '{run_id}'")
    assert sorted((v.name, v.version) for v in found) == [("a", 1), ("b", 1)]


@pytest.mark.slow
def test_concurrent_registrations_get_distinct_numbers(store: SqlBackend, run_id: str) -> None:
    store.registry.create_registered_model("m")
    numbers: list[int] = []
    errors: list[BaseException] = []

    def register() -> None:
        try:
            for _ in range(5):
                numbers.append(
                    store.registry.create_model_version("m", f"runs:/{run_id}/m").version
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers) == list(range(1, 21))
