"""Workload ``search``: ``MlflowClient().search_runs`` over 100,000 runs of one experiment.

Data (same for both tools, ``random.Random(seed)``): run i has params p0..p9 = 'v{0..9}',
metrics m0..m4 uniform in [0, 1) (step 0), tags t0..t2 = 't{0..99}'.
Populate (untimed):
  * mltrail: its public API, ``create_run(tags=..., run_name=...)`` + ``log_batch`` per run.
  * mlflow: the experiment through MLflow's client (which creates its schema), then sqlite3
    ``executemany`` into its tables runs, params, tags, metrics and latest_metrics.
Check: both the matching-run count (paged through) and the ordered top 100 must equal what the
generator predicts, so both tools answer the same.  Time: one warm-up, then the median of
``--searches`` (>= 7) identical searches in this process.  mltrail also runs an OR/parentheses
variant (MLflow's grammar rejects OR).
With ``--populate-cache DIR`` a populated store is saved there (SQLite backup API) under a key
of tool, tool version, run count and seed, and later repeats start from a copy of it instead of
populating again (the searches and checks are the same; ``populate`` then says ``cached``).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from benchmarks.tracking._common import (
    Result,
    Tool,
    check,
    connect,
    load_sub,
    main,
    median,
    parser,
)

N_PARAMS, N_METRICS, N_TAGS = 10, 5, 3
BASE_TS = 1_700_000_000_000
FILTER = "params.p0 = 'v3' and metrics.m0 > 0.5"
OR_FILTER = "(params.p0 = 'v3' OR params.p1 = 'v7') AND metrics.m0 > 0.5"
ORDER_BY = ["metrics.m1 DESC"]
TOP = 100


@dataclass(frozen=True)
class RunData:
    index: int
    params: list[str]
    metrics: list[float]
    tags: list[str]

    @property
    def name(self) -> str:
        return f"run-{self.index:06d}"


def generate(n: int, seed: int) -> Iterator[RunData]:
    rng = random.Random(seed)
    for i in range(n):
        params = [f"v{rng.randrange(10)}" for _ in range(N_PARAMS)]
        metrics = [rng.random() for _ in range(N_METRICS)]
        tags = [f"t{rng.randrange(100)}" for _ in range(N_TAGS)]
        yield RunData(i, params, metrics, tags)


def expected(data: list[RunData], match: Callable[[RunData], bool]) -> tuple[int, list[float]]:
    """(matching-run count, m1 of the first TOP matches ordered by m1 descending)."""
    m1 = sorted((r.metrics[1] for r in data if match(r)), reverse=True)
    return len(m1), m1[:TOP]


def populate_api(tool: str, client: Tool, experiment_id: str, data: list[RunData]) -> None:
    entities = load_sub(tool, "entities")
    metric_cls, param_cls = entities.Metric, entities.Param
    for r in data:
        ts = BASE_TS + r.index
        run = client.create_run(
            experiment_id,
            start_time=ts,
            tags={f"t{k}": v for k, v in enumerate(r.tags)},
            run_name=r.name,
        )
        client.log_batch(
            run.info.run_id,
            metrics=[metric_cls(f"m{k}", v, ts, 0) for k, v in enumerate(r.metrics)],
            params=[param_cls(f"p{k}", v) for k, v in enumerate(r.params)],
        )


def populate_mlflow_sql(db: Path, experiment_id: str, data: list[RunData]) -> None:
    """Rows as MLflow's own create_run + log_batch write them (its schema, read from its DB)."""
    con = sqlite3.connect(db)
    (location,) = con.execute(
        "SELECT artifact_location FROM experiments WHERE experiment_id = ?", (int(experiment_id),)
    ).fetchone()
    runs, params, tags, metrics = [], [], [], []
    for r in data:
        rid, ts = uuid.uuid4().hex, BASE_TS + r.index
        runs.append((rid, r.name, ts, f"{location}/{rid}/artifacts", int(experiment_id)))
        params += [(f"p{k}", v, rid) for k, v in enumerate(r.params)]
        tags += [(f"t{k}", v, rid) for k, v in enumerate(r.tags)]
        tags += [("mlflow.runName", r.name, rid), ("mlflow.user", "bench", rid)]
        metrics += [(f"m{k}", v, ts, rid) for k, v in enumerate(r.metrics)]
    with con:
        con.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name,"
            " user_id, status, start_time, end_time, source_version, lifecycle_stage,"
            " artifact_uri, experiment_id, deleted_time)"
            " VALUES (?, ?, 'UNKNOWN', '', '', 'bench', 'RUNNING', ?, NULL, '', 'active', ?, ?,"
            " NULL)",
            runs,
        )
        con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params)
        con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tags)
        con.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
            " VALUES (?, ?, ?, ?, 0, 0)",
            metrics,
        )
        con.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan)"
            " VALUES (?, ?, ?, ?, 0, 0)",
            metrics,
        )
    con.close()


