"""Browser benchmark of mltrail's web UI (issue 7's speed targets), in Debian's Chromium.

    python3 benchmarks/ui/bench_ui.py [--runs 100000] [--steps 1000000] [--repeat 5]

Data, logged through mltrail's Python API into a fresh SQLite store in a temporary directory,
then served by a real ``mltrail server`` on a free 127.0.0.1 port:

* ``table``: one experiment of ``--runs`` runs (params p0..p9, metrics m0..m4, step 0).
  *first rows*: from navigation to ``/experiments/<id>`` until the first table row is drawn;
  *re-sort*: from the click on the ``m1`` column header until the run with the largest m1
  is the first row.
* ``compare``: 100 runs x 10 metrics x 10,000 steps; from navigation to ``/compare?runs=...``
  until every one of the 10 charts has drawn its points.
* ``chart``: one run with a ``--steps``-step metric; *draw*: from navigation to the metric tab
  until its chart has drawn; *zoom*: from releasing a drag over 10% of the plot until the chart
  has re-drawn with the series the server reduced for that step range.

Each figure is the median of ``--repeat`` fresh page loads (one warm-up load first).  Results
go to ``benchmarks/results/ui-<time>.json``.  MLflow's UI is not measured by this script.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
CHROMIUM = "/usr/bin/chromium"
TARGETS = {
    "table_first_rows_ms": 1000.0,
    "table_resort_ms": 300.0,
    "compare_all_charts_ms": 2000.0,
    "chart_draw_ms": 1000.0,
    "chart_zoom_ms": 300.0,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def populate(uri: str, runs: int, steps: int, seed: int) -> dict[str, Any]:
    import mltrail
    from mltrail.entities import Metric, Param

    mltrail.set_tracking_uri(uri)
    client = mltrail.MlflowClient()
    rng = random.Random(seed)
    t0 = time.perf_counter()
    table_exp = client.create_experiment("table")
    best_m1, best_run = -1.0, ""
    for i in range(runs):
        metrics = [rng.random() for _ in range(5)]
        run = client.create_run(table_exp, start_time=1_700_000_000_000 + i, run_name=f"run-{i}")
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(f"m{k}", v, 0, 0) for k, v in enumerate(metrics)],
            params=[Param(f"p{k}", f"v{rng.randrange(10)}") for k in range(10)],
        )
        client.set_terminated(run.info.run_id)
        if metrics[1] > best_m1:
            best_m1, best_run = metrics[1], run.info.run_id
    compare_exp = client.create_experiment("compare")
    compare_runs = []
    for r in range(100):
        run = client.create_run(compare_exp, run_name=f"cmp-{r}")
        for k in range(10):
            for start in range(0, 10_000, 1000):
                batch = [
                    Metric(f"metric{k}", math.sin(s / (300 + r)) + k, s, s)
                    for s in range(start, start + 1000)
                ]
                client.log_batch(run.info.run_id, metrics=batch)
        client.set_terminated(run.info.run_id)
        compare_runs.append(run.info.run_id)
    long_run = client.create_run(compare_exp, run_name="long")
    for start in range(0, steps, 1000):
        batch = [
            Metric("big", math.sin(s / 5000) + 0.1 * math.sin(s / 37), s, s)
            for s in range(start, min(steps, start + 1000))
        ]
        client.log_batch(long_run.info.run_id, metrics=batch)
    client.set_terminated(long_run.info.run_id)
    mltrail.set_tracking_uri(None)
    return {
        "table_experiment": table_exp,
        "best_m1_run": best_run,
        "compare_runs": compare_runs,
        "long_run": long_run.info.run_id,
        "populate_s": time.perf_counter() - t0,
    }


@contextlib.contextmanager
def server(uri: str, artifacts: Path) -> Iterator[str]:
    port = _free_port()
    cmd = [sys.executable, "-c", "from mltrail.cli import main; main()", "server"]
    cmd += ["--backend-store-uri", uri, "--default-artifact-root", str(artifacts)]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mltrail server did not start")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def measure(page: Any, url: str, data: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    row = "[role=grid] [role=row][data-run-id]"
    exp = data["table_experiment"]
    t0 = time.perf_counter()
    page.goto(f"{url}/experiments/{exp}?cols=attr:run_name,attr:status,metric:m1,param:p0")
    page.wait_for_selector(row)
    out["table_first_rows_ms"] = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    page.click("[role=columnheader][data-col='metric:m1']")
    page.wait_for_function(
        "([sel, id]) => document.querySelector(sel)?.dataset.runId === id",
        arg=[row, data["best_m1_run"]],
        polling="raf",
    )
    out["table_resort_ms"] = (time.perf_counter() - t0) * 1e3

    ids = ",".join(data["compare_runs"])
    t0 = time.perf_counter()
    page.goto(f"{url}/compare?runs={ids}")
    page.wait_for_function(
        "() => { const c = document.querySelectorAll('[data-testid=chart] .chart-host');"
        " return c.length === 10 && [...c].every(h => Number(h.dataset.points) > 0); }",
        polling="raf",
        timeout=60000,
    )
    out["compare_all_charts_ms"] = (time.perf_counter() - t0) * 1e3

    host = "[data-metric='big'] .chart-host"
    t0 = time.perf_counter()
    page.goto(f"{url}/runs/{data['long_run']}?tab=metrics")
    page.wait_for_function(
        f'() => Number(document.querySelector("{host}")?.dataset.points) > 0', polling="raf"
    )
    out["chart_draw_ms"] = (time.perf_counter() - t0) * 1e3
    box = page.locator(f"{host} .u-over").bounding_box()
    drawn = page.get_attribute(host, "data-drawn")
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.45, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.55, y, steps=4)
    t0 = time.perf_counter()
    page.mouse.up()
    page.wait_for_function(
        "([sel, before]) => document.querySelector(sel)?.dataset.drawn !== before",
        arg=[host, drawn],
        polling="raf",
    )
    out["chart_zoom_ms"] = (time.perf_counter() - t0) * 1e3
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="mltrail-ui-bench-") as tmp:
        uri = f"sqlite:///{Path(tmp) / 'store.db'}"
        data = populate(uri, args.runs, args.steps, args.seed)
        print(f"populated in {data['populate_s']:.1f} s", file=sys.stderr)
        with server(uri, Path(tmp) / "artifacts") as url, sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            samples: dict[str, list[float]] = {}
            for i in range(args.repeat + 1):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                page.set_default_timeout(60000)
                got = measure(page, url, data)
                context.close()
                if i == 0:
                    continue  # warm-up: caches, the server's first queries
                for k, v in got.items():
                    samples.setdefault(k, []).append(v)
            browser.close()
    medians = {k: statistics.median(v) for k, v in samples.items()}
    return {
        "runs": args.runs,
        "steps": args.steps,
        "repeat": args.repeat,
        "populate_s": data["populate_s"],
        "medians_ms": medians,
        "samples_ms": samples,
        "targets_ms": TARGETS,
    }


def main(argv: list[str] | None = None, report: Callable[[str], None] = print) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=100_000, help="runs in the table experiment")
    p.add_argument("--steps", type=int, default=1_000_000, help="steps of the long metric")
    p.add_argument("--repeat", type=int, default=5, help="timed page loads (median)")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    result = run(args)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / time.strftime("ui-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(result, indent=2))
    report(f"{'figure':<24}{'median':>12}{'target':>12}  result")
    for key, target in TARGETS.items():
        value = result["medians_ms"][key]
        verdict = "PASS" if value <= target else "FAIL"
        report(f"{key:<24}{value:>10.0f}ms{target:>10.0f}ms  {verdict}")
    report(f"(raw numbers: {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
