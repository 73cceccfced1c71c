"""What authentication costs mltrail's server (issue 18): auth off vs on, and a filtered search.

    benchmarks/setup_env.sh                          # once: benchmarks/.venv with both tools
    benchmarks/.venv/bin/python benchmarks/auth/run.py [--only NAME ...] [--repeat N] [--quick]
        [--runs N] [--no-populate-cache] [--keep-tmp]

The issue's targets: "Authentication and permission checks add at most 10% to ``log-batch``
throughput and to a kept-alive ``runs/get`` p50 (auth on vs off, same server), and a search
over 100,000 runs filtered by permissions stays under 150 ms."

Workloads (the server workloads' modules, each run in a fresh subprocess and temporary
directory, see ``benchmarks/server/``):

* ``log_batch`` (``bench_server --workload log_batch --calls 200``): the SAME ``mltrail
  server`` (one worker) without authentication ("off") and with ``--app-name basic-auth``
  ("on"), every request then sent with HTTP Basic as a non-admin user who owns the run's
  experiment (admins skip permission checks, which would hide their cost): points/s.
* ``get_run`` (``bench_server --workload get_run``): as above with ``--workers 4``; one
  single-threaded client's synchronous ``GET runs/get`` of a run with 10 params, 5 metrics and
  3 tags on one kept-alive connection: p50 and p90 of 1000 calls.
* ``search`` (``bench_search --auth restricted``): the 100,000 runs of the server ``search``
  workload (populated stores cached in ``benchmarks/.cache/``), the default permission
  NO_PERMISSIONS, the user granted READ on that experiment and denied 2 of 4 hidden
  experiments of matching runs that would head the answer if they leaked (the other two and
  experiment 0 denied by the default); one request naming all six experiments, filter and
  order as in ``search``, top 100 checked: p50 for mltrail and for ``mlflow server --app-name
  basic-auth`` (ratio) against < 150 ms; and, for reference, mltrail's search of the same
  store without authentication.

"off" and "on" alternate within each repeat, their order swapped every other repeat (so drift
of a busy machine falls on both); the table shows medians over the repeats (default 5; the
search 3) and the overhead: for throughput off/on - 1, for latency on/off - 1 (both: the time
authentication adds to a request, in %).  The 1-minute load average is recorded with every
result.  Raw results, medians and the tables go to ``benchmarks/results/auth-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import (  # noqa: E402
    environment,
    fmt,
    medians,
    print_table,
    run_once,
    run_repeats,
    write_report,
)

OVERHEAD_TARGET = 0.10  # at most 10% added
SEARCH_TARGET_MS = 150.0
SERVER = "benchmarks.server.bench_server"
SEARCH = "benchmarks.server.bench_search"
MODES = {"off": ["--auth", "none"], "on": ["--auth", "user"]}
# (label, key, unit, higher is better, judged against the target)
OVERHEAD_ROWS = {
    "log_batch": (("log_batch of 1000 (1 worker)", "points_per_s", "/s", True, True),),
    "get_run": (
        ("kept-alive runs/get p50 (4 workers)", "p50_ms", "ms", False, True),
        ("  p90", "p90_ms", "ms", False, False),
    ),
}
WORKLOADS = ("log_batch", "get_run", "search")


def overhead_args(name: str, args: argparse.Namespace) -> list[str]:
    extra = ["--workload", name] + (["--quick"] if args.quick else [])
    if name == "log_batch" and not args.quick:
        extra += ["--calls", "200"]  # 200,000 points a run: a 10% margin needs a steady figure
    return extra


def run_overhead(name: str, args: argparse.Namespace, repeat: int) -> dict[str, Any]:
    """mltrail's workload *name* with auth off and on, alternating (ABBA)."""
    raw: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for i in range(repeat):
        order = list(MODES) if i % 2 == 0 else list(reversed(MODES))
        for mode in order:
            extra = overhead_args(name, args) + MODES[mode]
            result = run_once(name, "mltrail", extra, args.keep_tmp, args.timeout, SERVER)
            result["loadavg_1m"] = os.getloadavg()[0]
            raw[mode].append(result)
            shown = {k: v for k, v in result.items() if k not in ("stderr_tail", "tool")}
            print(f"[{name} {i + 1}/{repeat} auth {mode}] {json.dumps(shown)}", file=sys.stderr)
            if result.get("status") == "error":
                print(result.get("stderr_tail", ""), file=sys.stderr)
    return {
        "repeat": repeat,
        "raw": raw,
        "medians": {mode: medians(results) for mode, results in raw.items()},
    }


