"""Side-by-side benchmark of model evaluation: ``<tool>.models.evaluate`` of a binary classifier.

    benchmarks/setup_env.sh                       # once: benchmarks/.venv with mlflow + mltrail
    benchmarks/.venv/bin/python benchmarks/evaluate.py [--repeat N] [--only CASE ...] [--quick]

(any Python with mlflow, scikit-learn and matplotlib installed works too; the repository's
``src`` is put first on the workers' path, so its mltrail is the one measured.)

Every measurement is a fresh subprocess in a fresh temporary directory with a fresh SQLite
store (the embedded default).  The data: 4 uniform features and a noisy binary target; the
model: a scikit-learn LogisticRegression trained on 10,000 rows, logged with
``<tool>.sklearn.log_model`` and loaded with ``<tool>.pyfunc.load_model`` before the clock
starts.  ``evaluate(model, df, targets="y", model_type="classifier",
evaluator_config={"log_model_explainability": False})``: the default evaluator, its metrics,
its five plots, the dataset input, without an active run (evaluate starts and ends one).

Cases:

- ``compare``: 10,000 rows, mltrail and MLflow alternating.  ``first``: the first evaluate in
  the process (what a script pays, lazy imports included); ``second``: the same call again.
  Target: mltrail at most 1/3 of MLflow's time.
- ``scale``: 1,000,000 rows.  mltrail's evaluate against the same metrics computed with
  scikit-learn directly (``predict``, ``predict_proba``, ``confusion_matrix``,
  ``accuracy_score``, ``precision_score``, ``recall_score``, ``f1_score``, ``log_loss``,
  ``roc_auc_score``, ``average_precision_score``), each in its own process.  Target: at most
  2x.  Memory: the peak resident set during evaluate above the resident set before it
  (Linux ``VmHWM``, reset through ``/proc/self/clear_refs``), against the DataFrame's size.
  Target: under 2x.  Both sides first run once on 1,000 rows (imports, font caches), so
  ``first`` is the first million-row call of a warm process; ``second`` reuses memory the
  first freed (the allocator keeps it), so its peak says little.

Medians over the repeats; the raw results go to benchmarks/results/evaluate-*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIG = {"log_model_explainability": False}


# -- the worker: one measurement in this process ---------------------------------------------
def _data(rows: int) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((rows, 4)), columns=["a", "b", "c", "d"])
    target = ((frame["a"] + frame["b"] + 0.3 * rng.normal(size=rows)) > 1.0).astype(int)
    return frame, target


def _rss_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")  # resets VmHWM to the current resident set


def _worker(tool: str, rows: int, tmp: Path, warm_up: bool) -> dict[str, Any]:
    import importlib
    import warnings

    from sklearn.linear_model import LogisticRegression

    warnings.simplefilter("ignore")
    frame, target = _data(rows)
    estimator = LogisticRegression().fit(frame.iloc[:10_000], target.iloc[:10_000])
    data = frame.assign(y=target)
    small = data.iloc[:1_000].copy()
    del frame, target
    data_mb = data.memory_usage(deep=True).sum() / 2**20
    result: dict[str, Any] = {"status": "ok", "tool": tool, "rows": rows, "data_mb": data_mb}
    if tool == "sklearn":
        from sklearn import metrics

        def run(data: Any = data) -> None:
            y = data["y"].to_numpy()
            features = data.drop(columns=["y"])
            predicted = estimator.predict(features)
            probabilities = estimator.predict_proba(features)
            metrics.confusion_matrix(y, predicted).ravel()
            metrics.accuracy_score(y, predicted)
            metrics.precision_score(y, predicted)
            metrics.recall_score(y, predicted)
            metrics.f1_score(y, predicted)
            metrics.log_loss(y, probabilities)
            metrics.roc_auc_score(y, probabilities[:, 1])
            metrics.average_precision_score(y, probabilities[:, 1])

    else:
        lib = importlib.import_module(tool)
        importlib.import_module(f"{tool}.sklearn")
        lib.set_tracking_uri(f"sqlite:///{tmp / 'store.db'}")
        with lib.start_run():
            info = lib.sklearn.log_model(estimator, name="model", pip_requirements=["scikit-learn"])
        model = lib.pyfunc.load_model(info.model_uri)

        def run(data: Any = data) -> None:
            evaluated = lib.models.evaluate(
                model, data, targets="y", model_type="classifier", evaluator_config=CONFIG
            )
            if "roc_auc" not in evaluated.metrics:
                raise RuntimeError(f"{tool} logged no roc_auc: {sorted(evaluated.metrics)}")

    if warm_up:  # imports, font caches and first-use costs, on 1,000 rows
        run(small)
    for attempt in ("first", "second"):
        before = _rss_kib("VmRSS")
        _reset_peak()
        start = time.perf_counter()
        run()
        result[f"{attempt}_s"] = time.perf_counter() - start
        result[f"{attempt}_peak_extra_mb"] = (_rss_kib("VmHWM") - before) / 1024
    return result


# -- the orchestrator ------------------------------------------------------------------------
def _run_once(tool: str, rows: int, warm_up: bool, timeout: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"mltrail-bench-evaluate-{tool}-"))
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI",)}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", PYTHONWARNINGS="ignore")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", tool]
    command += ["--rows", str(rows), "--tmp", str(tmp)] + (["--warm-up"] if warm_up else [])
    try:
        done = subprocess.run(
            command, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"status": "error", "error": f"timed out after {timeout:.0f} s"}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            parsed: dict[str, Any] = json.loads(line)
            return parsed
    return {"status": "error", "error": f"exit {done.returncode}", "stderr": done.stderr[-3000:]}


def _medians(results: list[dict[str, Any]]) -> dict[str, float]:
    ok = [r for r in results if r.get("status") == "ok"]
    if not ok:
        raise SystemExit(f"every run failed: {results[-1]}")
    keys = [k for k, v in ok[0].items() if isinstance(v, float)]
    return {k: statistics.median(r[k] for r in ok) for k in keys}


def _case(
    tools: list[str], rows: int, warm_up: bool, repeat: int, timeout: float
) -> dict[str, Any]:
    raw: dict[str, list[dict[str, Any]]] = {tool: [] for tool in tools}
    for i in range(repeat):
        for tool in tools:
            result = _run_once(tool, rows, warm_up, timeout)
            result["loadavg_1m"] = os.getloadavg()[0]
            raw[tool].append(result)
            shown = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in result.items()}
            print(f"[{rows} rows {i + 1}/{repeat}] {json.dumps(shown)}", file=sys.stderr)
    return {"raw": raw, "medians": {tool: _medians(results) for tool, results in raw.items()}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--worker", choices=["mltrail", "mlflow", "sklearn"], help=argparse.SUPPRESS)
    p.add_argument("--rows", type=int, default=10_000, help=argparse.SUPPRESS)
    p.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--warm-up", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--only", nargs="+", choices=["compare", "scale"], default=["compare", "scale"])
    p.add_argument("--repeat", type=int, default=5, help="fresh processes per tool (default 5)")
    p.add_argument("--quick", action="store_true", help="1 repeat, 100,000 rows for scale")
    p.add_argument("--timeout", type=float, default=900, help="seconds per subprocess")
    args = p.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker, args.rows, args.tmp, args.warm_up)), flush=True)
        return
    repeat = 1 if args.quick else args.repeat
    big = 100_000 if args.quick else 1_000_000
    report: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
        "cases": {},
    }
    lines = []
    if "compare" in args.only:
        case = _case(["mltrail", "mlflow"], 10_000, False, repeat, args.timeout)
        report["cases"]["compare"] = case
        ours, theirs = case["medians"]["mltrail"], case["medians"]["mlflow"]
        for key in ("first_s", "second_s"):
            ratio = ours[key] / theirs[key]
            verdict = "ok" if ratio <= 1 / 3 else "MISSED"
            lines.append(
                f"evaluate 10k rows, {key[:-2]:6} mltrail {ours[key]:7.3f} s   MLflow "
                f"{theirs[key]:7.3f} s   mltrail/MLflow {ratio:5.2f}  (target <= 0.33: {verdict})"
            )
        lines.append(
            f"  peak memory of the first call above the start: mltrail "
            f"{ours['first_peak_extra_mb']:.1f} MB, MLflow {theirs['first_peak_extra_mb']:.1f} MB "
            "(imports included; info)"
        )
    if "scale" in args.only:
        case = _case(["mltrail", "sklearn"], big, True, max(1, min(repeat, 3)), args.timeout)
        report["cases"]["scale"] = case
        ours, direct = case["medians"]["mltrail"], case["medians"]["sklearn"]
        for key in ("first_s", "second_s"):
            ratio = ours[key] / direct[key]
            verdict = "ok" if ratio <= 2 else "MISSED"
            lines.append(
                f"evaluate {big:,} rows, {key[:-2]:6} mltrail {ours[key]:7.3f} s   "
                f"scikit-learn {direct[key]:7.3f} s   ratio {ratio:5.2f}  (target <= 2: {verdict})"
            )
        for key in ("first_peak_extra_mb", "second_peak_extra_mb"):
            ratio = ours[key] / ours["data_mb"]
            verdict = "ok" if ratio < 2 else "MISSED"
            lines.append(
                f"peak memory above the start, {key.split('_')[0]:6} {ours[key]:7.1f} MB for "
                f"{ours['data_mb']:.1f} MB of data: {ratio:4.2f}x  (target < 2: {verdict}; "
                f"scikit-learn directly: {direct[key]:.1f} MB)"
            )
    report["loadavg_end"] = os.getloadavg()
    report["table"] = lines
    print()
    print("\n".join(lines))
    print(f"\nload average: start {report['loadavg_start']}, end {report['loadavg_end']}")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / time.strftime("evaluate-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
    print(f"results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
