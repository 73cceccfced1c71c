"""Workload ``remote_log_metric``: fluent ``log_metric`` calls per second against a server.

A real tracking server process (``mltrail server`` or ``mlflow server``, one worker, a fresh
SQLite file in ``--tmp``, started by ``benchmarks.server._server.running_server``) runs on a
free 127.0.0.1 port; the tool's client points at it with an
``http://`` tracking URI.  Inside ``with start_run()`` the loop
``for i in range(N): log_metric("loss", float(i), step=i)`` is timed on its own (calls/s on the
caller's side, the target: >= 100,000/s), then ``end_run`` (the time until every point is
stored on the server: target < 2 s for 100,000 points).  Afterwards
``MlflowClient().get_metric_history`` over HTTP must return every point.

    python -m benchmarks.server.bench_remote_log_metric --tool mltrail --tmp /tmp/x [--auth user]

With ``--auth`` the server authenticates (``_server``'s module doc) and the client sends the
user's credentials as users do, through ``MLFLOW_TRACKING_USERNAME``/``PASSWORD``.
"""

from __future__ import annotations

import argparse
import os
import time

from benchmarks.server._server import add_auth_argument, running_server
from benchmarks.tracking._common import Result, check, load, main, parser

DEFAULT_CALLS = {"mltrail": 100_000, "mlflow": 200}  # MLflow: ~10 synchronous calls/s here
QUICK_CALLS = {"mltrail": 10_000, "mlflow": 200}


def run(args: argparse.Namespace) -> Result:
    n = args.calls or (QUICK_CALLS if args.quick else DEFAULT_CALLS)[args.tool]
    with running_server(args.tool, args.tmp, auth=args.auth) as server:
        start_s = server.start_s
        if server.credentials is not None:  # read by both tools' REST clients
            username, password = server.credentials
            os.environ["MLFLOW_TRACKING_USERNAME"] = username
            os.environ["MLFLOW_TRACKING_PASSWORD"] = password
        mlflow = load(args.tool)
        mlflow.set_tracking_uri(server.url)
        log_metric = mlflow.log_metric
        mlflow.MlflowClient().create_experiment("warmup")  # connection and server warm-up
        with mlflow.start_run() as active:
            run_id = active.info.run_id
            start = time.perf_counter()
            for i in range(n):
                log_metric("loss", float(i), step=i)
            loop_s = time.perf_counter() - start
            end_start = time.perf_counter()
        # ``with`` exit calls end_run: everything logged must be stored on the server by then.
        end_s = time.perf_counter() - end_start

        history = mlflow.MlflowClient().get_metric_history(run_id, "loss")
        check(len(history) == n, f"{len(history)} points read back, {n} logged")
        check({m.step for m in history} == set(range(n)), "steps read back differ")
        last = max(history, key=lambda m: m.step)
        check(last.value == float(n - 1), f"last value {last.value}, expected {float(n - 1)}")
        status = mlflow.MlflowClient().get_run(run_id).info.status
        check(status == "FINISHED", f"run status {status}, expected FINISHED")
    return {
        "calls": n,
        "calls_per_s": n / loop_s,
        "loop_s": loop_s,
        "end_run_s": end_s,
        "calls_per_s_incl_end_run": n / (loop_s + end_s),
        "server_start_s": start_s,
    }


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--calls", type=int, default=0, help="default: 100,000 mltrail, 200 mlflow")
    add_auth_argument(p)
    return p


if __name__ == "__main__":
    main("remote_log_metric", run, build_parser())
