"""Helpers of the import tests: a source store filled with one of everything, and a
point-by-point comparison of two stores through their public interfaces."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mltrail.artifacts import get_artifact_repository
from mltrail.entities import (
    Dataset,
    DatasetInput,
    ExperimentTag,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    ModelVersionTag,
    Param,
    RegisteredModelTag,
    RunTag,
    ViewType,
)
from mltrail.entities._logged_model import LoggedModelMetric
from mltrail.store import Backend
from mltrail.store.sql import SqlBackend
from mltrail.store.sql._engine import create_db_engine
from mltrail.store.sql._schema import metadata

assert SqlBackend  # its parts register every table on the schema's metadata

#: The time the test data says it was logged at (ms since the epoch): fixed, no clock.
NOW = 1_700_000_000_000

SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-300, 1.5]


def fill(backend: Backend, tmp: Path, *, runs: int = 3, prefix: str = "exp") -> dict[str, Any]:
    """Two experiments (one deleted), runs with params, tags, metric histories with NaN and
    infinities, a parent and a child, a deleted run, datasets, a logged model linked to its
    run, a registered model with two versions, tags, an alias and a stage, and artifacts."""
    now = NOW
    exp = backend.experiments.create_experiment(
        f"{prefix}-a", tags=[ExperimentTag("team", "vision"), ExperimentTag("note", "é ü")]
    )
    gone = backend.experiments.create_experiment(f"{prefix}-gone")
    run_ids: list[str] = []
    for i in range(runs):
        run = backend.runs.create_run(exp, "alice", now + i, [RunTag("k", f"v{i}")], f"run-{i}")
        run_id = run.info.run_id
        run_ids.append(run_id)
        points = [
            Metric("loss", value, now + step, step) for step, value in enumerate([*SPECIAL, i])
        ]
        points += [Metric("acc", 0.1 * s, now + s, s) for s in range(60)]
        backend.runs.log_batch(
            run_id,
            metrics=points,
            params=[Param("lr", str(0.1 * (i + 1))), Param("layers", "3")],
            tags=[RunTag("mlflow.source.git.commit", "abc123")],
        )
        backend.runs.log_inputs(
            run_id,
            [
                DatasetInput(
                    Dataset("train", f"d{i % 2}", "local", '{"uri": "x"}', '{"s": 1}', None),
                    [InputTag("mlflow.data.context", "training")],
                )
            ],
        )
        repo = get_artifact_repository(run.info.artifact_uri)
        local = tmp / f"art-{prefix}-{i}"
        (local / "model").mkdir(parents=True)
        (local / "model" / "MLmodel").write_text(f"flavors: {i}\n")
        (local / "notes.txt").write_bytes(b"x" * (1000 + i))
        repo.log_artifacts(local)
        backend.runs.update_run_info(run_id, "FINISHED", now + 1000 + i, None)
    child = backend.runs.create_run(
        exp, "bob", now + 50, [RunTag("mlflow.parentRunId", run_ids[0])], "child"
    )
    backend.runs.log_batch(child.info.run_id, metrics=[Metric("loss", 2.0, now, 0)])
    run_ids.append(child.info.run_id)
    dead = backend.runs.create_run(exp, "carol", now + 60, [], "dead")
    backend.runs.update_run_info(dead.info.run_id, "FAILED", now + 70, None)
    backend.runs.delete_run(dead.info.run_id)
    run_ids.append(dead.info.run_id)
    backend.runs.create_run(gone, "dave", now, [], "in-gone")
    backend.experiments.delete_experiment(gone)

    model = backend.logged_models.create_logged_model(
        exp, "net", run_ids[0], tags={"t": "1"}, params={"p": "2"}, model_type="torch"
    )
    backend.logged_models.finalize_logged_model(model.model_id, "READY")
    backend.logged_models.log_model_metrics(
        run_ids[0],
        [LoggedModelMetric("val", math.inf, now, 1, model.model_id, run_ids[0], "train", "d0")],
    )
    backend.logged_models.log_outputs(run_ids[0], [LoggedModelOutput(model.model_id, 3)])
    backend.logged_models.log_model_inputs(run_ids[1], [LoggedModelInput(model.model_id)])
    model_repo = get_artifact_repository(model.artifact_location)
    model_file = tmp / f"model-{prefix}.bin"
    model_file.write_bytes(b"\0" * 4096)
    model_repo.log_artifact(model_file)

    reg = backend.registry
    name = f"{prefix}-model"
    reg.create_registered_model(name, [RegisteredModelTag("owner", "ml")], "the model")
    v1 = reg.create_model_version(name, f"runs:/{run_ids[0]}/model", run_ids[0])
    source_uri = backend.runs.get_run(run_ids[1]).info.artifact_uri + "/model"
    v2 = reg.create_model_version(
        name, source_uri, run_ids[1], [ModelVersionTag("ok", "yes")], description="second"
    )
    reg.transition_model_version_stage(name, v1.version, "Production", False)
    reg.set_registered_model_alias(name, "champion", v2.version)
    return {
        "experiment": exp,
        "deleted_experiment": gone,
        "run_ids": run_ids,
        "model_id": model.model_id,
        "registered": name,
    }


def _all_runs(backend: Backend, experiment_ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    token = None
    while True:
        page = backend.runs.search_runs(
            experiment_ids, run_view_type=ViewType.ALL, max_results=1000, page_token=token
        )
        out.update({r.info.run_id: r for r in page})
        token = page.token
        if not token:
            return out


def _bits(points: list[Metric]) -> list[tuple[str, int, int]]:
    """Points as comparable tuples: the value by its repr, so NaN equals NaN and -0.0 is kept."""
    return [(repr(p.value), p.timestamp, p.step) for p in points]


def assert_same_stores(source: Backend, destination: Backend, *, artifacts: bool = True) -> None:
    """Everything the source holds is in the destination, with the same ids and values."""
    src_exps = {e.experiment_id: e for e in source.experiments.search_experiments(ViewType.ALL)}
    dst_exps = {
        e.experiment_id: e for e in destination.experiments.search_experiments(ViewType.ALL)
    }
    assert set(src_exps) <= set(dst_exps)
    for eid, exp in src_exps.items():
        got = dst_exps[eid]
        assert (got.name, got.lifecycle_stage, got.tags) == (
            exp.name,
            exp.lifecycle_stage,
            exp.tags,
        )
        if eid != "0":
            assert got.creation_time == exp.creation_time
    ids = sorted(src_exps)
    src_runs, dst_runs = _all_runs(source, ids), _all_runs(destination, ids)
    assert set(src_runs) == set(dst_runs)
    for run_id, run in src_runs.items():
        got = dst_runs[run_id]
        a, b = run.info, got.info
        assert (a.experiment_id, a.run_name, a.user_id, a.status, a.start_time, a.end_time) == (
            b.experiment_id,
            b.run_name,
            b.user_id,
            b.status,
            b.start_time,
            b.end_time,
        )
        assert a.lifecycle_stage == b.lifecycle_stage
        assert run.data.params == got.data.params
        assert run.data.tags == got.data.tags
        assert run.inputs.to_dict() == got.inputs.to_dict()
        assert run.outputs.to_dict() == got.outputs.to_dict()
        assert sorted(run.data.metrics) == sorted(got.data.metrics)
        for key in run.data.metrics:
            assert repr(run.data.metrics[key]) == repr(got.data.metrics[key])
            theirs = source.metrics.get_metric_history(run_id, key)
            ours = destination.metrics.get_metric_history(run_id, key)
            assert _bits(ours) == _bits(theirs)
        if artifacts:
            src_repo = get_artifact_repository(a.artifact_uri)
            dst_repo = get_artifact_repository(b.artifact_uri)
            assert _tree(dst_repo) == _tree(src_repo)
    src_models = list(source.logged_models.search_logged_models(ids, max_results=1000))
    for model in src_models:
        got_model = destination.logged_models.get_logged_model(model.model_id)
        assert (got_model.name, got_model.params, got_model.tags, got_model.status) == (
            model.name,
            model.params,
            model.tags,
            model.status,
        )
        assert (got_model.source_run_id, got_model.model_type) == (
            model.source_run_id,
            model.model_type,
        )
        assert (got_model.creation_timestamp, got_model.last_updated_timestamp) == (
            model.creation_timestamp,
            model.last_updated_timestamp,
        )
        assert [repr(m) for m in got_model.metrics] == [repr(m) for m in model.metrics]
    for rm in source.registry.search_registered_models(max_results=1000):
        got_rm = destination.registry.get_registered_model(rm.name)
        assert (got_rm.description, got_rm.tags, got_rm.aliases) == (
            rm.description,
            rm.tags,
            rm.aliases,
        )
        assert got_rm.creation_timestamp == rm.creation_timestamp
        theirs_v = source.registry.search_model_versions(f"name = '{rm.name}'")
        ours_v = {
            v.version: v for v in destination.registry.search_model_versions(f"name = '{rm.name}'")
        }
        assert set(ours_v) == {v.version for v in theirs_v}
        for v in theirs_v:
            mine = ours_v[v.version]
            assert (mine.current_stage, mine.description, mine.tags, mine.run_id) == (
                v.current_stage,
                v.description,
                v.tags,
                v.run_id,
            )
            assert (mine.creation_timestamp, mine.user_id, mine.status) == (
                v.creation_timestamp,
                v.user_id,
                v.status,
            )


def _tree(repo: Any) -> list[tuple[str, bytes]]:
    out = []
    pending = [""]
    while pending:
        for info in repo.list_artifacts(pending.pop() or None):
            if info.is_dir:
                pending.append(info.path)
            else:
                with repo.open_read(info.path) as stream:
                    out.append((info.path, stream.read()))
    return sorted(out)


def snapshot(db_uri: str) -> dict[str, list[str]]:
    """Every row of every table of the database at *db_uri*, for before/after comparisons."""
    engine = create_db_engine(db_uri)
    try:
        with engine.connect() as conn:
            return {
                table.name: sorted(repr(tuple(row)) for row in conn.execute(select(table)))
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()
