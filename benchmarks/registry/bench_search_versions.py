"""Workload ``search_versions``: ``search_model_versions`` over 100,000 model versions.

Data (same for both tools): 100 registered models ``model-000`` .. ``model-099`` with 1,000
versions each, version v of model m created at ``BASE_TS + m * 1000 + v``.  The search is
``name = 'model-042'``, ordered by ``version_number DESC``, top 100.
Populate (untimed):
  * mltrail: its public API (``create_registered_model`` + ``create_model_version`` from a run's
    artifacts; timestamps are "now", which the search's order does not use).
  * mlflow: one model and version through MLflow's client (which creates its schema and shows
    the shape of a row), then sqlite3 ``executemany`` copies of that row into its tables.
Check: both tools return versions 1000 .. 901 of ``model-042``.  Time: one warm-up, then the
median of ``--searches`` identical searches in this process.

    benchmarks/.venv/bin/python -m benchmarks.registry.bench_search_versions --tool mltrail \\
        --tmp /tmp/x
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

from benchmarks.tracking._common import Result, Tool, check, connect, main, median, parser

BASE_TS = 1_700_000_000_000
TARGET = "model-042"
FILTER = f"name = '{TARGET}'"
ORDER_BY = ["version_number DESC"]
TOP = 100


def populate_mltrail(client: Tool, models: int, versions: int) -> None:
    experiment_id = client.create_experiment("registry")
    run = client.create_run(experiment_id)
    run_id = run.info.run_id
    for m in range(models):
        name = f"model-{m:03d}"
        client.create_registered_model(name)
        for _ in range(versions):
            client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)


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
            ts = BASE_TS + m * 1000 + v
            version_rows.append(
                {
                    **version_row,
                    "name": name,
                    "version": v,
                    "creation_time": ts,
                    "last_updated_time": ts,
                }
            )

    def insert(table: str, rows: list[dict[str, object]]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        )
        con.executemany(sql, [tuple(r[c] for c in columns) for r in rows])

    with con:
        insert("registered_models", model_rows)
        insert("model_versions", version_rows)
        con.execute(
            "UPDATE model_versions SET creation_time = ?, last_updated_time = ? "
            "WHERE name = 'model-000' AND version = 1",
            (BASE_TS + 1, BASE_TS + 1),
        )
    con.close()


def run(args: argparse.Namespace) -> Result:
    models = 4 if args.quick else 100
    versions = 250 if args.quick else 1000
    mlflow, client = connect(args.tool, args.tmp)
    db = args.tmp / "store.db"
    start = time.perf_counter()
    if args.tool == "mltrail":
        populate_mltrail(client, models, versions)
    else:
        populate_mlflow(client, db, models, versions)
    populate_s = time.perf_counter() - start
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
    times = []
    for _ in range(args.searches):
        t0 = time.perf_counter()
        search()
        times.append(time.perf_counter() - t0)
    del mlflow
    return {
        "versions": models * versions,
        "populate_s": populate_s,
        "median_ms": median(times) * 1e3,
        "min_ms": min(times) * 1e3,
        "searches": args.searches,
    }


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--searches", type=int, default=9, help="timed searches")
    return p


if __name__ == "__main__":
    main("search_versions", run, build_parser())
