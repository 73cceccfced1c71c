"""Side-by-side benchmark of ``mltrail run`` against ``mlflow run`` (issue 19's targets).

    benchmarks/setup_env.sh                     # once: benchmarks/.venv with mlflow + mltrail
    benchmarks/.venv/bin/python -m benchmarks.projects.run [--repeat N] [--only NAME ...]

Workloads (benchmarks/projects/bench_project.py, each run in a fresh subprocess and temporary
directory, tools alternating within each repeat):

* ``local``: a trivial project run with ``--env-manager local``, from the command to the run
  being FINISHED: ``run_s`` for both tools; target at most 1/3 of MLflow's time.
* ``uv``: the same project with a ``python_env.yaml``, run twice with ``--env-manager uv``
  (mltrail only): the second run reuses the environment and must start within 1 s of the
  local case (``reuse_gap_s`` = second uv run - local run, measured in the same workload).

The table shows medians over the repeats (default 5); the raw numbers go to
benchmarks/results/projects-*.json.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from benchmarks.run import (
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


def _within(key: str, bound: float) -> Any:
    return lambda mt, _: mt[key] <= bound


WORKLOADS = {
    "local": Workload(
        "local",
        (
            Row(
                "trivial project, local env, to FINISHED",
                "run_s",
                "s",
                False,
                "<= 1/3 MLflow",
                _faster("run_s", 3),
                needs_mlflow=True,
            ),
        ),
    ),
    "uv": Workload(
        "uv",
        (
            Row("  local run (same workload)", "local_s", "s", False, "(info)", None),
            Row("uv env, first run (builds it)", "first_s", "s", False, "(info)", None),
            Row("uv env, second run (reuses it)", "second_s", "s", False, "(info)", None),
            Row(
                "  second uv run - local run",
                "reuse_gap_s",
                "s",
                False,
                "<= 1 s",
                _within("reuse_gap_s", 1.0),
            ),
        ),
    ),
}
MODULE = "benchmarks.projects.bench_project"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=5, help="fresh runs per tool (default 5)")
    p.add_argument("--only", nargs="+", choices=list(WORKLOADS), metavar="NAME")
    p.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    p.add_argument("--keep-tmp", action="store_true")
    p.add_argument("--timeout", type=float, default=900, help="seconds per subprocess")
    args = p.parse_args()

    report: dict[str, Any] = {"environment": environment(), "workloads": {}}
    started = time.time()
    for name in args.only or list(WORKLOADS):
        tools = args.tools if name == "local" else ["mltrail"]
        report["workloads"][name] = run_repeats(
            name, tools, args.repeat, ["--workload", name], MODULE, args.keep_tmp, args.timeout
        )
    report["environment"]["loadavg_end"] = os.getloadavg()
    report["elapsed_s"] = time.time() - started
    lines = table(report, WORKLOADS)
    lines[0][-1] = "result"
    report["table"] = lines
    print()
    print_table(lines)
    path = write_report(report, "projects")
    print(f"\nresults: benchmarks/results/{path.name}  ({report['elapsed_s']:.0f} s)")


if __name__ == "__main__":
    main()
