"""Workload ``log_batch``: ``MlflowClient().log_batch(run_id, metrics=[1000 x Metric])`` points/s.

Each batch holds 1,000 metrics: 10 keys x 100 consecutive steps.  One untimed warm-up batch goes
to another run; then ``--batches`` calls are timed.  Afterwards one key's history must hold
every step logged for it.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.tracking._common import Result, check, connect, load_sub, main, parser

BATCH = 1_000
KEYS = 10
DEFAULT_BATCHES = {"mltrail": 200, "mlflow": 10}
QUICK_BATCHES = {"mltrail": 20, "mlflow": 2}


def run(args: argparse.Namespace) -> Result:
    batches = args.batches or (QUICK_BATCHES if args.quick else DEFAULT_BATCHES)[args.tool]
    _, client = connect(args.tool, args.tmp)
    metric_cls = load_sub(args.tool, "entities").Metric
    experiment_id = client.create_experiment("log_batch")
    steps_per_key = BATCH // KEYS
    timestamp = int(time.time() * 1000)

    def batch(b: int) -> list[object]:
        return [
            metric_cls(f"m{k}", float(b * steps_per_key + s), timestamp, b * steps_per_key + s)
            for k in range(KEYS)
            for s in range(steps_per_key)
        ]

    payloads = [batch(b) for b in range(batches)]  # built before timing
    client.log_batch(client.create_run(experiment_id).info.run_id, metrics=batch(0))  # warm-up
    run_id = client.create_run(experiment_id).info.run_id
    start = time.perf_counter()
    for metrics in payloads:
        client.log_batch(run_id, metrics=metrics)
    elapsed = time.perf_counter() - start

    history = client.get_metric_history(run_id, "m0")
    check(len(history) == batches * steps_per_key, f"{len(history)} points of m0 read back")
    points = batches * BATCH
    return {
        "batches": batches,
        "points": points,
        "points_per_s": points / elapsed,
        "loop_s": elapsed,
    }


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--batches", type=int, default=0, help="default: 200 mltrail, 10 mlflow")
    return p


if __name__ == "__main__":
    main("log_batch", run, build_parser())
