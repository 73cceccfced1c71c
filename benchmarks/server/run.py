"""Side-by-side benchmark of ``mltrail server`` against ``mlflow server`` on this machine.

    benchmarks/setup_env.sh                           # once: benchmarks/.venv with both tools
    benchmarks/.venv/bin/python benchmarks/server/run.py [--only NAME ...] [--repeat N]
        [--runs N] [--artifact-mib N] [--quick] [--auth [user|admin]] [--baseline FILE]

Both servers run the same way: the tool's ``server`` command (console script), a fresh SQLite
file as ``--backend-store-uri``, a local ``--artifacts-destination``, ``--workers 1`` (4 in
``keepalive``), on a free 127.0.0.1 port.  Every workload runs in a fresh subprocess and
temporary directory per tool and repeat, tools alternating within each repeat (mltrail, then
MLflow); the table shows medians over the repeats (default 3; ``startup`` 5), the ratio
(mltrail's advantage: how many times faster or smaller) and the target of issue 3.  Every
request is sent by the same ``http.client`` code for both (``benchmarks/server/_server.py``),
except ``remote_log_metric``, which is each tool's own fluent client.

Workloads (details in each module's docstring):

* ``startup`` (``bench_server``): command to first ``/health`` 200; idle RSS summed over the
  server's processes.
* ``create_run``, ``log_batch`` (1000 metrics a request), ``keepalive`` (4 workers, one
  single-threaded client's synchronous ``log-metric`` p50), ``artifacts`` (1 GiB up and down
  through the artifact proxy, MB/s and the server's peak RSS growth): ``bench_server``.
* ``search`` (``bench_search``): 100,000 runs, filter + order by a metric, top 100, through
  ``runs/search``.  The populated stores are those of the tracking benchmark (mltrail's
  through its API, MLflow's by SQL into its schema), kept in ``benchmarks/.cache/`` and
  copied for each repeat (``--no-populate-cache`` populates every time).
* ``remote_log_metric`` (``bench_remote_log_metric``): 100,000 fluent ``log_metric`` calls to
  the server (MLflow: 200, it sends each one synchronously), calls/s on the caller's side
  and the time from ``end_run`` until every point is stored.

The 1-minute load average is recorded with every result (``loadavg_1m``; its median per
workload is printed): on a shared machine absolute figures are noisy, ratios less so.
Raw results, medians and the table go to ``benchmarks/results/server-<time>.json``.

``--auth`` runs every workload against both tools' authenticating servers (``<tool> server
--app-name basic-auth``, same ini keys for both, see ``benchmarks/server/_server.py``), every
request (``remote_log_metric``: through ``MLFLOW_TRACKING_USERNAME``/``PASSWORD``) sent as a
non-admin user created at setup (``--auth admin``: as the admin, who skips permission checks
in both tools), who owns the experiments the workloads create and has MANAGE on experiment 0.
The same table is printed (same targets), the results go to ``server-auth-<time>.json``.
``--baseline FILE`` (a results JSON of a run without ``--auth``) adds the issue's comparison:
per figure, mltrail's advantage without auth and with it, PASS when the lead is kept (the
advantage with auth at least the one without), and each tool's own figure with auth against
without (x1.00: unchanged; above 1: better with auth), which tells a lead lost to
authentication's cost from one that moved because the other tool's figure changed.
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
    Medians,
    Row,
    Workload,
    environment,
    medians,
    print_table,
    run_once,
    table,
)

TOOLS = ("mltrail", "mlflow")
FLAT_MB = 100  # "server memory flat": peak RSS growth while 1 GiB streams through


def _at_least(key: str, bound: float) -> Any:
    return lambda mt, _: mt[key] >= bound


def _below(key: str, bound: float) -> Any:
    return lambda mt, _: mt[key] < bound


def _search_judge(mt: Medians, mf: Medians) -> bool:
    return bool(mt["p50_ms"] < 100 and mt["p50_ms"] * 20 <= mf["p50_ms"])


def _not_slower(key: str) -> Any:
    return lambda mt, mf: mt[key] >= mf[key]


WORKLOADS = (
    Workload(
        "startup",
        (
            Row("cold start (1 worker)", "start_s", "s", False, "< 1 s", _below("start_s", 1)),
            Row("idle RSS (1 worker)", "rss_mb", "MB", False, "< 200 MB", _below("rss_mb", 200)),
            Row("  processes", "processes", "", False, "(info)", None),
        ),
        repeat=5,
    ),
    Workload(
        "create_run",
        (
            Row(
                "create_run (1 worker)",
                "runs_per_s",
                "/s",
                True,
                ">= 500/s",
                _at_least("runs_per_s", 500),
            ),
            Row("  p50", "p50_ms", "ms", False, "(info)", None),
        ),
        repeat=3,
    ),
    Workload(
        "log_batch",
        (
            Row(
                "log_batch of 1000 (1 worker)",
                "points_per_s",
                "/s",
                True,
                ">= 100,000/s",
                _at_least("points_per_s", 100_000),
            ),
            Row("  per request", "batch_ms", "ms", False, "(info)", None),
        ),
        repeat=3,
    ),
    Workload(
        "remote_log_metric",
        (
            Row(
                "log_metric to server, caller",
                "calls_per_s",
                "/s",
                True,
                ">= 100,000/s",
                _at_least("calls_per_s", 100_000),
            ),
            Row(
                "  end_run until all stored",
                "end_run_s",
                "s",
                False,
                "<= 2 s",
                lambda mt, _: mt["end_run_s"] <= 2,
            ),
        ),
        repeat=3,
    ),
    Workload(
        "search",
        (
            Row(
                "search 100k runs, p50",
                "p50_ms",
                "ms",
                False,
                "< 100 ms, >= 20x",
                _search_judge,
                needs_mlflow=True,
            ),
        ),
        repeat=3,
    ),
    Workload(
        "keepalive",
        (
            Row(
                "kept-alive call p50 (4 workers)",
                "p50_ms",
                "ms",
                False,
                "< 5 ms",
                _below("p50_ms", 5),
            ),
            Row("  p90", "p90_ms", "ms", False, "(info)", None),
            Row("  cold start (4 workers)", "start_s", "s", False, "(info)", None),
            Row("  idle RSS (4 workers)", "rss_mb", "MB", False, "(info)", None),
            Row("  processes", "processes", "", False, "(info)", None),
        ),
        repeat=3,
    ),
    Workload(
        "artifacts",
        (
            Row(
                "artifact upload 1 GiB",
                "upload_mb_s",
                "MB/s",
                True,
                ">= MLflow",
                _not_slower("upload_mb_s"),
                needs_mlflow=True,
            ),
            Row(
                "artifact download 1 GiB",
                "download_mb_s",
                "MB/s",
                True,
                ">= MLflow",
                _not_slower("download_mb_s"),
                needs_mlflow=True,
            ),
            Row(
                "  RSS growth, upload",
                "upload_rss_growth_mb",
                "MB",
                False,
                f"flat (< {FLAT_MB} MB)",
                _below("upload_rss_growth_mb", FLAT_MB),
            ),
            Row(
                "  RSS growth, download",
                "download_rss_growth_mb",
                "MB",
                False,
                f"flat (< {FLAT_MB} MB)",
                _below("download_rss_growth_mb", FLAT_MB),
            ),
            Row("  idle RSS", "idle_rss_mb", "MB", False, "(info)", None),
        ),
        repeat=3,
    ),
)
BY_NAME = {w.name: w for w in WORKLOADS}
MODULES = {
    "search": "benchmarks.server.bench_search",
    "remote_log_metric": "benchmarks.server.bench_remote_log_metric",
}


def command_args(name: str, args: argparse.Namespace) -> tuple[str, list[str]]:
    """(module, its arguments after --tool/--tmp) of workload *name*."""
    extra = ["--quick"] if args.quick else []
    if args.auth:
        extra += ["--auth", args.auth]
    module = MODULES.get(name, "benchmarks.server.bench_server")
    if module.endswith("bench_server"):
        extra += ["--workload", name]
    if name == "search":
        if args.runs:
            extra += ["--runs", str(args.runs)]
        if not args.no_populate_cache:
            extra += ["--populate-cache", str(ROOT / "benchmarks" / ".cache")]
    if name == "artifacts" and args.artifact_mib:
        extra += ["--artifact-mib", str(args.artifact_mib)]
    return module, extra


def _figures(report: dict[str, Any], tool: str) -> dict[tuple[str, str], tuple[float, bool]]:
    """*tool*'s median per (workload, row key) of a report, with whether higher is better."""
    out = {}
    for name, entry in report["workloads"].items():
        medians = entry["medians"].get(tool)
        if name not in BY_NAME or not medians:
            continue
        for row in BY_NAME[name].rows:
            value = medians.get(row.key)
            if value and value > 0:
                out[(name, row.key)] = (value, row.higher_is_better)
    return out


