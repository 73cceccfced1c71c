"""Side-by-side benchmarks of mltrail's tracking core against MLflow.

    benchmarks/setup_env.sh                     # once: benchmarks/.venv with mlflow + mltrail
    benchmarks/.venv/bin/python benchmarks/run.py [--only NAME ...] [--repeat N] [--explain]

Every workload runs for both tools, each time in a fresh subprocess on a fresh temporary
directory holding a fresh SQLite store (``sqlite:///<tmp>/store.db``); tools alternate within
each repeat.  The table shows medians over the repeats, mltrail's advantage (how many times
faster or smaller) and the target from the issue; the raw numbers go to benchmarks/results/.
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
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOOLS = ("mltrail", "mlflow")
Medians = dict[str, Any]


@dataclass(frozen=True)
class Row:
    """One line of the table: a number from a workload's JSON result, judged against a target."""

    label: str
    key: str
    unit: str  # "ms", "s", "/s", "MB"
    higher_is_better: bool
    target: str
    judge: Callable[[Medians, Medians], bool] | None  # (mltrail, mlflow) medians; None: info
    needs_mlflow: bool = False  # the target compares with MLflow's number
    mltrail_only: bool = False  # MLflow cannot run it at all


@dataclass(frozen=True)
class Workload:
    name: str
    rows: tuple[Row, ...]
    repeat: int = 5  # used when --repeat is not given
    module: str | None = None  # default benchmarks.tracking.bench_<name>
    cacheable: bool = False  # takes --populate-cache


def _faster(key: str, factor: float) -> Callable[[Medians, Medians], bool]:
    return lambda mt, mf: mt[key] * factor <= mf[key]


WORKLOADS = (
    Workload(
        "import",
        (Row("import", "import_ms", "ms", False, "< 50 ms", lambda mt, _: mt["import_ms"] < 50),),
    ),
    Workload(
        "script",
        (Row("script", "wall_s", "s", False, "<= 1/10 MLflow", _faster("wall_s", 10), True),),
    ),
    Workload(
        "log_metric",
        (
            Row(
                "log_metric",
                "calls_per_s",
                "/s",
                True,
                ">= 100,000/s",
                lambda mt, _: mt["calls_per_s"] >= 100_000,
            ),
            Row("  incl. end_run", "calls_per_s_incl_end_run", "/s", True, "(info)", None),
        ),
    ),
    Workload(
        "log_batch",
        (
            Row(
                "log_batch",
                "points_per_s",
                "/s",
                True,
                ">= 200,000/s",
                lambda mt, _: mt["points_per_s"] >= 200_000,
            ),
        ),
    ),
    Workload(
        "history",
        (
            Row("history read", "read_s", "s", False, "< 1 s", lambda mt, _: mt["read_s"] < 1),
            Row(
                "  peak RSS growth",
                "rss_delta_mb",
                "MB",
                False,
                "< MLflow",
                lambda mt, mf: mt["rss_delta_mb"] < mf["rss_delta_mb"],
                needs_mlflow=True,
            ),
            Row("  tracemalloc peak", "tracemalloc_peak_mb", "MB", False, "(info)", None),
        ),
    ),
    Workload(
        "search",
        (
            Row(
                "search",
                "median_ms",
                "ms",
                False,
                "< 100 ms, >= 20x",
                lambda mt, mf: mt["median_ms"] < 100 and mt["median_ms"] * 20 <= mf["median_ms"],
                needs_mlflow=True,
            ),
            Row(
                "  OR filter",
                "or_median_ms",
                "ms",
                False,
                "< 100 ms",
                lambda mt, _: mt["or_median_ms"] < 100,
                mltrail_only=True,
            ),
        ),
        repeat=3,  # each run already reports the median of >= 7 searches; populating is slow
        cacheable=True,
    ),
    Workload(
        "filter_parse",
        (
            Row(
                "filter parse",
                "typical_us",
                "us",
                False,
                "< 1 ms",
                lambda mt, _: mt["typical_us"] < 1000,
                mltrail_only=True,
            ),
            Row(
                "  OR filter at the term limit",
                "long_or_ms",
                "ms",
                False,
                "< 20 ms",
                lambda mt, _: mt["long_or_ms"] < 20,
                mltrail_only=True,
            ),
            Row(
                "  100,000-term OR refused",
                "refused_ms",
                "ms",
                False,
                "< 20 ms",
                lambda mt, _: mt["refused_ms"] < 20,
                mltrail_only=True,
            ),
        ),
        repeat=3,
    ),
    Workload(
        "search_versions",
        (
            Row(
                "search_model_versions",
                "median_ms",
                "ms",
                False,
                "< 50 ms, >= 10x",
                lambda mt, mf: mt["median_ms"] < 50 and mt["median_ms"] * 10 <= mf["median_ms"],
                needs_mlflow=True,
            ),
            Row("  CPU time", "cpu_median_ms", "ms", False, "(info)", None),
        ),
        repeat=5,
        module="benchmarks.registry.bench_search_versions",
        cacheable=True,
    ),
)
BY_NAME = {w.name: w for w in WORKLOADS}


