"""Server workloads over raw HTTP, the same requests to ``mltrail server`` and ``mlflow server``.

    python -m benchmarks.server.bench_server --workload NAME --tool mltrail|mlflow --tmp DIR
        [--auth none|admin|user]

Each workload starts a fresh server (SQLite file in ``--tmp``, ``--workers 1`` unless said
otherwise), talks to it through one kept-alive ``http.client`` connection (``_server.Http``:
the same client code for both, request bodies serialised before the clock starts) and prints
one JSON line:

* ``startup``: seconds from the command to the first ``/health`` 200 (``start_s``); then a
  few requests (experiment, run, metric, search) and 1 s of rest, and the resident memory
  summed over every process of the server (``rss_mb``, ``processes``).
* ``create_run``: sequential ``runs/create`` calls (experiment 0, a run name and one tag):
  ``runs_per_s`` and ``p50_ms``.
* ``log_batch``: sequential ``runs/log-batch`` calls of 1000 metrics each (10 keys x 100
  steps) into one run: ``points_per_s``; afterwards the run's ``metrics/get-history`` of one
  key must return every point.
* ``keepalive``: the server with ``--workers 4``; one single-threaded client's synchronous
  ``runs/log-metric`` calls on one kept-alive connection: ``p50_ms``, ``p90_ms`` (Nagle's
  algorithm shows as ~40 ms); also ``start_s``, ``rss_mb`` and ``processes`` with 4 workers.
* ``artifacts``: 1 GiB (``--artifact-mib``) uploaded through the artifact proxy
  (``PUT /api/2.0/mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/big.bin``, a
  streamed body with a Content-Length) and downloaded (``GET``, read in 1 MiB pieces, every
  piece compared with what was sent): ``upload_mb_s``, ``download_mb_s`` (10^6 bytes/s) and
  the server's summed RSS sampled every 50 ms: ``idle_rss_mb``, ``upload_rss_growth_mb`` and
  ``download_rss_growth_mb`` (peak minus idle).
* ``get_run`` (for the authentication overhead, ``benchmarks/auth``): the server with
  ``--workers 4``; a run with 10 params, 5 metrics and 3 tags; one single-threaded client's
  synchronous ``GET runs/get`` calls on one kept-alive connection: ``p50_ms``, ``p90_ms``.

``--auth`` (default ``none``) starts the server with ``--app-name basic-auth`` and sends every
request with HTTP Basic credentials (``_server``'s module doc): ``user`` is a non-admin user
who owns the experiments it creates and has MANAGE on experiment 0 (``create_run``'s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator

from benchmarks.server._server import (
    Http,
    RssSampler,
    Server,
    add_auth_argument,
    now_ms,
    running_server,
)
from benchmarks.tracking._common import Result, check, main, parser

WORKLOADS = ("startup", "create_run", "log_batch", "keepalive", "artifacts", "get_run")
KEEPALIVE_WORKERS = 4
MIB = 1 << 20


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed_calls(n: int, call: Callable[[int], object]) -> tuple[float, list[float]]:
    """(total seconds, per-call seconds) of call(0) ... call(n - 1)."""
    times = []
    begin = time.perf_counter()
    for i in range(n):
        start = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - start)
    return time.perf_counter() - begin, times


def _new_run(client: Http, name: str) -> tuple[str, str]:
    experiment_id = client.call("POST", "experiments/create", {"name": name})["experiment_id"]
    run = client.call(
        "POST", "runs/create", {"experiment_id": experiment_id, "start_time": now_ms()}
    )["run"]
    return experiment_id, run["info"]["run_id"]


def startup(args: argparse.Namespace) -> Result:
    with running_server(args.tool, args.tmp, auth=args.auth) as server:
        client = Http(server)
        experiment_id, run_id = _new_run(client, "idle")
        client.call(
            "POST",
            "runs/log-metric",
            {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": now_ms(), "step": 0},
        )
        client.call("POST", "runs/search", {"experiment_ids": [experiment_id]})
        client.close()
        time.sleep(1.0)
        return {
            "start_s": server.start_s,
            "rss_mb": server.rss_mb(),
            "processes": server.processes(),
        }


def create_run(args: argparse.Namespace) -> Result:
    n = args.calls or (300 if args.quick else {"mltrail": 1000, "mlflow": 200}[args.tool])
    ts = now_ms()
    bodies = [
        json.dumps(
            {
                "experiment_id": "0",
                "start_time": ts + i,
                "run_name": f"run-{i}",
                "tags": [{"key": "team", "value": "bench"}],
            }
        ).encode()
        for i in range(n + 20)
    ]
    with running_server(args.tool, args.tmp, auth=args.auth) as server:
        client = Http(server)
        for body in bodies[:20]:  # warm-up
            client.call("POST", "runs/create", body)
        total, times = _timed_calls(n, lambda i: client.call("POST", "runs/create", bodies[20 + i]))
        found = client.call("POST", "runs/search", {"experiment_ids": ["0"], "max_results": 1})
        check(len(found.get("runs", [])) == 1, "no run found after creating them")
        client.close()
    return {
        "calls": n,
        "runs_per_s": n / total,
        "p50_ms": statistics.median(times) * 1e3,
    }


def log_batch(args: argparse.Namespace) -> Result:
    n = args.calls or (5 if args.quick else {"mltrail": 50, "mlflow": 5}[args.tool])
    keys, steps = 10, 100
    with running_server(args.tool, args.tmp, auth=args.auth) as server:
        client = Http(server)
        _, run_id = _new_run(client, "batch")
        ts = now_ms()

        def body(b: int) -> bytes:
            metrics = [
                {
                    "key": f"m{k}",
                    "value": float(b * steps + s) / 7,
                    "timestamp": ts,
                    "step": b * steps + s,
                }
                for k in range(keys)
                for s in range(steps)
            ]
            return json.dumps({"run_id": run_id, "metrics": metrics}).encode()

        bodies = [body(b) for b in range(n + 2)]
        for warm in bodies[:2]:
            client.call("POST", "runs/log-batch", warm)
        total, _ = _timed_calls(n, lambda i: client.call("POST", "runs/log-batch", bodies[2 + i]))
        history = client.call(
            "GET", f"metrics/get-history?run_id={run_id}&metric_key=m0&max_results=1000000"
        )
        got = len(history.get("metrics", []))
        check(got == (n + 2) * steps, f"{got} points of m0 read back, {(n + 2) * steps} logged")
        client.close()
    return {"batches": n, "points_per_s": n * keys * steps / total, "batch_ms": total / n * 1e3}


def keepalive(args: argparse.Namespace) -> Result:
    n = args.calls or (50 if args.quick else 300)
    with running_server(args.tool, args.tmp, workers=KEEPALIVE_WORKERS, auth=args.auth) as server:
        client = Http(server)
        _, run_id = _new_run(client, "keepalive")
        ts = now_ms()
        bodies = [
            json.dumps(
                {"run_id": run_id, "key": "loss", "value": i / 3, "timestamp": ts, "step": i}
            ).encode()
            for i in range(n + 20)
        ]
        for body in bodies[:20]:
            client.call("POST", "runs/log-metric", body)
        _, times = _timed_calls(n, lambda i: client.call("POST", "runs/log-metric", bodies[20 + i]))
        client.close()
        time.sleep(0.5)
        return {
            "calls": n,
            "p50_ms": statistics.median(times) * 1e3,
            "p90_ms": _p(times, 0.9) * 1e3,
            "workers": KEEPALIVE_WORKERS,
            "start_s": server.start_s,
            "rss_mb": server.rss_mb(),
            "processes": server.processes(),
        }


def get_run(args: argparse.Namespace) -> Result:
    n = args.calls or (50 if args.quick else 1000)
    with running_server(args.tool, args.tmp, workers=KEEPALIVE_WORKERS, auth=args.auth) as server:
        client = Http(server)
        _, run_id = _new_run(client, "get-run")
        ts = now_ms()
        client.call(
            "POST",
            "runs/log-batch",
            {
                "run_id": run_id,
                "params": [{"key": f"p{i}", "value": f"v{i}"} for i in range(10)],
                "metrics": [
                    {"key": f"m{i}", "value": i / 3, "timestamp": ts, "step": 0} for i in range(5)
                ],
                "tags": [{"key": f"t{i}", "value": f"t{i}"} for i in range(3)],
            },
        )
        path = f"runs/get?run_id={run_id}"
        for _ in range(20):
            got = client.call("GET", path)["run"]["data"]
        check(len(got.get("params", [])) == 10, f"{len(got.get('params', []))} params read back")
        _, times = _timed_calls(n, lambda i: client.call("GET", path))
        client.close()
    return {
        "calls": n,
        "p50_ms": statistics.median(times) * 1e3,
        "p90_ms": _p(times, 0.9) * 1e3,
        "workers": KEEPALIVE_WORKERS,
    }


def _pieces(block: bytes, count: int) -> Iterator[bytes]:
    for _ in range(count):
        yield block


def _upload(server: Server, path: str, block: bytes, count: int) -> None:
    client = Http(server)
    response = client.raw(
        "PUT",
        path,
        _pieces(block, count),
        **{"Content-Length": str(len(block) * count), "Content-Type": "application/octet-stream"},
    )
    answer = response.read()
    client.close()
    check(response.status == 200, f"upload: HTTP {response.status}: {answer[:300]!r}")


def _download(server: Server, path: str, block: bytes, count: int) -> None:
    client = Http(server)
    response = client.raw("GET", path)
    check(response.status == 200, f"download: HTTP {response.status}")
    received = 0
    while True:
        piece = response.read(len(block))
        if not piece:
            break
        check(piece == block[: len(piece)], f"downloaded bytes differ at offset {received}")
        received += len(piece)
    client.close()
    check(received == len(block) * count, f"{received} bytes downloaded, {len(block) * count} sent")


def artifacts(args: argparse.Namespace) -> Result:
    mib = args.artifact_mib or (64 if args.quick else 1024)
    block = os.urandom(MIB)  # one random MiB, sent mib times (compared piece by piece)
    with running_server(args.tool, args.tmp, auth=args.auth) as server:
        client = Http(server)
        experiment_id, run_id = _new_run(client, "artifacts")
        client.close()
        path = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/big.bin"
        _upload(server, path.replace("big.bin", "warm.bin"), block, 1)  # warm-up
        time.sleep(0.5)
        idle = server.rss_mb()
        with RssSampler(server) as up:
            start = time.perf_counter()
            _upload(server, path, block, mib)
            upload_s = time.perf_counter() - start
        stored = args.tmp / "server-artifacts" / experiment_id / run_id / "artifacts" / "big.bin"
        check(stored.stat().st_size == mib * MIB, f"stored file has {stored.stat().st_size} bytes")
        with RssSampler(server) as down:
            start = time.perf_counter()
            _download(server, path, block, mib)
            download_s = time.perf_counter() - start
    size_mb = mib * MIB / 1e6
    return {
        "mib": mib,
        "upload_mb_s": size_mb / upload_s,
        "download_mb_s": size_mb / download_s,
        "idle_rss_mb": idle,
        "upload_rss_growth_mb": up.peak_mb - idle,
        "download_rss_growth_mb": down.peak_mb - idle,
    }


RUNNERS: dict[str, Callable[[argparse.Namespace], Result]] = {
    "startup": startup,
    "create_run": create_run,
    "log_batch": log_batch,
    "keepalive": keepalive,
    "artifacts": artifacts,
    "get_run": get_run,
}


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--workload", choices=WORKLOADS, required=True)
    p.add_argument("--calls", type=int, default=0, help="requests to time (default per workload)")
    p.add_argument("--artifact-mib", type=int, default=0, help="artifact size (default 1024)")
    add_auth_argument(p)
    return p


if __name__ == "__main__":
    _args = build_parser().parse_known_args()[0]
    main(_args.workload, RUNNERS[_args.workload], build_parser())