def count_matches(client: Tool, experiment_id: str, filter_string: str) -> int:
    total, token = 0, None
    while True:
        page = client.search_runs(
            [experiment_id], filter_string, max_results=50_000, page_token=token
        )
        total += len(page)
        token = page.token
        if not token:
            return total


def time_search(
    client: Tool, experiment_id: str, filter_string: str, searches: int, top: list[float]
) -> list[float]:
    def search() -> list[float]:
        runs = client.search_runs(
            experiment_ids=[experiment_id],
            filter_string=filter_string,
            order_by=ORDER_BY,
            max_results=TOP,
        )
        return [r.data.metrics["m1"] for r in runs]

    check(search() == top, f"ordered top {TOP} differs for {filter_string!r}")  # + warm-up
    times = []
    for _ in range(searches):
        start = time.perf_counter()
        search()
        times.append(time.perf_counter() - start)
    return times


def sqlite_copy(src: Path, dst: Path) -> None:
    """A consistent copy of an SQLite database, WAL content included."""
    source, target = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def populated(args: argparse.Namespace, n: int, data: list[RunData]) -> tuple[Tool, str, Result]:
    """(client, experiment id, populate facts): populated now or copied from the cache."""
    db = args.tmp / "store.db"
    cached: Path | None = None
    if args.populate_cache is not None:
        version = metadata.version(args.tool)
        cached = args.populate_cache / f"search-{args.tool}-{version}-{n}-{args.seed}.db"
        if cached.is_file():
            sqlite_copy(cached, db)
            if args.tool == "mltrail":  # cached by an older schema: upgrade the copy, as a user
                # would (the cache itself stays as it was made, for older mltrails to read)
                upgrade = [str(Path(sys.executable).with_name("mltrail")), "db", "upgrade"]
                command = [*upgrade, "--no-backup", f"sqlite:///{db.resolve()}"]
                subprocess.run(command, check=True, capture_output=True)
            _, client = connect(args.tool, args.tmp)
            experiment_id = client.get_experiment_by_name("search").experiment_id
            return client, experiment_id, {"populate": "cached"}
    _, client = connect(args.tool, args.tmp)
    experiment_id = client.create_experiment("search")
    start = time.perf_counter()
    if args.tool == "mltrail":
        populate_api(args.tool, client, experiment_id, data)
    else:
        populate_mlflow_sql(db, experiment_id, data)
    facts: Result = {
        "populate": "api" if args.tool == "mltrail" else "sql",
        "populate_s": time.perf_counter() - start,
    }
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        sqlite_copy(db, cached.with_suffix(".tmp"))
        cached.with_suffix(".tmp").replace(cached)
    return client, experiment_id, facts


def run(args: argparse.Namespace) -> Result:
    n = args.runs or (2_000 if args.quick else 100_000)
    data = list(generate(n, args.seed))
    client, experiment_id, facts = populated(args, n, data)

    count, top = expected(data, lambda r: r.params[0] == "v3" and r.metrics[0] > 0.5)
    got = count_matches(client, experiment_id, FILTER)
    check(got == count, f"{got} runs match {FILTER!r}, expected {count}")
    times = time_search(client, experiment_id, FILTER, args.searches, top)
    result: Result = {
        **facts,
        "runs": n,
        "count": got,
        "median_ms": median(times) * 1e3,
        "min_ms": min(times) * 1e3,
        "searches": args.searches,
    }
    if args.tool == "mltrail":
        or_count, or_top = expected(
            data, lambda r: (r.params[0] == "v3" or r.params[1] == "v7") and r.metrics[0] > 0.5
        )
        got = count_matches(client, experiment_id, OR_FILTER)
        check(got == or_count, f"{got} runs match {OR_FILTER!r}, expected {or_count}")
        or_times = time_search(client, experiment_id, OR_FILTER, args.searches, or_top)
        result.update(or_count=got, or_median_ms=median(or_times) * 1e3)
    return result


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--runs", type=int, default=0, help="runs (default 100,000)")
    p.add_argument("--searches", type=int, default=9, help="timed searches (>= 7)")
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument(
        "--populate-cache", type=Path, help="keep/reuse populated stores in this directory"
    )
    return p


if __name__ == "__main__":
    main("search", run, build_parser())
