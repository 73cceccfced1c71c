"""Workload ``search`` through the REST API: ``runs/search`` over 100,000 runs of one experiment.

    python -m benchmarks.server.bench_search --tool mltrail|mlflow --tmp DIR [--populate-cache DIR]
        [--auth none|admin|user|restricted]

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

With ``--auth`` the server authenticates (``_server``'s module doc) and the searches are sent
as that caller (``user``: the non-admin ``bench``, who reads every experiment by the default
permission READ).  ``--auth restricted`` is the search *filtered by permissions*: the default
permission is NO_PERMISSIONS; before the timing the admin creates ``--hidden-experiments``
(default 4) experiments of ``--hidden-runs`` (default 25) runs each that match the filter with
``m1`` from 10 up (above every generated ``m1``, so any of them leaking into the answer would
head it), grants ``bench`` READ on the populated experiment and an explicit denial (:data:`DENIED`)
on half of the hidden ones (the others and experiment 0 stay at the default), and checks that
it sees every hidden run itself.  The timed request asks for every one of these experiments
(the populated one, the hidden ones, 0): both servers drop the ones the caller may not read
(mltrail inside the query, MLflow from the id list beforehand), so the top 100 must still be
the generator's (``hidden_runs``, ``visible_runs`` are reported).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from benchmarks.server._server import (
    Http,
    Server,
    add_auth_argument,
    grant,
    now_ms,
    running_server,
)
from benchmarks.tracking import bench_search as tracking_search
from benchmarks.tracking._common import Result, check, main, parser

#: An explicit denial: MLflow 3.17 names it DENY (its resource grants refuse NO_PERMISSIONS);
#: mltrail takes DENY as its NO_PERMISSIONS.
DENIED = "DENY"


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
    with running_server(args.tool, args.tmp, store_uri=store_uri, auth=args.auth) as server:
        if args.auth == "restricted":
            facts = {**facts, **restrict(server, experiment_id, args, body)}
            body = facts.pop("body")
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


def restrict(server: Server, experiment_id: str, args: argparse.Namespace, body: bytes) -> Result:
    """As the admin: hidden experiments and runs, and the grants of ``--auth restricted``
    (see the module's doc); the facts, and the search's new body under ``body``."""
    admin = Http(server, credentials=server.admin)
    ts = now_ms()
    hidden = []
    for e in range(args.hidden_experiments):
        hidden_id = admin.call("POST", "experiments/create", {"name": f"hidden-{e}"})
        hidden.append(hidden_id["experiment_id"])
        for r in range(args.hidden_runs):
            run = admin.call(
                "POST", "runs/create", {"experiment_id": hidden[-1], "start_time": ts}
            )["run"]["info"]["run_id"]
            batch = {
                "run_id": run,
                "params": [{"key": "p0", "value": "v3"}],
                "metrics": [
                    {"key": "m0", "value": 0.9, "timestamp": ts, "step": 0},
                    {
                        "key": "m1",
                        "value": 10.0 + e * args.hidden_runs + r,
                        "timestamp": ts,
                        "step": 0,
                    },
                ],
            }
            admin.call("POST", "runs/log-batch", batch)
    grant(admin, "experiment", experiment_id, "READ")
    for hidden_id in hidden[: len(hidden) // 2]:
        grant(admin, "experiment", hidden_id, DENIED)
    every = [experiment_id, *hidden, "0"]
    seen = admin.call(
        "POST",
        "runs/search",
        {"experiment_ids": hidden, "filter": tracking_search.FILTER, "max_results": 1000},
    ).get("runs", [])
    check(len(seen) == len(hidden) * args.hidden_runs, f"the admin sees {len(seen)} hidden runs")
    admin.close()
    new_body = json.loads(body)
    new_body["experiment_ids"] = every
    return {
        "visible_runs": args.runs or (2_000 if args.quick else 100_000),
        "hidden_runs": len(hidden) * args.hidden_runs,
        "hidden_experiments": len(hidden),
        "searched_experiments": len(every),
        "body": json.dumps(new_body).encode(),
    }


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--runs", type=int, default=0, help="runs (default 100,000)")
    p.add_argument(
        "--searches", type=int, default=0, help="timed searches (default 9; MLflow 3: ~1 min each)"
    )
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--populate-cache", type=Path, help="keep/reuse populated stores here")
    p.add_argument("--hidden-experiments", type=int, default=4, help="--auth restricted")
    p.add_argument("--hidden-runs", type=int, default=25, help="per hidden experiment")
    add_auth_argument(p)
    return p


if __name__ == "__main__":
    main("search", run, build_parser())
