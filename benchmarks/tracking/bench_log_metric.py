"""Workload ``log_metric``: fluent ``log_metric(key, value, step=i)`` calls per second.

Inside ``with start_run()``, the loop ``for i in range(N): log_metric("loss", float(i), step=i)``
is timed on its own (calls/s, the target); ``end_run`` is timed separately, since a tool that
logs in the background pays for the writes there (``calls_per_s_incl_end_run``).  Afterwards
``MlflowClient().get_metric_history`` must return every point (count, steps, last value).
"""

from __future__ import annotations

import argparse
import time

from benchmarks.tracking._common import Result, check, connect, main, parser

DEFAULT_CALLS = {"mltrail": 200_000, "mlflow": 2_000}
QUICK_CALLS = {"mltrail": 20_000, "mlflow": 200}


def run(args: argparse.Namespace) -> Result:
    n = args.calls or (QUICK_CALLS if args.quick else DEFAULT_CALLS)[args.tool]
    mlflow, client = connect(args.tool, args.tmp)
    log_metric = mlflow.log_metric
    client.create_experiment("warmup")  # schema creation / migrations happen before timing
    with mlflow.start_run() as active:
        run_id = active.info.run_id
        start = time.perf_counter()
        for i in range(n):
            log_metric("loss", float(i), step=i)
        loop_s = time.perf_counter() - start
        end_start = time.perf_counter()
    # ``with`` exit calls end_run: everything logged must be stored by then.
    end_s = time.perf_counter() - end_start

    history = mlflow.MlflowClient().get_metric_history(run_id, "loss")
    check(len(history) == n, f"{len(history)} points read back, {n} logged")
    check({m.step for m in history} == set(range(n)), "steps read back differ")
    last = max(history, key=lambda m: m.step)
    check(last.value == float(n - 1), f"last value {last.value}, expected {float(n - 1)}")
    return {
        "calls": n,
        "calls_per_s": n / loop_s,
        "loop_s": loop_s,
        "end_run_s": end_s,
        "calls_per_s_incl_end_run": n / (loop_s + end_s),
    }


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--calls", type=int, default=0, help="default: 200,000 mltrail, 2,000 mlflow")
    return p


if __name__ == "__main__":
    main("log_metric", run, build_parser())
