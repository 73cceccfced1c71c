"""Workload ``script``: whole-process wall time of a small tracking script.

The script imports the tool, points it at a fresh SQLite file in a fresh directory, starts a
run, logs 10 metrics and ends the run; the time is that of the whole ``python script.py``
process, interpreter start-up included (what a user waits for).  One untimed warm-up run in
its own directory comes first (byte-code compilation); afterwards the timed run's store is
read back to check that the 10 metrics are there.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.tracking._common import (
    Result,
    check,
    child_env,
    connect,
    main,
    median,
    parser,
    tracking_uri,
)

SCRIPT = """\
import {tool} as mlflow

mlflow.set_tracking_uri({uri!r})
with mlflow.start_run() as run:
    for i in range(10):
        mlflow.log_metric(f"m{{i}}", i * 0.1)
print(run.info.run_id)
"""


def _run_script(tool: str, workdir: Path) -> tuple[float, str]:
    workdir.mkdir()
    script = workdir / "script.py"
    script.write_text(SCRIPT.format(tool=tool, uri=tracking_uri(workdir)), encoding="utf-8")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=workdir, env=child_env(), capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    check(proc.returncode == 0, f"script failed: {proc.stderr[-2000:]}")
    return elapsed, proc.stdout.strip().splitlines()[-1]


def run(args: argparse.Namespace) -> Result:
    _run_script(args.tool, args.tmp / "warmup")
    times: list[float] = []
    run_id = ""
    for i in range(args.rounds):
        elapsed, run_id = _run_script(args.tool, args.tmp / f"round{i}")
        times.append(elapsed)
    _, client = connect(args.tool, args.tmp / f"round{args.rounds - 1}")
    metrics = client.get_run(run_id).data.metrics
    check(metrics == {f"m{i}": i * 0.1 for i in range(10)}, f"metrics read back: {metrics}")
    return {"wall_s": median(times), "rounds": args.rounds}


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--rounds", type=int, default=1, help="timed runs, each in a fresh directory")
    return p


if __name__ == "__main__":
    main("script", run, build_parser())
