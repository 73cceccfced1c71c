"""Side-by-side benchmark of ``mltrail models serve`` against ``mlflow models serve``.

    benchmarks/setup_env.sh                     # once: benchmarks/.venv with mlflow + mltrail
    benchmarks/.venv/bin/python -m benchmarks.serving.run [--repeat N] [--quick]

Each repeat runs the ``serve`` workload (benchmarks/serving/bench_serve.py) for both tools, in
a fresh subprocess and temporary directory each, tools alternating.  The table shows medians
over the repeats, mltrail's advantage and the targets of the serving issue; the raw numbers
go to benchmarks/results/serving-*.json.  Same model, one worker, ``--env-manager local``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.run import (
    TOOLS,
    Medians,
    Row,
    _faster,
    cell,
    environment,
    medians,
    print_table,
    run_once,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _more(key: str, factor: float) -> Any:
    return lambda mt, mf: mt[key] >= factor * mf[key]


def _less(key: str) -> Any:
    return lambda mt, mf: mt[key] < mf[key]


ROWS = (
    Row(
        "startup to first prediction",
        "startup_s",
        "s",
        False,
        "<= 1/3 MLflow",
        _faster("startup_s", 3),
        True,
    ),
    Row("requests/s, 1 row", "rps_1", "/s", True, ">= 3x MLflow", _more("rps_1", 3), True),
    Row("  p50 latency, 1 row", "p50_ms_1", "ms", False, "(info)", None),
    Row("  p99 latency, 1 row", "p99_ms_1", "ms", False, "< MLflow", _less("p99_ms_1"), True),
    Row("requests/s, 100 rows", "rps_100", "/s", True, ">= 3x MLflow", _more("rps_100", 3), True),
    Row("  p50 latency, 100 rows", "p50_ms_100", "ms", False, "(info)", None),
    Row(
        "  p99 latency, 100 rows", "p99_ms_100", "ms", False, "< MLflow", _less("p99_ms_100"), True
    ),
)


def table(raw: dict[str, list[dict[str, Any]]], meds: dict[str, Medians | None]) -> list[list[str]]:
    lines = [["measure", "mltrail", "MLflow", "mltrail adv.", "target", "result"]]
    mt, mf = meds.get("mltrail"), meds.get("mlflow")
    for row in ROWS:
        have_mt = mt is not None and row.key in mt
        have_mf = mf is not None and row.key in mf
        ratio = "-"
        if have_mt and have_mf and mt and mf and mt[row.key] and mf[row.key]:
            r = mt[row.key] / mf[row.key] if row.higher_is_better else mf[row.key] / mt[row.key]
            ratio = f"{r:,.1f}x"
        verdict = "-"
        if row.judge is not None:
            verdict = "N/A"
            if have_mt and (have_mf or not row.needs_mlflow):
                verdict = "PASS" if row.judge(mt or {}, mf or {}) else "FAIL"
        lines.append(
            [
                row.label,
                cell(raw.get("mltrail", []), mt, row),
                cell(raw.get("mlflow", []), mf, row),
                ratio,
                row.target,
                verdict,
            ]
        )
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--repeat", type=int, default=5, help="fresh runs per tool (default 5)")
    p.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    p.add_argument("--quick", action="store_true", help="1 s per size: a smoke test")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--keep-tmp", action="store_true")
    p.add_argument("--timeout", type=float, default=900, help="seconds per subprocess")
    args = p.parse_args()

    extra = ["--concurrency", str(args.concurrency), "--duration", str(args.duration)]
    if args.quick:
        extra.append("--quick")
    report: dict[str, Any] = {"environment": environment(), "settings": vars(args)}
    started = time.time()
    raw: dict[str, list[dict[str, Any]]] = {tool: [] for tool in args.tools}
    for i in range(args.repeat):
        for tool in args.tools:
            result = run_once(
                "serve", tool, extra, args.keep_tmp, args.timeout, "benchmarks.serving.bench_serve"
            )
            raw[tool].append(result)
            shown = {
                k: v for k, v in result.items() if k not in ("stderr_tail", "workload", "tool")
            }
            print(
                f"[serve {i + 1}/{args.repeat} {tool}] {json.dumps(shown)}",
                file=sys.stderr,
                flush=True,
            )
            if result.get("status") == "error":
                print(result.get("stderr_tail", ""), file=sys.stderr)
    meds = {tool: medians(results) for tool, results in raw.items()}
    report["environment"]["loadavg_end"] = os.getloadavg()
    report["elapsed_s"] = time.time() - started
    report["workloads"] = {"serve": {"repeat": args.repeat, "raw": raw, "medians": meds}}
    lines = table(raw, meds)
    report["table"] = lines
    print()
    print_table(lines)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    path = out / time.strftime("serving-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
    print(f"\nresults: {path.relative_to(ROOT)}  ({report['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()
