"""Browser benchmark of the web UI (issue 7's speed targets): mltrail's and MLflow's, side by side.

    python3 benchmarks/ui/bench_ui.py [--runs 100000] [--steps 1000000] [--repeat 3]
                                      [--tools mltrail,mlflow]

Needs Playwright for Python in this interpreter, Debian's Chromium at /usr/bin/chromium and, for
MLflow, ``benchmarks/.venv`` (``benchmarks/setup_env.sh``).  Both tools serve the same data
(see ``benchmarks/ui/_populate.py``: filled with bulk inserts into each tool's own schema and
cached under ``benchmarks/.cache/ui/``, so only the first run pays for it) from their own server
(``mltrail server`` / ``mlflow server``, SQLite store, a free 127.0.0.1 port), and are measured in
the same Chromium with the same viewport (1400 x 2000: tall enough that MLflow's chart view,
which draws only the charts in view, has all 10 compare charts on screen):

* *table first rows*: from navigation to the experiment of ``--runs`` runs until its runs table
  shows a run row.  mltrail: ``/experiments/<id>``; MLflow: ``/#/experiments/<id>``.
* *table re-sort*: from the click that sorts by ``m1`` (descending) until the run with the
  largest m1 is the first row.  mltrail: the ``m1`` column header; MLflow: ``m1`` in its
  "Sort" menu (opened before the clock starts; its metric columns are not shown by default).
* *compare*: 100 runs x 10 metrics x 10,000 steps, from navigation until all 10 metric charts
  have drawn their lines.  mltrail: ``/compare?runs=...``, each chart's ``data-points > 0``.
  MLflow: its experiment page in chart mode (``compareRunsMode=CHART``) draws the first 10 runs;
  from the click on "Show all runs" until each of its 10 plotly charts has 200 line paths (two
  per run); its page load is not counted, which favours MLflow.
* *chart draw*: a run with a ``--steps``-step metric, from navigation (off a blank page) until
  its chart has drawn (MLflow's wait ends after 60 s: its figure is then at least that).
  mltrail: the run page's metrics tab; MLflow: its metric page ``/#/metric/big?runs=[...]``.
* *chart zoom*: from releasing a drag over 10% of that plot until it has re-drawn (mltrail
  re-fetches the series the server reduces for the zoomed step range; for MLflow, until the
  line's SVG path changes).
MLflow's UI is opened on model-training experiments (tag ``mlflow.experimentKind`` =
``custom_model_development``), so it shows its runs page rather than the GenAI overview.

Each figure is the median of ``--repeat`` fresh browser contexts per tool (after one warm-up
load); one tool at a time, with only its server running.  The table gives both medians,
MLflow's time divided by mltrail's, and the verdict on the issue's targets (the absolute limit
and >= 5x faster than MLflow).  A figure whose wait timed out counts as infinite (the rest of
that page load is skipped).  Raw samples and load averages go to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
from benchmarks.ui._populate import Layout, populated  # noqa: E402

RESULTS = HERE.parent / "results"
CHROMIUM = "/usr/bin/chromium"
MLFLOW = HERE.parent / ".venv" / "bin" / "mlflow"
TOOLS = ("mltrail", "mlflow")
TARGETS = {
    "table_first_rows_ms": 1000.0,
    "table_resort_ms": 300.0,
    "compare_all_charts_ms": 2000.0,
    "chart_draw_ms": 1000.0,
    "chart_zoom_ms": 300.0,
}
FACTOR = 5.0  # each at least this many times faster than MLflow's UI
TIMEOUT_MS = 300_000
COMPARE_TIMEOUT_MS = 150_000
CHART_TIMEOUT_MS = 60_000
# MLflow figures whose wait may time out: their time is then at least the timeout.
BOUNDED_MS = {"compare_all_charts_ms": COMPARE_TIMEOUT_MS, "chart_draw_ms": CHART_TIMEOUT_MS}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def server(tool: str, db: Path, artifacts: Path) -> Iterator[str]:
    """A tracking server of *tool* on the store *db*, until the block ends: its URL."""
    with server_process(tool, db, artifacts) as (url, _pid):
        yield url


@contextlib.contextmanager
def server_process(tool: str, db: Path, artifacts: Path) -> Iterator[tuple[str, int]]:
    """A tracking server of *tool* on the store *db*, until the block ends: URL and pid."""
    port = _free_port()
    uri = f"sqlite:///{db}"
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    if tool == "mltrail":
        cmd = [sys.executable, "-c", "from mltrail.cli import main; main()", "server"]
    else:
        cmd = [str(MLFLOW), "server", "--workers", "1"]
        env.pop("PYTHONPATH", None)
    cmd += ["--backend-store-uri", uri, "--default-artifact-root", str(artifacts)]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    log = (artifacts.parent / f"{tool}-server.log").open("wb")
    proc = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=artifacts.parent
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{tool} server did not start (see {log.name})")
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def measure_mltrail(page: Any, url: str, data: Layout, out: dict[str, float]) -> None:
    row = "[role=grid] [role=row][data-run-id]"
    exp = data.table_experiment
    t0 = time.perf_counter()
    page.goto(f"{url}/experiments/{exp}?cols=attr:run_name,attr:status,metric:m1,param:p0")
    page.wait_for_selector(row)
    out["table_first_rows_ms"] = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    page.click("[role=columnheader][data-col='metric:m1']")
    page.wait_for_function(
        "([sel, id]) => document.querySelector(sel)?.dataset.runId === id",
        arg=[row, data.best_m1_run],
        polling="raf",
    )
    out["table_resort_ms"] = (time.perf_counter() - t0) * 1e3

    ids = ",".join(data.compare_runs)
    t0 = time.perf_counter()
    page.goto(f"{url}/compare?runs={ids}")
    page.wait_for_function(
        "() => { const c = document.querySelectorAll('[data-testid=chart] .chart-host');"
        " return c.length === 10 && [...c].every(h => Number(h.dataset.points) > 0); }",
        polling="raf",
        timeout=TIMEOUT_MS,
    )
    out["compare_all_charts_ms"] = (time.perf_counter() - t0) * 1e3

    host = "[data-metric='big'] .chart-host"
    page.goto("about:blank")  # as for MLflow: a whole page load, nothing left of the last one
    t0 = time.perf_counter()
    page.goto(f"{url}/runs/{data.long_run}?tab=metrics")
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


_MF_ROW0 = ".ag-center-cols-container [role=row][row-index='0']"
_MF_DRAWN = (
    "([n, traces]) => { const p = [...document.querySelectorAll('.js-plotly-plot')];"
    " return p.length >= n && p.every("
    "x => x.querySelectorAll('.scatterlayer .trace path.js-line').length >= traces); }"
)


def measure_mlflow(page: Any, url: str, data: Layout, out: dict[str, float]) -> None:
    """The same five figures on MLflow's own UI (see the module docstring)."""
    t0 = time.perf_counter()
    page.goto(f"{url}/#/experiments/{data.table_experiment}/runs")
    page.wait_for_selector(_MF_ROW0)
    out["table_first_rows_ms"] = (time.perf_counter() - t0) * 1e3
    page.click("[data-testid=sort-select-dropdown]")
    page.wait_for_selector("[data-testid='sort-select-m1']")
    t0 = time.perf_counter()
    page.click("[data-testid='sort-select-m1']")
    page.wait_for_function(
        "([sel, id]) => document.querySelector(sel)?.getAttribute('row-id') === id",
        arg=[_MF_ROW0, data.best_m1_run],
        polling="raf",
    )
    out["table_resort_ms"] = (time.perf_counter() - t0) * 1e3

    # Compare: the chart view (the filter leaves out the long run) first draws the 10 runs it
    # shows by default; the timed part is from "Show all runs" until each of the 10 charts has
    # a line per run (MLflow draws two paths per run).  Its page load is not counted.
    query = urllib.parse.urlencode(
        {"compareRunsMode": "CHART", "searchFilter": "attributes.run_name LIKE 'cmp-%'"}
    )
    page.goto(f"{url}/#/experiments/{data.compare_experiment}/runs?{query}")
    page.wait_for_function(_MF_DRAWN, arg=[10, 1], polling=100)
    page.click("[aria-label='Toggle visibility of runs']")
    page.wait_for_selector("text=Show all runs")
    t0 = time.perf_counter()
    page.click("text=Show all runs")
    try:
        page.wait_for_function(
            _MF_DRAWN, arg=[10, 2 * 100], polling=100, timeout=COMPARE_TIMEOUT_MS
        )
        out["compare_all_charts_ms"] = (time.perf_counter() - t0) * 1e3
    except Exception:  # not drawn in time: infinite here, a lower bound in the report
        out["compare_all_charts_ms"] = math.inf
        _err(f"mlflow: compare not drawn within {COMPARE_TIMEOUT_MS / 1e3:.0f} s")

    # The long metric: its chart page for the one run, loaded from a blank page (a mere hash
    # change would keep the compare page's charts on screen, which the wait would take for
    # this chart).
    runs = urllib.parse.quote(json.dumps([data.long_run]))
    exps = urllib.parse.quote(json.dumps([data.compare_experiment]))
    page.goto("about:blank")
    t0 = time.perf_counter()
    page.goto(f"{url}/#/metric/big?runs={runs}&experiments={exps}")
    try:
        page.wait_for_function(_MF_DRAWN, arg=[1, 1], polling="raf", timeout=CHART_TIMEOUT_MS)
    except Exception:  # not drawn in time: infinite here, a lower bound in the report
        out["chart_draw_ms"] = math.inf
        _err(f"mlflow: long metric not drawn within {CHART_TIMEOUT_MS / 1e3:.0f} s")
        raise
    out["chart_draw_ms"] = (time.perf_counter() - t0) * 1e3
    line = ".js-plotly-plot .scatterlayer .trace path.js-line"
    box = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box(timeout=10_000)
    drawn = page.get_attribute(line, "d", timeout=10_000)
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.45, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.55, y, steps=4)
    t0 = time.perf_counter()
    page.mouse.up()
    page.wait_for_function(
        "([sel, before]) => { const d = document.querySelector(sel)?.getAttribute('d');"
        " return !!d && d !== before; }",
        arg=[line, drawn],
        polling="raf",
    )
    out["chart_zoom_ms"] = (time.perf_counter() - t0) * 1e3


