"""Side-by-side benchmark of model logging and pyfunc predict, mltrail against MLflow.

    benchmarks/setup_env.sh                     # once: benchmarks/.venv with mlflow + mltrail
    benchmarks/.venv/bin/python -m benchmarks.models.run [--repeat N] [--quick]

The workloads (benchmarks/models/bench_models.py unless said otherwise), each run ``--repeat``
times per tool in a fresh subprocess and temporary directory (a fresh SQLite store for
``log_model``), tools alternating within each repeat:

- ``log_model``: ``<tool>.sklearn.log_model`` of a small logistic regression with a signature
  and an input example, end to end, each tool with its default (skops) serialization, after
  another interpreter logged a model of the same kind trained on other data (mltrail's
  requirements cache knows it).  Target: mltrail at least 3x faster than MLflow.
- ``log_model_cold``: the same with an empty requirements cache (the first model of its kind
  in an environment: mltrail loads it in a subprocess, as MLflow always does).
- ``catboost_log_model``, ``catboost_log_model_cold``: the same two for
  ``<tool>.catboost.log_model`` of a small ``CatBoostClassifier``
  (benchmarks/models/bench_catboost.py).  Target: mltrail at least 3x faster than MLflow.
- ``keras_log_model``, ``keras_log_model_cold``: the same two for ``<tool>.keras.log_model``
  of a small Keras 3 MLP on the PyTorch backend (benchmarks/models/bench_keras.py).  Target:
  mltrail at least 3x faster than MLflow.
- ``transformers_log_model``, ``transformers_log_model_cold``: the same two for
  ``<tool>.transformers.log_model`` of a small local BERT text-classification pipeline
  (benchmarks/models/bench_transformers.py; needs ``transformers`` and ``torch`` in
  benchmarks/.venv, and torchvision, whose version MLflow pins).  Target: mltrail at least 3x
  faster than MLflow.
- ``predict``: ``<tool>.pyfunc.load_model(path).predict`` on a 1-row and a 10,000-row
  DataFrame, against the native ``model.predict`` in the same process.  Targets: at most 1.5x
  the native cost, and no slower than MLflow's pyfunc.

The table shows medians over the repeats, mltrail's advantage and the targets; the raw numbers
and the load average go to benchmarks/results/models-*.json.
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
    Row,
    Workload,
    _faster,
    environment,
    medians,
    print_table,
    run_once,
    table,
)

ROOT = Path(__file__).resolve().parent.parent.parent
MODULE = "benchmarks.models.bench_models"
CATBOOST_MODULE = "benchmarks.models.bench_catboost"
KERAS_MODULE = "benchmarks.models.bench_keras"
TRANSFORMERS_MODULE = "benchmarks.models.bench_transformers"


def _log_model_workloads(prefix: str, flavor: str, module: str) -> dict[str, Workload]:
    """The warm and empty-cache ``log_model`` workloads of one flavor (target: 3x faster)."""
    out = {}
    for suffix, label in (("", ""), ("_cold", ", empty cache")):
        name = f"{prefix}log_model{suffix}"
        row = Row(
            f"{flavor} log_model{label}",
            "log_model_s",
            "s",
            False,
            ">= 3x faster",
            _faster("log_model_s", 3),
            needs_mlflow=True,
        )
        out[name] = Workload(name, (row,), module=module)
    return out


WORKLOADS = {
    **_log_model_workloads("", "sklearn", MODULE),
    **_log_model_workloads("catboost_", "catboost", CATBOOST_MODULE),
    **_log_model_workloads("keras_", "keras", KERAS_MODULE),
    **_log_model_workloads("transformers_", "transformers", TRANSFORMERS_MODULE),
    "predict": Workload(
        "predict",
        (
            Row(
                "pyfunc predict, 1 row",
                "pyfunc_1_ms",
                "ms",
                False,
                "<= MLflow",
                _faster("pyfunc_1_ms", 1),
                needs_mlflow=True,
            ),
            Row("  native predict, 1 row", "native_1_ms", "ms", False, "(info)", None),
            Row(
                "  pyfunc / native, 1 row",
                "overhead_1_pct",
                "%",
                False,
                "<= 150 %",
                lambda mt, _: mt["overhead_1_pct"] <= 150,
            ),
            Row(
                "pyfunc predict, 10k rows",
                "pyfunc_10k_ms",
                "ms",
                False,
                "<= MLflow",
                _faster("pyfunc_10k_ms", 1),
                needs_mlflow=True,
            ),
            Row("  native predict, 10k rows", "native_10k_ms", "ms", False, "(info)", None),
            Row(
                "  pyfunc / native, 10k rows",
                "overhead_10k_pct",
                "%",
                False,
                "<= 150 %",
                lambda mt, _: mt["overhead_10k_pct"] <= 150,
            ),
        ),
        module=MODULE,
    ),
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", nargs="+", choices=list(WORKLOADS), metavar="NAME")
    p.add_argument("--repeat", type=int, default=5, help="fresh runs per tool (default 5)")
    p.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    p.add_argument("--quick", action="store_true", help="few predict calls: a smoke test")
    p.add_argument("--keep-tmp", action="store_true")
    p.add_argument("--timeout", type=float, default=900, help="seconds per subprocess")
    args = p.parse_args()

    report: dict[str, Any] = {"environment": environment(), "workloads": {}}
    started = time.time()
    for name in args.only or list(WORKLOADS):
        extra = ["--case", name] + (["--quick"] if args.quick else [])
        raw: dict[str, list[dict[str, Any]]] = {tool: [] for tool in args.tools}
        for i in range(args.repeat):
            for tool in args.tools:
                module = WORKLOADS[name].module or MODULE
                result = run_once(name, tool, extra, args.keep_tmp, args.timeout, module)
                raw[tool].append(result)
                shown = {k: v for k, v in result.items() if k not in ("stderr_tail", "tool")}
                print(
                    f"[{name} {i + 1}/{args.repeat} {tool}] {json.dumps(shown)}",
                    file=sys.stderr,
                    flush=True,
                )
                if result.get("status") == "error":
                    print(result.get("stderr_tail", ""), file=sys.stderr)
        report["workloads"][name] = {
            "repeat": args.repeat,
            "raw": raw,
            "medians": {tool: medians(results) for tool, results in raw.items()},
        }
    report["environment"]["loadavg_end"] = os.getloadavg()
    report["elapsed_s"] = time.time() - started
    lines = table(report, WORKLOADS)
    report["table"] = lines
    print()
    print_table(lines)
    print(
        f"\nload average: start {report['environment']['loadavg_start']}, "
        f"end {report['environment']['loadavg_end']}"
    )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    path = out / time.strftime("models-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
    print(f"results: {path.relative_to(ROOT)}  ({report['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()
