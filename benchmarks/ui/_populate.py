"""Identical benchmark data in an mltrail store and in an MLflow store, fast, cached on disk.

Logging 100,000 runs and 11 million points through either tool's API takes far longer than the
benchmark itself (over 20 minutes for mltrail's REST-free client, hours for MLflow's), so each
store is filled the way a bulk import would be: the tool creates its own schema and the
experiments (mltrail's ``MlflowClient`` in this interpreter, MLflow's in ``benchmarks/.venv``),
then the rows its ``create_run`` + ``log_batch`` + ``set_terminated`` would write go in with
``sqlite3`` ``executemany`` in one transaction:

* mltrail: ``runs``, ``tags``, ``params``, ``latest_metrics`` (latest/min/max/count summary,
  floats encoded by ``mltrail.store.sql._codec.encode_float``) and ``metric_chunks`` (packed
  little-endian arrays, one chunk per 1,000-point ``log_batch`` call, as the store writes them).
* MLflow: ``runs``, ``tags``, ``params``, ``latest_metrics`` and ``metrics`` (one row per point);
  the three indexes of ``metrics`` are dropped during the insert and re-created after it, which
  gives the same schema in a fraction of the time.

A quick check through each tool's own client (run count, one history's length and last value)
guards the layout.  The filled store is kept under ``benchmarks/.cache/ui/`` under a key of the
tool, its version, the sizes, the seed and ``DATA_VERSION``; later benchmark runs serve that file
directly (the benchmark only reads; an mltrail store is first brought to the current schema with
``mltrail db upgrade``).  The data (``random.Random(seed)``, numpy for the series):

* ``table``: ``runs`` runs ``run-000000``.., FINISHED, params p0..p9 = 'v0'..'v9', metrics m0..m4
  uniform in [0, 1) at step 0;
* ``compare``: 100 runs ``cmp-000``.. with metric0..metric9, steps 0..9,999, value
  ``sin(step / (300 + r)) + k``;
* ``long``: one run in ``compare`` with metric ``big`` of ``steps`` points,
  ``sin(s / 5000) + 0.1 sin(s / 37)``.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / ".cache" / "ui"
MLFLOW_PYTHON = HERE.parent / ".venv" / "bin" / "python"
DATA_VERSION = 1
BASE_TS = 1_700_000_000_000
COMPARE_RUNS, COMPARE_KEYS, COMPARE_STEPS = 100, 10, 10_000
BATCH = 1000  # points per log_batch call being imitated (one mltrail chunk each)
N_PARAMS, N_METRICS = 10, 5


@dataclass
class Layout:
    """What the benchmark needs to know about a filled store (saved beside it as JSON)."""

    table_experiment: str = ""
    compare_experiment: str = ""
    best_m1_run: str = ""
    compare_runs: list[str] = field(default_factory=list)
    long_run: str = ""
    populate_s: float = 0.0


@dataclass(frozen=True)
class TableRun:
    run_id: str
    name: str
    start: int
    params: list[str]
    metrics: list[float]


def table_runs(n: int, seed: int) -> Iterator[TableRun]:
    rng = random.Random(seed)
    ids = random.Random(seed + 1)
    for i in range(n):
        params = [f"v{rng.randrange(10)}" for _ in range(N_PARAMS)]
        metrics = [rng.random() for _ in range(N_METRICS)]
        yield TableRun(
            uuid.UUID(int=ids.getrandbits(128)).hex, f"run-{i:06d}", BASE_TS + i, params, metrics
        )


def compare_values(r: int, k: int) -> np.ndarray:
    steps = np.arange(COMPARE_STEPS, dtype=np.float64)
    out: np.ndarray = np.sin(steps / (300 + r)) + k
    return out


def long_values(steps: int) -> np.ndarray:
    s = np.arange(steps, dtype=np.float64)
    out: np.ndarray = np.sin(s / 5000) + 0.1 * np.sin(s / 37)
    return out


def _ids(seed: int, count: int, salt: int) -> list[str]:
    rng = random.Random(seed * 1000 + salt)
    return [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(count)]


def cache_path(tool: str, runs: int, steps: int, seed: int) -> Path:
    version = metadata.version(tool) if tool == "mltrail" else _mlflow_version()
    return CACHE / f"{tool}-{version}-r{runs}-s{steps}-seed{seed}-v{DATA_VERSION}.db"


def _mlflow_version() -> str:
    out = subprocess.run(
        [
            str(MLFLOW_PYTHON),
            "-c",
            "from importlib import metadata; print(metadata.version('mlflow'))",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def populated(tool: str, runs: int, steps: int, seed: int, log: Any = print) -> tuple[Path, Layout]:
    """The cached store for these sizes (filled now if missing) and its layout."""
    db = cache_path(tool, runs, steps, seed)
    meta = db.with_suffix(".json")
    if db.is_file() and meta.is_file():
        if tool == "mltrail":  # a newer checkout may have added migrations since it was filled
            upgrade = "from mltrail.cli import main; main()"
            subprocess.run(
                [sys.executable, "-c", upgrade, "db", "upgrade", f"sqlite:///{db}"], check=True
            )
        return db, Layout(**json.loads(meta.read_text()))
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = db.with_suffix(".tmp.db")
    for leftover in CACHE.glob(tmp.name + "*"):
        leftover.unlink()
    log(f"populating the {tool} store ({runs} runs, {steps} steps) into {db} ...")
    t0 = time.perf_counter()
    fill = _fill_mltrail if tool == "mltrail" else _fill_mlflow
    layout = fill(tmp, runs, steps, seed)
    layout.populate_s = time.perf_counter() - t0
    log(f"populated {tool} in {layout.populate_s:.0f} s")
    con = sqlite3.connect(tmp)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    tmp.replace(db)
    for side in CACHE.glob(tmp.name + "-*"):
        side.unlink()
    meta.write_text(json.dumps(asdict(layout), indent=1))
    return db, layout


def _layout(runs: int, steps: int, seed: int) -> tuple[Layout, list[TableRun]]:
    table = list(table_runs(runs, seed))
    best = max(table, key=lambda r: r.metrics[1])
    cmp_ids = _ids(seed, COMPARE_RUNS + 1, 2)
    layout = Layout(best_m1_run=best.run_id, compare_runs=cmp_ids[:-1], long_run=cmp_ids[-1])
    return layout, table


def _series_batches(
    steps: int, values: np.ndarray, start: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(steps, timestamps, values) per imitated log_batch call."""
    for lo in range(0, steps, BATCH):
        hi = min(steps, lo + BATCH)
        s = np.arange(lo, hi, dtype=np.int64)
        yield s, start + s * 10, values[lo:hi]


