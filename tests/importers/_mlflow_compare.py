"""A source's records against what MLflow's own client reads from the same store, value by
value (the client's dump comes from ``mlflow_store_script.py``)."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from mltrail.importers import RunContents, Source

#: MLflow's SQL store keeps an infinity as the largest double, and its client returns that;
#: the sources give back the infinity that was logged.
_INF_STORED = 1.7976931348623157e308


def client_value(value: float) -> float:
    if value == _INF_STORED:
        return math.inf
    if value == -_INF_STORED:
        return -math.inf
    return value


def same(a: float, b: float) -> bool:
    """Equal, NaN equal to NaN, and -0.0 told from 0.0."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


def series(contents: RunContents) -> dict[str, list[tuple[int, int, float]]]:
    """A run's metric columns as ``{key: sorted [(step, timestamp, value)]}``."""
    cols = contents.metrics
    out: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    for key, value, ts, step in zip(
        cols.keys, cols.values, cols.timestamps, cols.steps, strict=True
    ):
        out[key].append((step, ts, value))
    for key in out:
        out[key].sort(key=lambda p: (p[0], p[1], repr(p[2])))
    return dict(out)


def assert_same_points(ours: list[tuple[int, int, float]], theirs: list[list[Any]]) -> None:
    expected = sorted(
        ((s, t, client_value(float(v))) for s, t, v in theirs),
        key=lambda p: (p[0], p[1], repr(p[2])),
    )
    assert [(s, t) for s, t, _ in ours] == [(s, t) for s, t, _ in expected]
    for (_, _, mine), (_, _, real) in zip(ours, expected, strict=True):
        assert same(mine, real), (mine, real)


def assert_source_matches(
    source: Source, dump: dict[str, Any], *, locations: bool = True
) -> dict[str, RunContents]:
    """Everything *source* yields equals the client's *dump*; returns the runs' contents.

    Without *locations*, artifact locations and versions' sources are not compared (an
    import that copied the artifacts moved them)."""
    experiments = {e.experiment_id: e for e in source.experiments()}
    assert sorted(experiments) == sorted(e["experiment_id"] for e in dump["experiments"])
    for expected in dump["experiments"]:
        got = experiments[expected["experiment_id"]]
        assert got.name == expected["name"]
        if locations:
            assert got.artifact_location == expected["artifact_location"]
        assert got.lifecycle_stage == expected["lifecycle_stage"]
        assert got.tags == expected["tags"]
        assert got.creation_time == expected["creation_time"]
        assert got.last_update_time == expected["last_update_time"]

    headers = list(source.run_headers(list(experiments)))
    position = {h.info.run_id: i for i, h in enumerate(headers)}
    assert sorted(position) == sorted(r["run_id"] for r in dump["runs"])
    assert len({h.fingerprint for h in headers}) == len(headers)
    contents = {c.header.info.run_id: c for c in source.run_contents(headers)}
    assert sorted(contents) == sorted(position)
    for expected in dump["runs"]:
        got = contents[expected["run_id"]]
        info = got.header.info
        for name in (
            "experiment_id",
            "run_name",
            "status",
            "start_time",
            "end_time",
            "lifecycle_stage",
            *(["artifact_uri"] if locations else []),
        ):
            assert getattr(info, name) == expected[name], name
        assert info.user_id == (expected["user_id"] or "")
        assert got.params == expected["params"]
        assert got.tags == expected["tags"]
        parent = expected["tags"].get("mlflow.parentRunId")
        if parent in position:
            assert position[parent] < position[expected["run_id"]]  # parents first
        ours = series(got)
        assert sorted(ours) == sorted(expected["metrics"])
        for key, points in expected["metrics"].items():
            if points is not None:  # None: MLflow's file store refuses a deleted run's history
                assert_same_points(ours[key], points)
        assert [
            {
                "dataset": {
                    "name": d.dataset.name,
                    "digest": d.dataset.digest,
                    "source_type": d.dataset.source_type,
                    "source": d.dataset.source,
                    "schema": d.dataset.schema,
                    "profile": d.dataset.profile,
                },
                "tags": {t.key: t.value for t in d.tags},
            }
            for d in got.dataset_inputs
        ] == expected["datasets"]
        if "outputs" in expected:
            assert sorted(list(o) for o in got.model_output_ids) == sorted(expected["outputs"])

    models = {m.model_id: m for m in source.logged_models(list(experiments))}
    assert sorted(models) == sorted(m["model_id"] for m in dump["logged_models"])
    for expected in dump["logged_models"]:
        model = models[expected["model_id"]]
        for name in (
            "experiment_id",
            "name",
            *(["artifact_location"] if locations else []),
            "creation_timestamp",
            "last_updated_timestamp",
            "source_run_id",
        ):
            assert getattr(model, name) == expected[name], name
        assert expected["status"].upper().endswith(model.status)
        assert model.tags == expected["tags"]
        assert model.params == expected["params"]
        mine = sorted(
            (m.key, m.step, m.timestamp, m.dataset_name, m.dataset_digest, m.value)
            for m in model.metrics
        )
        theirs = sorted(
            (k, s, t, dn, dd, client_value(float(v))) for k, s, t, v, dn, dd in expected["metrics"]
        )
        assert [m[:5] for m in mine] == [m[:5] for m in theirs]
        assert all(same(a[5], b[5]) for a, b in zip(mine, theirs, strict=True))

    records = {r.model.name: r for r in source.registered_models()}
    assert sorted(records) == sorted(m["name"] for m in dump["registered_models"])
    for expected in dump["registered_models"]:
        record = records[expected["name"]]
        # MLflow's client reads an unset description as "" through REST, None from a database
        assert (record.model.description or None) == (expected["description"] or None)
        assert record.model.creation_timestamp == expected["creation_timestamp"]
        assert record.model.last_updated_timestamp == expected["last_updated_timestamp"]
        assert record.model.tags == expected["tags"]
        assert record.aliases == expected["aliases"]
        assert [v.version for v in record.versions] == [v["version"] for v in expected["versions"]]
        for version, want in zip(record.versions, expected["versions"], strict=True):
            assert (version.description or None) == (want["description"] or None)
            for name in (
                "creation_timestamp",
                "last_updated_timestamp",
                "current_stage",
                *(["source"] if locations else []),
                "run_id",
                "status",
            ):
                assert getattr(version, name) == want[name], name
            assert version.tags == want["tags"]
            assert version.aliases == sorted(
                a for a, n in expected["aliases"].items() if n == version.version
            )
    return contents
