"""Side-by-side benchmark of autologging, mltrail against MLflow (issue 17, "Speed").

    benchmarks/setup_env.sh                     # once: benchmarks/.venv with mlflow + mltrail
    benchmarks/.venv/bin/python -m benchmarks.autolog.run [--only CASE ...] [--stores ...]
        [--repeat N] [--tools ...] [--quick]

What autologging adds to a training call: the same script for both tools (``import mlflow`` /
``import mltrail as mlflow``, the flavor's ``autolog()`` at MLflow's defaults, models logged),
the time of the call with autologging on minus off (details in
benchmarks/autolog/bench_autolog.py):

- ``sklearn_fit``: ``LogisticRegression(max_iter=200).fit`` on 1,000 rows x 20 features,
  median per call over 7 calls each way in one process;
- ``xgboost_fit``: ``xgboost.train``, 100 rounds, ``nthread=1``, with an eval set, likewise;
- ``grid_search``: ``GridSearchCV`` over 50 candidates (cv=3, ``n_jobs=1``,
  ``max_tuning_runs=5``), median over 3 searches each way.

Each on two stores: ``sqlite`` (the embedded store, a fresh ``sqlite:///<tmp>/store.db``)
and ``server`` (the tool's own tracking server on 127.0.0.1 with a fresh SQLite backend,
models uploaded through it).  Every workload runs ``--repeat`` times per tool (default 3),
each time in a fresh subprocess and temporary directory, tools alternating within each
repeat.  Target: mltrail's added time at most 1/5 of MLflow's (``>= 5x`` in the table).
A tool run that fails (an error, a missing integration, or a store that does not hold what
autologging should have logged) shows as ERROR or n/a with its reason below the table.
Raw results, medians, the load average and the table go to
benchmarks/results/autolog-<time>.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from benchmarks.autolog.bench_autolog import CASES, STORES
from benchmarks.run import (
    ROOT,
    TOOLS,
    Row,
    Workload,
    _faster,
    environment,
    print_table,
    run_repeats,
    table,
    write_report,
)

MODULE = "benchmarks.autolog.bench_autolog"
LABELS = {
    "sklearn_fit": "LogisticRegression fit",
    "xgboost_fit": "xgboost.train 100 rounds",
    "grid_search": "GridSearchCV 50 candidates",
}
STORE_LABELS = {"sqlite": "embedded", "server": "server"}


def workload_name(case: str, store: str) -> str:
    return f"{case}.{store}"


def _workload(case: str, store: str) -> Workload:
    per = "search" if case == "grid_search" else "call"
    rows = [
        Row(
            f"{LABELS[case]}, {STORE_LABELS[store]}: added per {per}",
            "added_ms",
            "ms",
            False,
            ">= 5x less",
            _faster("added_ms", 5),
            needs_mlflow=True,
        ),
        Row("  added until all stored", "added_stored_ms", "ms", False, "(info)", None),
        Row("  without autolog", "off_ms", "ms", False, "(info)", None),
        Row("  with autolog", "on_ms", "ms", False, "(info)", None),
    ]
    if case != "grid_search":
        rows.append(Row("  first call: added", "warm_up_added_ms", "ms", False, "(info)", None))
    return Workload(workload_name(case, store), tuple(rows), repeat=3, module=MODULE)


WORKLOADS = {
    workload_name(case, store): _workload(case, store) for case in CASES for store in STORES
}


def failures(report: dict[str, Any]) -> list[str]:
    """One line per tool run that did not end "ok": workload, tool, repeat, status, reason."""
    lines = []
    for name, entry in report["workloads"].items():
        for tool, results in entry["raw"].items():
            for i, result in enumerate(results, 1):
                if result.get("status") != "ok":
                    reason = result.get("error", "")
                    lines.append(f"  {name} {tool} #{i}: {result.get('status')}: {reason}")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", nargs="+", choices=CASES, metavar="CASE", help=", ".join(CASES))
    p.add_argument("--stores", nargs="+", choices=STORES, default=list(STORES))
    p.add_argument("--repeat", type=int, default=3, help="fresh runs per tool (default 3)")
    p.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    p.add_argument("--fits", type=int, default=0, help="timed calls each way (default 7; 3)")
    p.add_argument("--quick", action="store_true", help="fewer timed calls: a smoke test")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temporary directories")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per subprocess")
    args = p.parse_args()

    report: dict[str, Any] = {"environment": environment(), "workloads": {}}
    report["environment"]["suite"] = "autolog"
    started = time.time()
    for case in args.only or list(CASES):
        for store in args.stores:
            extra = ["--case", case, "--store", store]
            extra += ["--quick"] if args.quick else []
            extra += ["--fits", str(args.fits)] if args.fits else []
            name = workload_name(case, store)
            report["workloads"][name] = run_repeats(
                name, args.tools, args.repeat, extra, MODULE, args.keep_tmp, args.timeout
            )
    report["environment"]["loadavg_end"] = os.getloadavg()
    report["elapsed_s"] = time.time() - started
    lines = table(report, WORKLOADS)
    report["table"] = lines
    print()
    print_table(lines)
    failed = failures(report)
    if failed:
        print("\nfailed tool runs (see the stderr above and the JSON for details):")
        print("\n".join(failed))
    print("\nmedian 1-minute load average per workload (all tools' runs):")
    for name, entry in report["workloads"].items():
        loads = [r["loadavg_1m"] for results in entry["raw"].values() for r in results]
        print(f"  {name}: {statistics.median(loads):.2f}  ({entry['repeat']} repeats per tool)")
    print(
        f"load average: start {report['environment']['loadavg_start']}, "
        f"end {report['environment']['loadavg_end']} ({os.cpu_count()} CPUs)"
    )
    path = write_report(report, "autolog")
    print(f"results: {path.relative_to(ROOT)}  ({report['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()