def child_env() -> dict[str, str]:
    # Byte code is cached as on a user's machine: PYTHONDONTWRITEBYTECODE (set in some sandboxes)
    # would make every run recompile an editable install's sources, while a pip-installed MLflow
    # ships compiled .pyc files.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    return env


def run_once(
    workload: str,
    tool: str,
    extra: list[str],
    keep: bool,
    timeout: float,
    module: str | None = None,
) -> dict[str, Any]:
    """Run one workload module (default ``benchmarks.tracking.bench_<workload>``) in a fresh
    subprocess and directory; its last JSON line of output is the result."""
    tmp = Path(tempfile.mkdtemp(prefix=f"mltrail-bench-{workload}-{tool}-"))
    cmd = [
        sys.executable,
        "-m",
        module or f"benchmarks.tracking.bench_{workload}",
        "--tool",
        tool,
        "--tmp",
        str(tmp),
        *extra,
    ]
    try:
        proc = subprocess.run(
            cmd,
            cwd=tmp,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"status": "error", "error": f"timed out after {timeout:.0f} s"}
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            result: dict[str, Any] = json.loads(line)
            if result.get("status") != "ok":
                result["stderr_tail"] = proc.stderr[-3000:]
            return result
    return {
        "status": "error",
        "error": f"exit {proc.returncode}, no result",
        "stderr_tail": proc.stderr[-3000:],
    }


def run_repeats(
    name: str,
    tools: list[str],
    repeat: int,
    extra: list[str],
    module: str,
    keep: bool,
    timeout: float,
) -> dict[str, Any]:
    """Run workload *name* (module *module* with *extra* arguments) ``repeat`` times per tool,
    tools alternating within each repeat, each result with the 1-minute load average at its
    end (``loadavg_1m``); progress and failures on stderr.  Returns the report entry: the
    repeat count, the raw results and the medians, per tool."""
    raw: dict[str, list[dict[str, Any]]] = {tool: [] for tool in tools}
    for i in range(repeat):
        for tool in tools:
            result = run_once(name, tool, extra, keep, timeout, module)
            result["loadavg_1m"] = os.getloadavg()[0]
            raw[tool].append(result)
            shown = {k: v for k, v in result.items() if k not in ("stderr_tail", "tool")}
            print(f"[{name} {i + 1}/{repeat} {tool}] {json.dumps(shown)}", file=sys.stderr)
            if result.get("status") == "error":
                print(result.get("stderr_tail", ""), file=sys.stderr)
    return {
        "repeat": repeat,
        "raw": raw,
        "medians": {tool: medians(results) for tool, results in raw.items()},
    }


