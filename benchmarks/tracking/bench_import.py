"""Workload ``import``: cost of ``import TOOL`` in a fresh interpreter, start-up subtracted.

Each round times ``python -c "pass"`` and ``python -c "import TOOL"`` back to back (fresh
processes, same interpreter and environment, cwd = the temporary directory); the result is
median(import) - median(bare).  One untimed warm-up of each comes first so that byte-code
compilation is not measured.  ``--explain`` adds ``python -X importtime`` top offenders and
the top-level packages that ``import TOOL`` loads.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.tracking._common import Result, check, child_env, main, median, parser

HEAVY = ("sqlalchemy", "alembic", "pandas", "numpy", "pyarrow", "starlette", "uvicorn", "httpx")


def _wall(code: str, cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=child_env(), capture_output=True, check=False
    )
    elapsed = time.perf_counter() - start
    check(proc.returncode == 0, f"{code!r} failed: {proc.stderr.decode()[-2000:]}")
    return elapsed


def importtime(tool: str, cwd: Path, top: int) -> Result:
    """Top offenders of ``-X importtime`` by cumulative and by self time (microseconds)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {tool}"],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    rows: list[tuple[int, int, str]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|", 2)
        rows.append((int(self_us), int(cumulative_us), name.rstrip()))
    by_cumulative = sorted(rows, key=lambda r: r[1], reverse=True)[:top]
    by_self = sorted(rows, key=lambda r: r[0], reverse=True)[:top]
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; import {tool}; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))",
        ],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return {
        "modules_imported": len(rows),
        "top_cumulative_us": [[name.strip(), cum] for _, cum, name in by_cumulative],
        "top_self_us": [[name.strip(), own] for own, _, name in by_self],
        "heavy_packages_loaded": [m for m in HEAVY if m in loaded],
        "top_level_packages": loaded,
    }


def run(args: argparse.Namespace) -> Result:
    code = f"import {args.tool}"
    _wall("pass", args.tmp)
    _wall(code, args.tmp)  # warm-up: byte-code compiled, files in the page cache
    bare: list[float] = []
    imported: list[float] = []
    for _ in range(args.rounds):
        bare.append(_wall("pass", args.tmp))
        imported.append(_wall(code, args.tmp))
    bare_ms = median(bare) * 1e3
    raw_ms = median(imported) * 1e3
    result: Result = {"import_ms": raw_ms - bare_ms, "bare_ms": bare_ms, "raw_ms": raw_ms}
    if args.explain:
        result["explain"] = importtime(args.tool, args.tmp, args.top)
    return result


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--rounds", type=int, default=5, help="timed (bare, import) pairs")
    p.add_argument("--explain", action="store_true", help="add -X importtime offenders")
    p.add_argument("--top", type=int, default=15)
    return p


if __name__ == "__main__":
    main("import", run, build_parser())
