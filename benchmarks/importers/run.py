"""Side-by-side benchmark of importing an MLflow store: ``mltrail import mlflow`` against
copying the same store with MLflow's own client.

    benchmarks/setup_env.sh                     # once: benchmarks/.venv with mlflow + mltrail
    benchmarks/.venv/bin/python -m benchmarks.importers.run [--repeat N] [--runs N]
        [--mlflow-runs N] [--quick]

What is measured (benchmarks/importers/bench_import.py; each tool and repeat in a fresh
subprocess and temporary directory, tools alternating within each repeat):

- The source: an MLflow 3.17 SQLite store of ``--runs`` runs (default 10,000) with 10
  params, 5 metrics x 100 steps, 3 tags and one ~200-byte artifact each, its schema made by
  MLflow, its rows bulk-inserted (benchmarks/importers/_store.py).  Generated once and cached
  in benchmarks/.cache/, copied for every repeat; neither is timed.
- mltrail: the wall time of ``mltrail import mlflow sqlite:///<copy>/mlflow.db --tracking-uri
  sqlite:///<tmp>/mltrail.db`` (a subprocess, start-up included) on all ``--runs`` runs, then
  of the same command again with nothing new.  Both must exit 0 with a closing table whose
  source and destination counts are equal and as generated; run 0 is read back and compared.
- MLflow, by default: a straightforward copy through ``mlflow.MlflowClient``
  (benchmarks/importers/_mlflow_copy.py: create_run, log_batch of params and full metric
  histories, download_artifacts + log_artifacts, set_terminated), on the first
  ``--mlflow-runs`` runs (default 500) of the same store, since the full store would take
  hours.  Its per-run time excludes its start-up (in MLflow's favour); its time for
  ``--runs`` runs is EXTRAPOLATED (start-up + runs x per-run time) and marked so.
  mlflow-export-import 1.2.0 (the newest) installs beside MLflow 3.17.2 (it does not pin
  MLflow; it needs ``tabulate``, which it does not declare) but its import-experiment does
  not run into a SQLite URI: it creates the destination experiment again for every run and
  tolerates only a REST server's "already exists" (``RestException``), so the second run
  stops with MLflow's ``MlflowException``.  It does run into an MLflow tracking server:
  ``--mlflow-method export-import`` times export-experiment (from the SQLite store) plus
  import-experiment (into ``mlflow server`` on a fresh SQLite file, started untimed), start-
  ups included; it loses the run names.  The default stays the client copy, the faster of
  the two, so the ratio is the harder one for mltrail.

The advantage column divides MLflow's per-run time by mltrail's (each measured: mltrail's on
the full store).  Targets (issue 16): 10,000 runs in < 60 s; >= 20x faster per run than
MLflow's side; a repeated import with nothing new in < 5 s.  The table shows medians over
the repeats; raw results go to benchmarks/results/importers-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.run import TOOLS, environment, fmt, medians, print_table, run_once

ROOT = Path(__file__).resolve().parent.parent.parent
MODULE = "benchmarks.importers.bench_import"
Medians = dict[str, Any]


@dataclass(frozen=True)
class Line:
    label: str
    key: str
    unit: str
    mlflow_key: str | None  # None: MLflow's side has no such figure
    higher_is_better: bool
    target: str
    judge: Callable[[Medians, Medians], bool] | None


def lines(runs: int) -> tuple[Line, ...]:
    return (
        Line(
            f"import {runs:,} runs (MLflow: extrapolated)",
            "import_s",
            "s",
            "import_s",
            False,
            "< 60 s",
            lambda mt, _: bool(mt["import_s"] < 60),
        ),
        Line(
            "  per run (both measured)",
            "ms_per_run",
            "ms",
            "ms_per_run",
            False,
            ">= 20x faster",
            lambda mt, mf: bool(mt["ms_per_run"] * 20 <= mf["ms_per_run"]),
        ),
        Line("  runs per second", "runs_per_s", "/s", "runs_per_s", True, "(info)", None),
        Line("  MLflow's measured copy", "copy_s", "s", "copy_s", False, "(info)", None),
        Line(
            "repeated import, nothing new",
            "reimport_s",
            "s",
            None,
            False,
            "< 5 s",
            lambda mt, _: bool(mt["reimport_s"] < 5),
        ),
    )


def cell(results: list[dict[str, Any]], med: Medians | None, key: str | None, unit: str) -> str:
    if key is None:
        return "no such mode"
    if med is not None and key in med:
        return fmt(med[key], unit)
    if not results:
        return "n/a"
    return "ERROR" if any(r.get("status") == "error" for r in results) else "n/a"


def table(report: dict[str, Any], runs: int) -> list[list[str]]:
    entry = report["workloads"]["import_mlflow"]
    mt, mf = entry["medians"].get("mltrail"), entry["medians"].get("mlflow")
    raw = entry["raw"]
    rows = [["workload", "mltrail", "MLflow", "mltrail adv.", "target", "result"]]
    for line in lines(runs):
        have_mt = mt is not None and line.key in mt
        have_mf = mf is not None and line.mlflow_key is not None and line.mlflow_key in mf
        ratio = "-"
        if have_mt and have_mf and mt and mf and line.mlflow_key:
            a, b = mt[line.key], mf[line.mlflow_key]
            if a and b:
                ratio = f"{(a / b if line.higher_is_better else b / a):,.1f}x"
        verdict = "-"
        if line.judge is not None:
            needs_mlflow = line.key == "ms_per_run"
            verdict = "N/A"
            if have_mt and (have_mf or not needs_mlflow):
                verdict = "PASS" if line.judge(mt or {}, mf or {}) else "FAIL"
        rows.append(
            [
                line.label,
                cell(raw.get("mltrail", []), mt, line.key, line.unit)
                if line.key != "copy_s"
                else "-",
                cell(raw.get("mlflow", []), mf, line.mlflow_key, line.unit),
                ratio if line.key not in ("copy_s", "import_s") else "-",
                line.target,
                verdict,
            ]
        )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--repeat", type=int, default=3, help="fresh runs per tool (default 3)")
    p.add_argument("--runs", type=int, help="runs in the store (default 10,000; --quick 200)")
    p.add_argument(
        "--mlflow-runs", type=int, help="runs MLflow's side copies (default 500; --quick 20)"
    )
    p.add_argument(
        "--mlflow-method",
        choices=("client", "export-import"),
        default="client",
        help="MLflow's side: a copy through MlflowClient (default) or mlflow-export-import\n"
        "(needs benchmarks/.cache/export-import, see bench_import.py)",
    )
    p.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not numbers")
    p.add_argument("--keep-tmp", action="store_true")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per subprocess")
    args = p.parse_args()

    runs = args.runs or (200 if args.quick else 10_000)
    extra = ["--runs", str(runs)]
    if args.mlflow_runs:
        extra += ["--mlflow-runs", str(args.mlflow_runs)]
    if args.quick:
        extra.append("--quick")
    extra += ["--mlflow-method", args.mlflow_method]

    report: dict[str, Any] = {"environment": environment(), "workloads": {}}
    started = time.time()
    raw: dict[str, list[dict[str, Any]]] = {tool: [] for tool in args.tools}
    for i in range(args.repeat):
        for tool in args.tools:
            result = run_once("import_mlflow", tool, extra, args.keep_tmp, args.timeout, MODULE)
            raw[tool].append(result)
            shown = {k: v for k, v in result.items() if k not in ("stderr_tail", "tool")}
            print(
                f"[import_mlflow {i + 1}/{args.repeat} {tool}] {json.dumps(shown)}",
                file=sys.stderr,
                flush=True,
            )
            if result.get("status") == "error":
                print(result.get("stderr_tail", ""), file=sys.stderr)
    report["workloads"]["import_mlflow"] = {
        "repeat": args.repeat,
        "runs": runs,
        "raw": raw,
        "medians": {tool: medians(results) for tool, results in raw.items()},
    }
    report["environment"]["loadavg_end"] = os.getloadavg()
    report["elapsed_s"] = time.time() - started
    rows = table(report, runs)
    report["table"] = rows
    print()
    print_table(rows)
    mf = report["workloads"]["import_mlflow"]["medians"].get("mlflow")
    methods = sorted({str(r.get("method")) for r in raw.get("mlflow", []) if r.get("method")})
    if mf and methods:
        print(
            f"\nMLflow's side: {', '.join(methods)}, measured on {mf['runs']:,.0f} runs; its "
            f"{runs:,}-run time is EXTRAPOLATED from that."
        )
    print(
        f"load average: start {report['environment']['loadavg_start']}, "
        f"end {report['environment']['loadavg_end']}"
    )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    path = out / time.strftime("importers-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
    print(f"results: {path.relative_to(ROOT)}  ({report['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()