def overhead_table(report: dict[str, Any]) -> list[list[str]]:
    lines = [["figure (mltrail)", "auth off", "auth on", "overhead", "target", "PASS/FAIL"]]
    for name, rows in OVERHEAD_ROWS.items():
        entry = report["workloads"].get(name)
        if entry is None:
            continue
        off, on = entry["medians"].get("off") or {}, entry["medians"].get("on") or {}
        for label, key, unit, higher, judged in rows:
            a, b = off.get(key), on.get(key)
            added = None
            if a and b:
                added = a / b - 1 if higher else b / a - 1
            verdict = "-"
            if judged:
                verdict = "N/A" if added is None else "PASS" if added <= OVERHEAD_TARGET else "FAIL"
            lines.append(
                [
                    label,
                    fmt(a, unit) if a is not None else "ERROR",
                    fmt(b, unit) if b is not None else "ERROR",
                    "n/a" if added is None else f"{added * 100:+.1f}%",
                    f"<= {OVERHEAD_TARGET * 100:.0f}%" if judged else "(info)",
                    verdict,
                ]
            )
    return lines


def search_args(args: argparse.Namespace, auth: str) -> list[str]:
    extra = ["--auth", auth] + (["--quick"] if args.quick else [])
    if args.runs:
        extra += ["--runs", str(args.runs)]
    if not args.no_populate_cache:
        extra += ["--populate-cache", str(ROOT / "benchmarks" / ".cache")]
    return extra


def search_table(report: dict[str, Any]) -> list[list[str]]:
    entry = report["workloads"]["search"]
    mt, mf = entry["medians"].get("mltrail") or {}, entry["medians"].get("mlflow") or {}
    runs = mt.get("visible_runs") or mf.get("visible_runs") or 0
    a, b = mt.get("p50_ms"), mf.get("p50_ms")
    ratio = f"{b / a:,.1f}x" if a and b else "-"
    verdict = "N/A" if a is None else "PASS" if a < SEARCH_TARGET_MS else "FAIL"
    lines = [["figure (both with auth)", "mltrail", "MLflow", "ratio", "target", "PASS/FAIL"]]
    lines.append(
        [
            f"search {runs:,.0f} runs filtered by permissions, p50",
            fmt(a, "ms") if a is not None else "ERROR",
            fmt(b, "ms") if b is not None else "ERROR" if "mlflow" in entry["raw"] else "n/a",
            ratio,
            f"< {SEARCH_TARGET_MS:.0f} ms",
            verdict,
        ]
    )
    base = report["workloads"].get("search_no_auth")
    if base is not None:
        off = (base["medians"].get("mltrail") or {}).get("p50_ms")
        added = f"{a / off - 1:+.1%}" if a and off else "-"
        lines.append(
            [
                "  mltrail without auth (one experiment)",
                fmt(off, "ms") if off is not None else "ERROR",
                "",
                added,
                "(info)",
                "-",
            ]
        )
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--only", nargs="+", choices=WORKLOADS, metavar="NAME", help=", ".join(WORKLOADS)
    )
    p.add_argument("--repeat", type=int, help="runs per mode/tool (default 5; search 3)")
    p.add_argument(
        "--tools",
        nargs="+",
        choices=("mltrail", "mlflow"),
        default=["mltrail", "mlflow"],
        help="search: tools",
    )
    p.add_argument("--runs", type=int, default=0, help="search: runs (default 100,000)")
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke test, not numbers")
    p.add_argument("--no-populate-cache", action="store_true", help="search: populate each time")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temporary directories")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per subprocess")
    args = p.parse_args()

    report: dict[str, Any] = {"environment": environment(), "workloads": {}}
    report["environment"]["suite"] = "auth"
    started = time.time()
    for name in args.only or WORKLOADS:
        if name == "search":
            repeat = args.repeat or 3
            report["workloads"]["search"] = run_repeats(
                "search",
                args.tools,
                repeat,
                search_args(args, "restricted"),
                SEARCH,
                args.keep_tmp,
                args.timeout,
            )
            if "mltrail" in args.tools:
                report["workloads"]["search_no_auth"] = run_repeats(
                    "search",
                    ["mltrail"],
                    repeat,
                    search_args(args, "none"),
                    SEARCH,
                    args.keep_tmp,
                    args.timeout,
                )
        else:
            report["workloads"][name] = run_overhead(name, args, args.repeat or 5)
    report["environment"]["loadavg_end"] = os.getloadavg()
    report["elapsed_s"] = time.time() - started
    print()
    if any(name in report["workloads"] for name in OVERHEAD_ROWS):
        report["overhead_table"] = overhead_table(report)
        print("authentication overhead: the same mltrail server, auth off vs on (a non-admin user)")
        print_table(report["overhead_table"])
        print()
    if "search" in report["workloads"]:
        report["search_table"] = search_table(report)
        print(
            "search filtered by permissions: both servers --app-name basic-auth, a non-admin user"
        )
        print_table(report["search_table"])
        print()
    print("median 1-minute load average during each workload (2 cores):")
    for name, entry in report["workloads"].items():
        loads = [m["loadavg_1m"] for m in entry["medians"].values() if m and "loadavg_1m" in m]
        print(f"  {name}: {', '.join(f'{x:.2f}' for x in loads)}  ({entry['repeat']} repeats each)")
    path = write_report(report, "auth")
    print(f"\nresults: {path.relative_to(ROOT)}  ({report['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()