def write_report(report: dict[str, Any], prefix: str) -> Path:
    """Write *report* to ``benchmarks/results/<prefix>-<time>.json``; return its path."""
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / time.strftime(f"{prefix}-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
    return path


def medians(results: list[dict[str, Any]]) -> Medians | None:
    ok = [r for r in results if r.get("status") == "ok"]
    if not ok:
        return None
    keys = {
        k
        for r in ok
        for k, v in r.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    return {k: statistics.median(r[k] for r in ok if k in r) for k in sorted(keys)}


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if unit == "s":
        return f"{value:,.3f} s" if value < 10 else f"{value:,.1f} s"
    return f"{value:,.0f} {unit}"


def cell(tool_results: list[dict[str, Any]], med: Medians | None, row: Row) -> str:
    if med is not None and row.key in med:
        return fmt(med[row.key], row.unit)
    statuses = {r.get("status") for r in tool_results}
    return "n/a" if not tool_results or statuses == {"not available"} else "ERROR"


def table(report: dict[str, Any], workloads: dict[str, Workload] | None = None) -> list[list[str]]:
    """The printed table; *workloads* (default this module's) describe the report's rows."""
    lines = [["workload", "mltrail", "MLflow", "mltrail adv.", "target", "result"]]
    for name, entry in report["workloads"].items():
        mt, mf = entry["medians"].get("mltrail"), entry["medians"].get("mlflow")
        for row in (workloads or BY_NAME)[name].rows:
            have_mt = mt is not None and row.key in mt
            have_mf = mf is not None and row.key in mf
            ratio = "-"
            if have_mt and have_mf and mt[row.key] > 0 and mf[row.key] > 0:
                r = mt[row.key] / mf[row.key] if row.higher_is_better else mf[row.key] / mt[row.key]
                ratio = f"{r:,.1f}x"
            verdict = "-"
            if row.judge is not None:
                verdict = "N/A"
                if have_mt and (have_mf or not row.needs_mlflow):
                    verdict = "PASS" if row.judge(mt or {}, mf or {}) else "FAIL"
            mf_cell = (
                "rejects OR" if row.mltrail_only else cell(entry["raw"].get("mlflow", []), mf, row)
            )
            lines.append(
                [
                    row.label,
                    cell(entry["raw"].get("mltrail", []), mt, row),
                    mf_cell,
                    ratio,
                    row.target,
                    verdict,
                ]
            )
    return lines


def print_table(lines: list[list[str]]) -> None:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for n, line in enumerate(lines):
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def environment() -> dict[str, Any]:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "mlflow": version("mlflow"),
        "mltrail": version("mltrail"),
        "commit": commit,
        "loadavg_start": os.getloadavg(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--only",
        nargs="+",
        choices=list(BY_NAME),
        metavar="NAME",
        help=f"workloads to run (default all): {', '.join(BY_NAME)}",
    )
    p.add_argument("--repeat", type=int, help="fresh runs per tool (default 5; search 3)")
    p.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    p.add_argument("--explain", action="store_true", help="-X importtime offenders of mltrail")
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke test, not numbers")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temporary directories")
    p.add_argument(
        "--no-populate-cache",
        action="store_true",
        help="search workloads: populate a fresh store every repeat (default: reuse "
        "benchmarks/.cache/)",
    )
    p.add_argument("--timeout", type=float, default=3600, help="seconds per subprocess")
    args = p.parse_args()

    report: dict[str, Any] = {"environment": environment(), "workloads": {}}
    started = time.time()
    for name in args.only or list(BY_NAME):
        workload = BY_NAME[name]
        repeat = args.repeat or workload.repeat
        raw: dict[str, list[dict[str, Any]]] = {tool: [] for tool in args.tools}
        for i in range(repeat):
            for tool in args.tools:
                extra = ["--quick"] if args.quick else []
                if workload.cacheable and not args.no_populate_cache:
                    extra += ["--populate-cache", str(HERE / ".cache")]
                if name == "import" and args.explain and tool == "mltrail" and i == 0:
                    extra.append("--explain")
                result = run_once(
                    name, tool, extra, args.keep_tmp, args.timeout, module=workload.module
                )
                raw[tool].append(result)
                shown = {
                    k: v
                    for k, v in result.items()
                    if k not in ("explain", "stderr_tail", "workload", "tool")
                }
                print(
                    f"[{name} {i + 1}/{repeat} {tool}] {json.dumps(shown)}",
                    file=sys.stderr,
                    flush=True,
                )
                if result.get("status") == "error":
                    print(result.get("stderr_tail", ""), file=sys.stderr)
        report["workloads"][name] = {
            "repeat": repeat,
            "raw": raw,
            "medians": {tool: medians(results) for tool, results in raw.items()},
        }
    report["environment"]["loadavg_end"] = os.getloadavg()
    report["elapsed_s"] = time.time() - started
    lines = table(report)
    report["table"] = lines
    print()
    print_table(lines)

    explain = next(
        (
            r["explain"]
            for r in report["workloads"].get("import", {}).get("raw", {}).get("mltrail", [])
            if "explain" in r
        ),
        None,
    )
    if explain:
        print("\nimport mltrail: -X importtime, top cumulative (us)")
        for mod, us in explain["top_cumulative_us"]:
            print(f"  {us:>9,}  {mod}")
        print("top self (us)")
        for mod, us in explain["top_self_us"]:
            print(f"  {us:>9,}  {mod}")
        print(
            f"heavy packages loaded: {explain['heavy_packages_loaded'] or 'none'}; "
            f"{explain['modules_imported']} modules imported"
        )

    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / time.strftime("tracking-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
    shutil.copyfile(path, out / "latest.json")
    print(f"\nresults: {path.relative_to(ROOT)}  ({report['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()