def _better(a: tuple[float, bool], b: tuple[float, bool]) -> float:
    """How many times better figure *a* is than *b* (same row)."""
    return a[0] / b[0] if a[1] else b[0] / a[0]


def advantages(report: dict[str, Any]) -> dict[tuple[str, str], float]:
    """mltrail's advantage (how many times better) per (workload, row key) of a report."""
    mt, mf = _figures(report, "mltrail"), _figures(report, "mlflow")
    return {key: _better(mt[key], mf[key]) for key in mt.keys() & mf.keys()}


def lead_table(base: dict[str, Any], auth: dict[str, Any]) -> list[list[str]]:
    """The issue's comparison: mltrail's advantage without and with authentication, and how
    each tool's own figure changed with authentication (x1.00: the same; below 1: worse), so
    that a lead lost because the other tool's figure improved shows as such."""
    before, after = advantages(base), advantages(auth)
    change = {tool: (_figures(base, tool), _figures(auth, tool)) for tool in ("mltrail", "mlflow")}

    def own(tool: str, key: tuple[str, str]) -> str:
        off, on = change[tool][0].get(key), change[tool][1].get(key)
        return "n/a" if off is None or on is None else f"x{_better(on, off):.2f}"

    lines = [
        [
            "figure",
            "adv. no auth",
            "adv. auth",
            "mltrail w/ auth",
            "MLflow w/ auth",
            "target",
            "PASS/FAIL",
        ]
    ]
    for name in (name for name in BY_NAME if name in auth["workloads"]):
        for row in BY_NAME[name].rows:
            if row.judge is None:  # the figures with a target
                continue
            key = (name, row.key)
            b, a = before.get(key), after.get(key)
            verdict = "N/A" if a is None or b is None else ("PASS" if a >= b else "FAIL")
            lines.append(
                [
                    row.label,
                    "n/a" if b is None else f"{b:,.1f}x",
                    "n/a" if a is None else f"{a:,.1f}x",
                    own("mltrail", key),
                    own("mlflow", key),
                    "lead kept",
                    verdict,
                ]
            )
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--only", nargs="+", choices=list(BY_NAME), metavar="NAME", help=", ".join(BY_NAME)
    )
    p.add_argument("--repeat", type=int, help="fresh runs per tool (default 3; startup 5)")
    p.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    p.add_argument("--runs", type=int, default=0, help="search: runs (default 100,000)")
    p.add_argument("--artifact-mib", type=int, default=0, help="artifacts: MiB (default 1024)")
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke test, not numbers")
    p.add_argument("--no-populate-cache", action="store_true", help="search: populate each time")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temporary directories")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per subprocess")
    p.add_argument(
        "--auth",
        nargs="?",
        const="user",
        choices=("user", "admin"),
        help="both servers with --app-name basic-auth, called as a non-admin user (or admin)",
    )
    p.add_argument(
        "--baseline", type=Path, help="--auth: a results JSON without auth, to compare leads"
    )
    args = p.parse_args()

    report: dict[str, Any] = {"environment": environment(), "workloads": {}}
    report["environment"]["suite"] = "server"
    report["environment"]["auth"] = args.auth or "none"
    started = time.time()
    for name in args.only or list(BY_NAME):
        repeat = args.repeat or BY_NAME[name].repeat
        module, extra = command_args(name, args)
        raw: dict[str, list[dict[str, Any]]] = {tool: [] for tool in args.tools}
        for i in range(repeat):
            for tool in args.tools:
                result = run_once(name, tool, extra, args.keep_tmp, args.timeout, module)
                result["loadavg_1m"] = os.getloadavg()[0]
                raw[tool].append(result)
                shown = {k: v for k, v in result.items() if k not in ("stderr_tail", "tool")}
                print(f"[{name} {i + 1}/{repeat} {tool}] {json.dumps(shown)}", file=sys.stderr)
                if result.get("status") == "error":
                    print(result.get("stderr_tail", ""), file=sys.stderr)
        report["workloads"][name] = {
            "repeat": repeat,
            "raw": raw,
            "medians": {tool: medians(results) for tool, results in raw.items()},
        }
    report["environment"]["loadavg_end"] = os.getloadavg()
    report["elapsed_s"] = time.time() - started
    lines = table(report, BY_NAME)
    lines[0] = ["figure", "mltrail", "MLflow", "ratio", "target", "PASS/FAIL"]
    if args.auth:
        lines[0][1:3] = [f"mltrail ({args.auth})", f"MLflow ({args.auth})"]
        who = "a non-admin user" if args.auth == "user" else "the admin"
        print(f"\nboth servers --app-name basic-auth, every request as {who}")
    report["table"] = lines
    print()
    print_table(lines)
    if args.baseline:
        base = json.loads(args.baseline.read_text(encoding="utf-8"))
        report["baseline"] = str(args.baseline)
        report["lead_table"] = lead_table(base, report)
        print(f"\nmltrail's advantage without auth ({args.baseline.name}) and with it:")
        print_table(report["lead_table"])
    print("\nmedian 1-minute load average during each workload (2 cores):")
    for name, entry in report["workloads"].items():
        loads = [m["loadavg_1m"] for m in entry["medians"].values() if m and "loadavg_1m" in m]
        repeats = entry["repeat"]
        print(f"  {name}: {', '.join(f'{x:.2f}' for x in loads)}  ({repeats} repeats per tool)")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    prefix = "server-auth" if args.auth else "server"
    path = out / time.strftime(f"{prefix}-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
    print(f"\nresults: {path.relative_to(ROOT)}  ({report['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()