MEASURE: dict[str, Callable[[Any, str, Layout, dict[str, float]], None]] = {
    "mltrail": measure_mltrail,
    "mlflow": measure_mlflow,
}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    tools = [t for t in args.tools.split(",") if t]
    stores = {t: populated(t, args.runs, args.steps, args.seed, log=_err) for t in tools}
    samples: dict[str, dict[str, list[float]]] = {t: {} for t in tools}
    failed: dict[str, list[str]] = {t: [] for t in tools}
    loads: list[list[float]] = [load_average()]
    with tempfile.TemporaryDirectory(prefix="mltrail-ui-bench-") as tmp, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for t in tools:  # one tool at a time: the other's server is stopped (and idle)
            artifacts = Path(tmp) / t / "artifacts"
            artifacts.mkdir(parents=True)
            with server(t, stores[t][0], artifacts) as url:
                for i in range(args.repeat + 1):
                    context = browser.new_context(viewport={"width": 1400, "height": 2000})
                    page = context.new_page()
                    page.set_default_timeout(TIMEOUT_MS)
                    got: dict[str, float] = {}
                    try:
                        MEASURE[t](page, url, stores[t][1], got)
                    except Exception as exc:  # a figure that never came: its wait timed out
                        name = next(k for k in TARGETS if k not in got)
                        _err(f"{t}: {name} failed: {str(exc).splitlines()[0]}")
                        failed[t].append(name)
                        got[name] = math.inf
                    context.close()
                    _err(
                        f"{'warm-up' if i == 0 else f'repeat {i}'} {t}: "
                        + ", ".join(f"{k} {v:.0f}" for k, v in got.items())
                    )
                    loads.append(load_average())
                    if i == 0:
                        continue  # warm-up: the server's first queries, the OS file cache
                    for k, v in got.items():
                        samples[t].setdefault(k, []).append(v)
        browser.close()
    return {
        "runs": args.runs,
        "steps": args.steps,
        "repeat": args.repeat,
        "populate_s": {t: stores[t][1].populate_s for t in tools},
        "medians_ms": {t: {k: statistics.median(v) for k, v in samples[t].items()} for t in tools},
        "samples_ms": samples,
        "failed": failed,
        "targets_ms": TARGETS,
        "load_average": loads,
    }


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None, report: Callable[[str], None] = print) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=100_000, help="runs in the table experiment")
    p.add_argument("--steps", type=int, default=1_000_000, help="steps of the long metric")
    p.add_argument("--repeat", type=int, default=3, help="timed page loads per tool (median)")
    p.add_argument("--tools", default="mltrail,mlflow", help="comma-separated: mltrail,mlflow")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    result = run(args)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / time.strftime("ui-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(result, indent=2))
    mt = result["medians_ms"].get("mltrail", {})
    mf = result["medians_ms"].get("mlflow", {})
    report(
        f"{args.runs} runs, {args.steps} steps, median of {args.repeat};"
        f" load average {result['load_average']}"
    )
    report(f"{'figure':<24}{'mltrail':>10}{'MLflow':>10}{'ratio':>8}{'target':>10}  result")
    for key, target in TARGETS.items():
        a, b = mt.get(key), mf.get(key)
        bound = ""
        if b is not None and math.isinf(b):
            # An MLflow chart that timed out: its time is at least the timeout.  Any other
            # timed-out MLflow figure (a page element not found) gives no ratio at all.
            b, bound = (BOUNDED_MS[key], ">=") if key in BOUNDED_MS else (None, "")
        ratio = b / a if a and b else None
        verdict = "-"
        if a is not None:
            ok = a <= target and (ratio is None or ratio >= FACTOR)
            verdict = ("PASS" if ok else "FAIL") + (
                "" if ratio is not None else " (no MLflow figure)"
            )
        cell = lambda v: f"{v:>8.0f}ms" if v is not None else f"{'-':>10}"  # noqa: E731
        r = f"{bound}{ratio:.1f}x".rjust(8) if ratio is not None else f"{'-':>8}"
        report(f"{key:<24}{cell(a)}{cell(b)}{r}{target:>8.0f}ms  {verdict}")
    report(f"(raw numbers: {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
