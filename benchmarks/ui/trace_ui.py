"""Where the time of bench_ui's mltrail figures goes, from the browser's own timings.

    python3 benchmarks/ui/trace_ui.py [--runs 100000] [--steps 1000000] [--repeat 3]

Serves the store bench_ui filled (``benchmarks/.cache/ui/``, the same sizes and seed) with
``mltrail server`` and loads each measured page in Chromium.  For every page load it prints the
time to the figure's condition and, from the Performance API: the navigation's response end,
``DOMContentLoaded``, the first paint; each API request (start, server wait = request start to
first byte, transfer = first byte to last, bytes) in the order they started; and the total of
long tasks (main-thread work over 50 ms: JSON parsing, React, drawing).  The server's CPU time
during the load comes from ``/proc/<pid>/stat``.  It measures the same conditions as bench_ui,
but its numbers are for finding the slow part, not for the side-by-side table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
from benchmarks.ui._populate import Layout, populated  # noqa: E402
from benchmarks.ui.bench_ui import CHROMIUM, server_process  # noqa: E402

_OBSERVE = """
window.__longTasks = [];
new PerformanceObserver((l) => { for (const e of l.getEntries())
  window.__longTasks.push([e.startTime, e.duration]); }).observe({entryTypes: ['longtask']});
"""

_ENTRIES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByType('paint').map(p => [p.name, p.startTime]);
  const res = performance.getEntriesByType('resource')
    .filter(r => r.initiatorType === 'fetch' || r.initiatorType === 'script'
                 || r.initiatorType === 'link' || r.initiatorType === 'other')
    .map(r => ({name: r.name.replace(location.origin, ''), start: r.startTime,
                wait: r.responseStart - r.requestStart, transfer: r.responseEnd - r.responseStart,
                end: r.responseEnd, bytes: r.decodedBodySize}));
  return {nav: nav ? {responseEnd: nav.responseEnd, dcl: nav.domContentLoadedEventEnd} : null,
          paint, res, longTasks: window.__longTasks || [], now: performance.now()};
}"""


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _report(label: str, ms: float, info: dict[str, Any], cpu: float) -> None:
    nav = info["nav"] or {}
    long_ms = sum(d for _, d in info["longTasks"])
    print(
        f"\n{label}: {ms:.0f} ms  (nav responseEnd {nav.get('responseEnd', 0):.0f},"
        f" DCL {nav.get('dcl', 0):.0f}, paints {[(n, round(t)) for n, t in info['paint']]},"
        f" long tasks {len(info['longTasks'])} = {long_ms:.0f} ms, server CPU {cpu * 1e3:.0f} ms)"
    )
    for r in sorted(info["res"], key=lambda r: r["start"]):
        name = r["name"] if len(r["name"]) < 70 else r["name"][:67] + "..."
        print(
            f"  {r['start']:7.0f} +wait {r['wait']:6.0f} +xfer {r['transfer']:5.0f}"
            f" = {r['end']:7.0f}  {r['bytes']:>9}B  {name}"
        )
    for start, dur in info["longTasks"]:
        print(f"  long task at {start:7.0f}: {dur:5.0f} ms")


def trace(page: Any, url: str, data: Layout, pid: int, out: dict[str, list[float]]) -> None:
    row = "[role=grid] [role=row][data-run-id]"

    def timed(label: str, go: Any, cond: str, arg: Any = None) -> None:
        cpu0 = _cpu_s(pid)
        t0 = time.perf_counter()
        go()
        page.wait_for_function(cond, arg=arg, polling="raf", timeout=120_000)
        ms = (time.perf_counter() - t0) * 1e3
        info = page.evaluate(_ENTRIES)
        _report(label, ms, info, _cpu_s(pid) - cpu0)
        out.setdefault(label, []).append(ms)

    cols = "?cols=attr:run_name,attr:status,metric:m1,param:p0"
    timed(
        "table_first_rows",
        lambda: page.goto(f"{url}/experiments/{data.table_experiment}{cols}"),
        f"() => !!document.querySelector('{row}')",
    )
    page.evaluate("performance.clearResourceTimings(); window.__longTasks = []")
    timed(
        "table_resort",
        lambda: page.click("[role=columnheader][data-col='metric:m1']"),
        "([sel, id]) => document.querySelector(sel)?.dataset.runId === id",
        [row, data.best_m1_run],
    )
    timed(
        "compare",
        lambda: page.goto(f"{url}/compare?runs={','.join(data.compare_runs)}"),
        "() => { const c = document.querySelectorAll('[data-testid=chart] .chart-host');"
        " return c.length === 10 && [...c].every(h => Number(h.dataset.points) > 0); }",
    )
    host = "[data-metric='big'] .chart-host"
    timed(
        "chart_draw",
        lambda: page.goto(f"{url}/runs/{data.long_run}?tab=metrics"),
        f'() => Number(document.querySelector("{host}")?.dataset.points) > 0',
    )


def main() -> int:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=100_000)
    p.add_argument("--steps", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    db, data = populated("mltrail", args.runs, args.steps, args.seed, log=print)
    out: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="mltrail-ui-trace-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        artifacts = Path(tmp) / "artifacts"
        artifacts.mkdir()
        with server_process("mltrail", db, artifacts) as (url, pid):
            for i in range(args.repeat + 1):
                print(f"\n=== {'warm-up' if i == 0 else f'repeat {i}'}, load {os.getloadavg()}")
                context = browser.new_context(viewport={"width": 1400, "height": 2000})
                context.add_init_script(_OBSERVE)
                page = context.new_page()
                trace(page, url, data, pid, out if i else {})
                context.close()
        browser.close()
    print("\nmedians:", {k: round(statistics.median(v)) for k, v in out.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