# --- mltrail ------------------------------------------------------------------------------------


def _fill_mltrail(db: Path, runs: int, steps: int, seed: int) -> Layout:
    import mltrail
    from mltrail.store.sql._codec import encode_float

    layout, table = _layout(runs, steps, seed)
    mltrail.set_tracking_uri(f"sqlite:///{db}")
    client = mltrail.MlflowClient()
    layout.table_experiment = client.create_experiment("table")
    layout.compare_experiment = client.create_experiment("compare")
    mltrail.set_tracking_uri(None)
    con = sqlite3.connect(db)
    (table_loc,) = con.execute(
        "SELECT artifact_location FROM experiments WHERE experiment_id = ?",
        (int(layout.table_experiment),),
    ).fetchone()
    (cmp_loc,) = con.execute(
        "SELECT artifact_location FROM experiments WHERE experiment_id = ?",
        (int(layout.compare_experiment),),
    ).fetchone()
    run_rows, tags, params, summaries, chunks = [], [], [], [], []

    def add_run(pk: int, rid: str, exp: str, loc: str, name: str, start: int, end: int) -> None:
        run_rows.append(
            (
                pk,
                rid,
                int(exp),
                name,
                "bench",
                "FINISHED",
                start,
                end,
                "active",
                f"{loc.rstrip('/')}/{rid}/artifacts",
            )
        )
        tags.extend([(pk, "mlflow.runName", name), (pk, "mlflow.user", "bench")])

    def add_series(pk: int, key: str, steps_n: int, values: np.ndarray, start: int) -> None:
        for s, ts, v in _series_batches(steps_n, values, start):
            chunks.append(
                (
                    pk,
                    key,
                    len(s),
                    int(s[0]),
                    int(s[-1]),
                    s.astype("<i8").tobytes(),
                    ts.astype("<i8").tobytes(),
                    v.astype("<f8").tobytes(),
                )
            )
        last = int(steps_n - 1)
        finite = values[~np.isnan(values)]
        summaries.append(
            (
                pk,
                key,
                *encode_float(float(values[last])),
                start + last * 10,
                last,
                *encode_float(float(finite.min())),
                *encode_float(float(finite.max())),
                steps_n,
            )
        )

    pk = 0
    for r in table:
        pk += 1
        add_run(pk, r.run_id, layout.table_experiment, table_loc, r.name, r.start, r.start + 1000)
        params.extend((pk, f"p{k}", v) for k, v in enumerate(r.params))
        for k, v in enumerate(r.metrics):
            add_series(pk, f"m{k}", 1, np.array([v]), r.start)
    for i, rid in enumerate(layout.compare_runs):
        pk += 1
        start = BASE_TS + 10_000_000 + i
        add_run(
            pk,
            rid,
            layout.compare_experiment,
            cmp_loc,
            f"cmp-{i:03d}",
            start,
            start + COMPARE_STEPS * 10,
        )
        params.append((pk, "lr", str(10 ** -(1 + i % 4))))
        for k in range(COMPARE_KEYS):
            add_series(pk, f"metric{k}", COMPARE_STEPS, compare_values(i, k), start)
    pk += 1
    start = BASE_TS + 20_000_000
    add_run(
        pk, layout.long_run, layout.compare_experiment, cmp_loc, "long", start, start + steps * 10
    )
    add_series(pk, "big", steps, long_values(steps), start)
    with con:
        con.executemany(
            "INSERT INTO runs (id, run_uuid, experiment_id, name, user_id, status, start_time,"
            " end_time, lifecycle_stage, artifact_uri) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            run_rows,
        )
        con.executemany("INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)", tags)
        con.executemany("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)", params)
        con.executemany(
            "INSERT INTO latest_metrics (run_id, key, value, special, timestamp, step, min_value,"
            " min_special, max_value, max_special, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            summaries,
        )
        con.executemany(
            "INSERT INTO metric_chunks (run_id, key, count, min_step, max_step, steps, timestamps,"
            " vals) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            chunks,
        )
    con.execute("ANALYZE")
    con.close()
    _check_mltrail(db, layout, runs, steps)
    return layout


