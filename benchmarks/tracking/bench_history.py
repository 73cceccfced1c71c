"""Workload ``history``: ``MlflowClient().get_metric_history`` of a 1,000,000-point metric.

Populate (untimed): one run with N points of ``loss`` (step i, value i / 2, timestamp base + i).
  * mltrail: its public API, ``MlflowClient().log_batch`` in chunks of 1,000.
  * mlflow: ``--populate sql`` (default) creates the experiment and run through MLflow's client,
    then bulk-inserts the points with sqlite3 ``executemany`` into MLflow's own ``metrics`` and
    ``latest_metrics`` tables (what its log_batch writes, ~100x faster); ``--populate api`` uses
    MLflow's log_batch instead (~2 minutes for 1M points).
Read (timed): a fresh child process opens the store (``get_run``, untimed), then times one
``get_metric_history`` and records its peak-RSS growth (VmHWM after - VmRSS before); a second
read under tracemalloc gives the peak of Python-level allocations.  Every point is checked.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from benchmarks.tracking._common import (
    Result,
    check,
    connect,
    load_sub,
    main,
    parser,
    rss_kib,
)

KEY = "loss"
CHUNK = 1_000
BASE_TS = 1_700_000_000_000


def _point(i: int) -> tuple[str, float, int, int]:
    return KEY, i / 2, BASE_TS + i, i


def populate_api(tool: str, client: object, run_id: str, n: int) -> None:
    metric_cls = load_sub(tool, "entities").Metric
    log_batch = client.log_batch  # type: ignore[attr-defined]
    for lo in range(0, n, CHUNK):
        log_batch(run_id, metrics=[metric_cls(*_point(i)) for i in range(lo, min(n, lo + CHUNK))])


def populate_mlflow_sql(db: Path, run_id: str, n: int) -> None:
    """Rows as MLflow's SQL store writes them: metrics + the latest_metrics summary row."""
    con = sqlite3.connect(db)
    with con:
        con.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
            " VALUES (?, ?, ?, ?, ?, 0)",
            ((k, v, ts, run_id, s) for k, v, ts, s in map(_point, range(n))),
        )
        k, v, ts, s = _point(n - 1)
        con.execute(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
            " VALUES (?, ?, ?, ?, 0, ?)",
            (k, v, ts, s, run_id),
        )
    con.close()


def read(args: argparse.Namespace) -> Result:
    _, client = connect(args.tool, args.tmp)
    client.get_run(args.run_id)  # store opened, schema checked: not part of the read
    gc.collect()
    rss_before, _ = rss_kib()
    start = time.perf_counter()
    history = client.get_metric_history(args.run_id, KEY)
    read_s = time.perf_counter() - start
    _, peak_after = rss_kib()
    check(len(history) == args.n, f"{len(history)} points read back, {args.n} stored")
    ordered = sorted(history, key=lambda m: m.step)
    check(
        all((m.key, m.value, m.timestamp, m.step) == _point(i) for i, m in enumerate(ordered)),
        "points read back differ from the points stored",
    )
    del history, ordered
    gc.collect()
    tracemalloc.start()
    client.get_metric_history(args.run_id, KEY)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "read_s": read_s,
        "rss_delta_mb": (peak_after - rss_before) / 1024,
        "tracemalloc_peak_mb": traced_peak / 2**20,
    }


def run(args: argparse.Namespace) -> Result:
    if args.phase == "read":
        return read(args)
    n = args.n or (20_000 if args.quick else 1_000_000)
    _, client = connect(args.tool, args.tmp)
    run_id = client.create_run(client.create_experiment("history")).info.run_id
    method = "api" if args.tool == "mltrail" else args.populate
    start = time.perf_counter()
    if method == "api":
        populate_api(args.tool, client, run_id, n)
    else:
        populate_mlflow_sql(args.tmp / "store.db", run_id, n)
    populate_s = time.perf_counter() - start
    reader = [sys.executable, "-m", "benchmarks.tracking.bench_history", "--phase", "read"]
    proc = subprocess.run(
        [*reader, "--tool", args.tool, "--tmp", str(args.tmp), "--run-id", run_id, "--n", str(n)],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stderr.write(proc.stderr)
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    check(child.get("status") == "ok", f"read phase: {child.get('error')}")
    return {
        "points": n,
        "populate": method,
        "populate_s": populate_s,
        **{k: child[k] for k in ("read_s", "rss_delta_mb", "tracemalloc_peak_mb")},
    }


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--n", type=int, default=0, help="points (default 1,000,000)")
    p.add_argument("--populate", choices=("sql", "api"), default="sql", help="mlflow only")
    p.add_argument("--phase", choices=("all", "read"), default="all", help=argparse.SUPPRESS)
    p.add_argument("--run-id", default="", help=argparse.SUPPRESS)
    return p


if __name__ == "__main__":
    main("history", run, build_parser())
