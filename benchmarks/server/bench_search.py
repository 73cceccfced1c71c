"""Workload ``search`` through the REST API: ``runs/search`` over 100,000 runs of one experiment.

    python -m benchmarks.server.bench_search --tool mltrail|mlflow --tmp DIR [--populate-cache DIR]

The store is the one of the tracking benchmark's search workload (``benchmarks.tracking.
bench_search``, same generator and seed): run i has params p0..p9, metrics m0..m4 and tags
t0..t2; mltrail's store is filled through its public API (``create_run`` + ``log_batch`` per
run), MLflow's by ``executemany`` into its own schema after its client created it (see that
module).  With ``--populate-cache`` (the runner's default) a populated store is copied from
there, so repeats do not populate again (a cached mltrail store of an older schema is first
upgraded with ``mltrail db upgrade``).  Then the tool's server starts on that SQLite file (one
worker) and the request ``{"experiment_ids": [id], "filter": "params.p0 = 'v3' and metrics.m0 >
0.5", "order_by": ["metrics.m1 DESC"], "max_results": 100}`` is sent through one kept-alive
connection: one warm-up, whose top 100 must equal what the generator predicts, then
``--searches`` timed requests (default 9; MLflow's take about a minute each here, so 3), the
answer decoded by the client: ``p50_ms``, ``min_ms``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from benchmarks.server._server import Http, running_server
from benchmarks.tracking import bench_search as tracking_search
from benchmarks.tracking._common import Result, check, main, parser


def run(args: argparse.Namespace) -> Result:
    n = args.runs or (2_000 if args.quick else 100_000)
    data = list(tracking_search.generate(n, args.seed))
    _, experiment_id, facts = tracking_search.populated(args, n, data)
    _, top = tracking_search.expected(data, lambda r: r.params[0] == "v3" and r.metrics[0] > 0.5)
    body = json.dumps(
        {
            "experiment_ids": [experiment_id],
            "filter": tracking_search.FILTER,
            "order_by": tracking_search.ORDER_BY,
            "max_results": tracking_search.TOP,
        }
    ).encode()
    store_uri = f"sqlite:///{(args.tmp / 'store.db').resolve()}"
    with running_server(args.tool, args.tmp, store_uri=store_uri) as server:
        client = Http(server)

        def search() -> list[float]:
            runs = client.call("POST", "runs/search", body).get("runs", [])
            return [
                next(m["value"] for m in r["data"]["metrics"] if m["key"] == "m1") for r in runs
            ]

        check(search() == top, f"ordered top {tracking_search.TOP} differs")  # + warm-up
        times = []
        searches = args.searches or (3 if args.tool == "mlflow" else 9)
        for _ in range(searches):
            start = time.perf_counter()
            search()
            times.append(time.perf_counter() - start)
        client.close()
    return {
        **facts,
        "runs": n,
        "p50_ms": statistics.median(times) * 1e3,
        "min_ms": min(times) * 1e3,
        "searches": searches,
    }


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--runs", type=int, default=0, help="runs (default 100,000)")
    p.add_argument(
        "--searches", type=int, default=0, help="timed searches (default 9; MLflow 3: ~1 min each)"
    )
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--populate-cache", type=Path, help="keep/reuse populated stores here")
    return p


if __name__ == "__main__":
    main("search", run, build_parser())