def _check_mltrail(db: Path, layout: Layout, runs: int, steps: int) -> None:
    import mltrail

    mltrail.set_tracking_uri(f"sqlite:///{db}")
    try:
        client = mltrail.MlflowClient()
        top = client.search_runs(
            [layout.table_experiment], order_by=["metrics.m1 DESC"], max_results=1
        )
        assert top[0].info.run_id == layout.best_m1_run, "best m1 run differs"
        history = client.get_metric_history(layout.long_run, "big")
        assert len(history) == steps, f"long history has {len(history)} points, not {steps}"
        assert math.isclose(history[-1].value, float(long_values(steps)[-1])), "last value differs"
        got = client.search_runs([layout.table_experiment], max_results=50_000)
        n = len(got)
        while got.token:
            got = client.search_runs(
                [layout.table_experiment], max_results=50_000, page_token=got.token
            )
            n += len(got)
        assert n == runs, f"{n} table runs, not {runs}"
    finally:
        mltrail.set_tracking_uri(None)


# --- MLflow -------------------------------------------------------------------------------------

_MLFLOW_SETUP = """
import sys, mlflow
mlflow.set_tracking_uri(sys.argv[1])
c = mlflow.MlflowClient()
ids = c.create_experiment("table"), c.create_experiment("compare")
for i in ids:  # a model-training experiment: MLflow's UI opens its runs, not the GenAI overview
    c.set_experiment_tag(i, "mlflow.experimentKind", "custom_model_development")
print(*ids)
"""

_MLFLOW_CHECK = """
import sys, json, mlflow
mlflow.set_tracking_uri(sys.argv[1])
a = json.loads(sys.argv[2])
c = mlflow.MlflowClient()
top = c.search_runs([a["table_experiment"]], order_by=["metrics.m1 DESC"], max_results=1)
h = c.get_metric_history(a["long_run"], "big")
print(json.dumps({"best": top[0].info.run_id, "n": len(h), "last": h[-1].value if h else None}))
"""

