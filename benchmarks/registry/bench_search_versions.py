"""Workload ``search_versions``: ``search_model_versions`` over 100,000 model versions.

Data (same for both tools): 100 registered models ``model-000`` .. ``model-099`` with 1,000
versions each, version v of model m created at ``BASE_TS + m * 1000 + v``.  The search is
``name = 'model-042'``, ordered by ``version_number DESC``, top 100.
Populate (untimed), the same way for both tools:
  * mltrail: every registered model and its version 1 through its public API
    (``create_registered_model`` + ``create_model_version`` from a run's artifacts), then sqlite3
    ``executemany`` copies of each model's version-1 row for versions 2 .. 1000 (and the model's
    ``next_version`` counter set past them).
  * mlflow: one model and version through MLflow's client (which creates its schema and shows
    the shape of a row), then sqlite3 ``executemany`` copies of that row into its tables.
With ``--populate-cache DIR`` the populated store is kept there (keyed by tool, version, schema
and sizes) and later runs start from a copy.
Check: both tools return versions 1000 .. 901 of ``model-042``.  Time: one warm-up, then the
median of ``--searches`` identical searches in this process (wall clock; its CPU time too).

    benchmarks/.venv/bin/python -m benchmarks.registry.bench_search_versions --tool mltrail \\
        --tmp /tmp/x
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from importlib import metadata
from pathlib import Path

from benchmarks.tracking._common import Result, Tool, check, connect, main, median, parser
from benchmarks.tracking.bench_search import sqlite_copy

BASE_TS = 1_700_000_000_000
TARGET = "model-042"
FILTER = f"name = '{TARGET}'"
ORDER_BY = ["version_number DESC"]
TOP = 100


def ts(model: int, version: int) -> int:
    """Creation (and update) time of version *version* of model number *model*."""
    return BASE_TS + model * 1000 + version


def populate_mltrail(client: Tool, db: Path, models: int, versions: int) -> None:
    experiment_id = client.create_experiment("registry")
    run = client.create_run(experiment_id)
    run_id = run.info.run_id
    for m in range(models):
        name = f"model-{m:03d}"
        client.create_registered_model(name)
        client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    firsts = [dict(r) for r in con.execute("SELECT * FROM model_versions ORDER BY id")]
    con.row_factory = None
    copies = [
        {**first, "version": v, "creation_time": ts(m, v), "last_updated_time": ts(m, v)}
        for m, first in enumerate(firsts)
        for v in range(2, versions + 1)
    ]
    with con:
        for m, first in enumerate(firsts):
            con.execute(
                "UPDATE model_versions SET creation_time = ?, last_updated_time = ? WHERE id = ?",
                (ts(m, 1), ts(m, 1), first["id"]),
            )
        _insert(con, "model_versions", [{k: v for k, v in r.items() if k != "id"} for r in copies])
        con.execute("UPDATE registered_models SET next_version = ?", (versions + 1,))
    con.close()


def _insert(con: sqlite3.Connection, table: str, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    con.executemany(sql, [tuple(r[c] for c in columns) for r in rows])


def populate_mlflow(client: Tool, db: Path, models: int, versions: int) -> None:
    experiment_id = client.create_experiment("registry")
    run = client.create_run(experiment_id)
    run_id = run.info.run_id
    client.create_registered_model("model-000")
    client.create_model_version("model-000", f"runs:/{run_id}/model", run_id=run_id)
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    model_row = dict(con.execute("SELECT * FROM registered_models").fetchone())
    version_row = dict(con.execute("SELECT * FROM model_versions").fetchone())
    con.row_factory = None
    model_rows, version_rows = [], []
    for m in range(models):
        name = f"model-{m:03d}"
        if m:
            model_rows.append({**model_row, "name": name})
        for v in range(1, versions + 1):
            if m == 0 and v == 1:
                continue
            version_rows.append(
                {
                    **version_row,
                    "name": name,
                    "version": v,
                    "creation_time": ts(m, v),
                    "last_updated_time": ts(m, v),
                }
            )

    with con:
        _insert(con, "registered_models", model_rows)
        _insert(con, "model_versions", version_rows)
        con.execute(
            "UPDATE model_versions SET creation_time = ?, last_updated_time = ? "
            "WHERE name = 'model-000' AND version = 1",
            (ts(0, 1), ts(0, 1)),
        )
    con.close()


def run(args: argparse.Namespace) -> Result:
    models = 4 if args.quick else 100
    versions = 250 if args.quick else 1000
    db = args.tmp / "store.db"
    cached = _cache_file(args, models, versions)
    populate: Result = {"populate": "cached"}
    if cached is not None and cached.is_file():
        sqlite_copy(cached, db)
        mlflow, client = connect(args.tool, args.tmp)
    else:
        mlflow, client = connect(args.tool, args.tmp)
        start = time.perf_counter()
        if args.tool == "mltrail":
            populate_mltrail(client, db, models, versions)
        else:
            populate_mlflow(client, db, models, versions)
        populate = {"populate_s": time.perf_counter() - start}
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            sqlite_copy(db, cached)
    target = TARGET if not args.quick else "model-002"
    filter_string = f"name = '{target}'"
    expected = list(range(versions, versions - TOP, -1))

    def search() -> list[int]:
        found = client.search_model_versions(
            filter_string=filter_string, max_results=TOP, order_by=ORDER_BY
        )
        return [int(v.version) for v in found]

    got = search()  # warm-up and check
    check(got == expected, f"versions found {got[:5]}..., expected {expected[:5]}...")
    times, cpu = [], []
    for _ in range(args.searches):
        t0, c0 = time.perf_counter(), time.process_time()
        search()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    del mlflow
    return {
        "versions": models * versions,
        **populate,
        "median_ms": median(times) * 1e3,
        "min_ms": min(times) * 1e3,
        "cpu_median_ms": median(cpu) * 1e3,
        "searches": args.searches,
    }


def _cache_file(args: argparse.Namespace, models: int, versions: int) -> Path | None:
    if args.populate_cache is None:
        return None
    version = metadata.version(args.tool)
    if args.tool == "mltrail":  # a development version's schema moves: key by its head too
        from mltrail.store.sql._engine import HEAD_REVISION

        version += f"-{HEAD_REVISION}"
    return args.populate_cache / f"versions-{args.tool}-{version}-{models}x{versions}.db"


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--searches", type=int, default=31, help="timed searches")
    p.add_argument(
        "--populate-cache", type=Path, help="keep/reuse populated stores in this directory"
    )
    return p


if __name__ == "__main__":
    main("search_versions", run, build_parser())
