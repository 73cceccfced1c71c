"""Workload ``serve``: ``TOOL models serve`` of the same small scikit-learn model.

The model (LogisticRegression on 4 features) is saved with the tool's own
``sklearn.save_model``.  Measured, with one worker and ``--env-manager local`` for both:

- ``startup_s``: from launching the command to the first successful POST /invocations;
- for 1 and 100 rows per request (``dataframe_split`` JSON): requests/s, p50 and p99 latency
  under a closed loop of ``--concurrency`` keep-alive connections for ``--duration`` seconds
  after a warm-up.

Every response is checked (status 200, and the predictions of the startup request).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.serving._load import build_request, post_once, run_load
from benchmarks.tracking._common import Result, check, child_env, load, main, parser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _save_model(tool: str, path: Path) -> list[str]:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    mlflow = load(tool)
    sklearn_flavor = __import__(f"{tool}.sklearn", fromlist=["save_model"])
    models = __import__(f"{tool}.models", fromlist=["infer_signature"])
    rng = np.random.default_rng(0)
    features = ["f0", "f1", "f2", "f3"]
    X = pd.DataFrame(rng.normal(size=(200, 4)), columns=features)
    y = (X["f0"] + X["f1"] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    signature = models.infer_signature(X, model.predict(X))
    sklearn_flavor.save_model(model, str(path), signature=signature)
    del mlflow
    return features


def _body(features: list[str], rows: int) -> bytes:
    data = [[0.1 * (i % 7) - 0.3, 0.2, -0.1 * (i % 3), 0.05 * i % 1] for i in range(rows)]
    return json.dumps({"dataframe_split": {"columns": features, "data": data}}).encode()


def run(args: argparse.Namespace) -> Result:
    if args.quick:
        args.duration, args.warmup = 1.0, 0.3
    model_dir = args.tmp / "model"
    features = _save_model(args.tool, model_dir)
    port = _free_port()
    one = build_request(port, "/invocations", _body(features, 1), "application/json")
    hundred = build_request(port, "/invocations", _body(features, 100), "application/json")
    command = [
        str(Path(sys.executable).parent / args.tool),
        "models",
        "serve",
        "-m",
        str(model_dir),
        "-p",
        str(port),
        "-h",
        "127.0.0.1",
        "-w",
        "1",
        "--env-manager",
        "local",
    ]
    log = open(args.tmp / "server.log", "wb")  # noqa: SIM115 - closed below
    start = time.perf_counter()
    server = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=child_env(), start_new_session=True
    )
    try:
        while True:
            check(server.poll() is None, f"the server exited: {server.returncode}")
            if post_once(port, one) == 200:
                break
            check(time.perf_counter() - start < 300, "the server did not start in 300 s")
            time.sleep(0.02)
        startup_s = time.perf_counter() - start
        result: Result = {"startup_s": startup_s}
        for label, request in (("1", one), ("100", hundred)):
            load_result = run_load(
                port, request, args.concurrency, warmup=args.warmup, duration=args.duration
            )
            check(load_result.errors == 0, f"{load_result.errors} failed requests ({label} rows)")
            check(load_result.requests > 0, f"no request completed ({label} rows)")
            result[f"rps_{label}"] = load_result.rate
            result[f"p50_ms_{label}"] = load_result.percentile(50)
            result[f"p99_ms_{label}"] = load_result.percentile(99)
            result[f"requests_{label}"] = load_result.requests
        return result
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--concurrency", type=int, default=4, help="keep-alive connections")
    p.add_argument("--duration", type=float, default=5.0, help="measured seconds per size")
    p.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds per size")
    return p


if __name__ == "__main__":
    main("serve", run, build_parser())