_MLFLOW_POINT = (
    "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, 0)"
)
_METRIC_INDEXES = (
    "CREATE INDEX index_metrics_run_uuid ON metrics (run_uuid)",
    'CREATE INDEX index_metrics_run_uuid_key_step ON metrics (run_uuid, "key", step)',
)


def _fill_mlflow(db: Path, runs: int, steps: int, seed: int) -> Layout:
    layout, table = _layout(runs, steps, seed)
    uri = f"sqlite:///{db}"
    env = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [str(MLFLOW_PYTHON), "-c", _MLFLOW_SETUP, uri],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    layout.table_experiment, layout.compare_experiment = out.stdout.split()[-2:]
    con = sqlite3.connect(db)
    locs = dict(con.execute("SELECT experiment_id, artifact_location FROM experiments"))
    run_rows, tags, params, latest = [], [], [], []

    def add_run(rid: str, exp: str, name: str, start: int, end: int) -> None:
        loc = str(locs[int(exp)]).rstrip("/")
        run_rows.append((rid, name, "bench", start, end, f"{loc}/{rid}/artifacts", int(exp)))
        tags.extend([("mlflow.runName", name, rid), ("mlflow.user", "bench", rid)])

    for r in table:
        add_run(r.run_id, layout.table_experiment, r.name, r.start, r.start + 1000)
        params.extend((f"p{k}", v, r.run_id) for k, v in enumerate(r.params))
        latest.extend((f"m{k}", v, r.start, r.run_id, 0) for k, v in enumerate(r.metrics))
    series: list[tuple[str, str, int, np.ndarray, int]] = []
    for i, rid in enumerate(layout.compare_runs):
        start = BASE_TS + 10_000_000 + i
        add_run(rid, layout.compare_experiment, f"cmp-{i:03d}", start, start + COMPARE_STEPS * 10)
        params.append(("lr", str(10 ** -(1 + i % 4)), rid))
        for k in range(COMPARE_KEYS):
            series.append((rid, f"metric{k}", COMPARE_STEPS, compare_values(i, k), start))
    start = BASE_TS + 20_000_000
    add_run(layout.long_run, layout.compare_experiment, "long", start, start + steps * 10)
    series.append((layout.long_run, "big", steps, long_values(steps), start))
    for rid, key, n, values, t0 in series:
        latest.append((key, float(values[n - 1]), t0 + (n - 1) * 10, rid, n - 1))
    with con:
        con.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id,"
            " status, start_time, end_time, source_version, lifecycle_stage, artifact_uri,"
            " experiment_id, deleted_time)"
            " VALUES (?, ?, 'UNKNOWN', '', '', ?, 'FINISHED', ?, ?, '', 'active', ?, ?, NULL)",
            run_rows,
        )
        con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tags)
        con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params)
        con.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan)"
            " VALUES (?, ?, ?, ?, ?, 0)",
            latest,
        )
        con.execute("DROP INDEX index_metrics_run_uuid")
        con.execute("DROP INDEX index_metrics_run_uuid_key_step")
        con.executemany(
            _MLFLOW_POINT,
            ((f"m{k}", v, r.start, r.run_id, 0) for r in table for k, v in enumerate(r.metrics)),
        )
        for rid, key, n, values, t0 in series:
            con.executemany(
                _MLFLOW_POINT,
                (
                    (key, v, t0 + s * 10, rid, s)
                    for s, v in zip(range(n), values.tolist(), strict=True)
                ),
            )
        for stmt in _METRIC_INDEXES:
            con.execute(stmt)
    con.execute("ANALYZE")
    con.close()
    out = subprocess.run(
        [str(MLFLOW_PYTHON), "-c", _MLFLOW_CHECK, uri, json.dumps(asdict(layout))],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["best"] == layout.best_m1_run, f"MLflow's best m1 run differs: {got}"
    assert got["n"] == steps, got
    assert math.isclose(got["last"], float(long_values(steps)[-1])), got
    return layout


if __name__ == "__main__":
    # python -m benchmarks.ui._populate TOOL RUNS STEPS [SEED]: fill (or find) the cached store.
    tool_, runs_, steps_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    path, lay = populated(tool_, runs_, steps_, int(sys.argv[4]) if len(sys.argv) > 4 else 7)
    print(path, json.dumps(asdict(lay))[:200])
