"""The MLflow store both sides import: MLflow's own SQLite schema, rows inserted in bulk.

Going through MLflow's API for 10,000 runs of 500 metric points each would take hours, so the
schema (and the experiment) is made by MLflow itself (``MlflowClient(tracking_uri=
"sqlite:///...")`` creates and migrates it), and the rows go into its tables ``runs``,
``params``, ``tags``, ``metrics`` and ``latest_metrics`` with ``sqlite3`` ``executemany``,
as MLflow's ``create_run`` + ``log_batch`` + ``set_terminated`` would leave them (the same
approach as ``benchmarks/tracking/bench_search.py``).  Each run's one artifact is a small
file under its ``artifact_uri`` folder.

Run i (``random.Random(seed)``, so a store of N runs is the first N runs of a larger one):
name ``run-{i:06d}``, status FINISHED, params p0..p9, metrics m0..m4 with 100 steps each
(``latest_metrics`` holds step 99), tags t0..t2 plus MLflow's ``mlflow.runName`` and
``mlflow.user``, and the artifact ``summary.json`` (about 200 bytes).

A generated store is kept under ``benchmarks/.cache/`` (keyed by MLflow's version, the run
count and the seed) and every repeat works on a copy (:func:`copy_store`), its artifact
locations rewritten to the copy, so no repeat sees another's files.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

N_PARAMS, N_METRICS, N_STEPS, N_TAGS = 10, 5, 100, 3
BASE_TS = 1_700_000_000_000
EXPERIMENT = "bench-import"
ARTIFACT = "summary.json"
CHUNK = 250  # runs per transaction while generating (125,000 metric rows)
DB, ARTIFACTS = "mlflow.db", "artifacts"


@dataclass(frozen=True)
class Expected:
    """What a faithful copy of a store of *runs* runs holds."""

    runs: int

    @property
    def params(self) -> int:
        return self.runs * N_PARAMS

    @property
    def metric_points(self) -> int:
        return self.runs * N_METRICS * N_STEPS

    @property
    def artifacts(self) -> int:
        return self.runs


def _generate(directory: Path, n: int, seed: int) -> None:
    import mlflow  # only here: the mltrail side never needs it in its own process

    db, art = directory / DB, (directory / ARTIFACTS).resolve()
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{db.resolve()}")
    experiment_id = int(client.create_experiment(EXPERIMENT, artifact_location=str(art)))
    rng = random.Random(seed)
    con = sqlite3.connect(db)
    try:
        for first in range(0, n, CHUNK):
            runs, params, tags, metrics, latest = [], [], [], [], []
            for i in range(first, min(n, first + CHUNK)):
                rid = f"{rng.getrandbits(128):032x}"
                name, start = f"run-{i:06d}", BASE_TS + i * 1_000
                uri = f"{art}/{rid}/artifacts"
                runs.append((rid, name, start, start + 900, uri, experiment_id))
                run_params = {f"p{k}": f"{rng.random():.6f}" for k in range(N_PARAMS)}
                params += [(key, value, rid) for key, value in run_params.items()]
                tags += [(f"t{k}", f"v{rng.randrange(100)}", rid) for k in range(N_TAGS)]
                tags += [("mlflow.runName", name, rid), ("mlflow.user", "bench", rid)]
                for k in range(N_METRICS):
                    for step in range(N_STEPS):
                        point = (f"m{k}", rng.random(), start + step, step, rid)
                        metrics.append(point)
                    latest.append(point)
                os.makedirs(uri)
                summary = {"run": name, "params": run_params}
                Path(uri, ARTIFACT).write_text(json.dumps(summary), encoding="utf-8")
            with con:
                con.executemany(
                    "INSERT INTO runs (run_uuid, name, source_type, source_name,"
                    " entry_point_name, user_id, status, start_time, end_time, source_version,"
                    " lifecycle_stage, artifact_uri, experiment_id, deleted_time)"
                    " VALUES (?, ?, 'LOCAL', 'train.py', '', 'bench', 'FINISHED', ?, ?, '',"
                    " 'active', ?, ?, NULL)",
                    runs,
                )
                con.executemany(
                    "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params
                )
                con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tags)
                con.executemany(
                    "INSERT INTO metrics (key, value, timestamp, step, run_uuid, is_nan)"
                    " VALUES (?, ?, ?, ?, ?, 0)",
                    metrics,
                )
                con.executemany(
                    "INSERT INTO latest_metrics (key, value, timestamp, step, run_uuid, is_nan)"
                    " VALUES (?, ?, ?, ?, ?, 0)",
                    latest,
                )
    finally:
        con.close()


def cached_store(cache: Path, n: int, seed: int) -> tuple[Path, bool]:
    """(the folder of a generated store of *n* runs, whether it was already cached)."""
    key = f"importers-mlflow-{metadata.version('mlflow')}-{n}-{seed}"
    folder = cache / key
    if (folder / DB).is_file():
        return folder, True
    building = cache / f"{key}.tmp-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    _generate(building, n, seed)
    _relocate(building / DB, building / ARTIFACTS, folder / ARTIFACTS)
    shutil.rmtree(folder, ignore_errors=True)
    building.rename(folder)
    return folder, False


def _relocate(db: Path, old: Path, new: Path) -> None:
    """Point the experiment's and the runs' artifact locations from *old* to *new*."""
    before, after = str(old.resolve()), str(new.resolve())
    con = sqlite3.connect(db)
    try:
        with con:
            con.execute(
                "UPDATE experiments SET artifact_location = ? WHERE artifact_location = ?",
                (after, before),
            )
            con.execute(
                "UPDATE runs SET artifact_uri = ? || substr(artifact_uri, ?)"
                " WHERE substr(artifact_uri, 1, ?) = ?",
                (after, len(before) + 1, len(before), before),
            )
    finally:
        con.close()


def copy_store(cached: Path, target: Path) -> Path:
    """A private copy of a cached store in *target*; returns its database file."""
    target.mkdir(parents=True, exist_ok=True)
    db = target / DB
    source, copy = sqlite3.connect(cached / DB), sqlite3.connect(db)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    shutil.copytree(cached / ARTIFACTS, target / ARTIFACTS)
    _relocate(db, cached / ARTIFACTS, target / ARTIFACTS)
    return db


def first_run(db: Path) -> tuple[str, str, dict[str, str], list[tuple[int, float]]]:
    """(run id, run name, params, m0's history as (step, value)) of run 0, read with SQL."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT run_uuid, name FROM runs WHERE name = 'run-000000'").fetchone()
        rid, name = str(row[0]), str(row[1])
        params = dict(con.execute("SELECT key, value FROM params WHERE run_uuid = ?", (rid,)))
        history = con.execute(
            "SELECT step, value FROM metrics WHERE run_uuid = ? AND key = 'm0' ORDER BY step",
            (rid,),
        ).fetchall()
    finally:
        con.close()
    return rid, name, params, [(int(s), float(v)) for s, v in history]
