"""Workload ``remote_log_metric``: fluent ``log_metric`` calls per second against a server.

A real tracking server process (``mltrail server`` or ``mlflow server``, one worker, a fresh
SQLite file in ``--tmp``) runs on a free 127.0.0.1 port; the tool's client points at it with an
``http://`` tracking URI.  Inside ``with start_run()`` the loop
``for i in range(N): log_metric("loss", float(i), step=i)`` is timed on its own (calls/s on the
caller's side, the target: >= 100,000/s), then ``end_run`` (the time until every point is
stored on the server: target < 2 s for 100,000 points).  Afterwards
``MlflowClient().get_metric_history`` over HTTP must return every point.

    python -m benchmarks.server.bench_remote_log_metric --tool mltrail --tmp /tmp/x
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.tracking._common import Result, check, load, main, parser

DEFAULT_CALLS = {"mltrail": 100_000, "mlflow": 2_000}
QUICK_CALLS = {"mltrail": 10_000, "mlflow": 200}
START_TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command(tool: str, tmp: Path, port: int) -> list[str]:
    store = f"sqlite:///{(tmp / 'server.db').resolve()}"
    artifacts = str((tmp / "server-artifacts").resolve())
    common = ["--backend-store-uri", store, "--host", "127.0.0.1", "--port", str(port)]
    if tool == "mltrail":
        code = "import sys; from mltrail.cli import main; sys.argv[0] = 'mltrail'; main()"
        return [sys.executable, "-c", code, "server", *common, "--artifacts-destination", artifacts]
    return [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        *common,
        "--artifacts-destination",
        artifacts,
        "--workers",
        "1",
    ]


@contextmanager
def running_server(tool: str, tmp: Path) -> Iterator[tuple[str, float]]:
    """Start the tool's server; yield (its URL, seconds until /health answered); stop it."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLTRAIL_", "MLFLOW_"))}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    log = (tmp / "server.log").open("wb")
    start = time.perf_counter()
    # Its own process group: `mlflow server` runs the web server as a child process.
    proc = subprocess.Popen(
        server_command(tool, tmp, port),
        cwd=tmp,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{tool} server exited with {proc.returncode} (see server.log)")
            if time.perf_counter() - start > START_TIMEOUT_S:
                raise RuntimeError(f"{tool} server did not answer within {START_TIMEOUT_S:.0f} s")
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        yield url, time.perf_counter() - start
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is left
        proc.wait(10)
        log.close()


def run(args: argparse.Namespace) -> Result:
    n = args.calls or (QUICK_CALLS if args.quick else DEFAULT_CALLS)[args.tool]
    with running_server(args.tool, args.tmp) as (url, start_s):
        mlflow = load(args.tool)
        mlflow.set_tracking_uri(url)
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
    p.add_argument("--calls", type=int, default=0, help="default: 100,000 mltrail, 2,000 mlflow")
    return p


if __name__ == "__main__":
    main("remote_log_metric", run, build_parser())
