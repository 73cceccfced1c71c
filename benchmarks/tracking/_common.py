"""Shared plumbing for the side-by-side workloads.

Every workload module runs as ``python -m benchmarks.tracking.bench_NAME --tool mltrail|mlflow
--tmp DIR`` and prints exactly one JSON object as its last line of standard output.  The same
workload code drives both libraries: it imports the tool by name (``mltrail`` or ``mlflow``) and
uses only MLflow's public API on it, exactly like ``import mltrail as mlflow`` would.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

TOOLS = ("mltrail", "mlflow")

# Both tools are called the same way; a workload treats the tool module as dynamically typed.
Tool = Any
Result = dict[str, Any]


class NotAvailable(Exception):
    """The tool lacks an API the workload needs (reported as "not available", not as a crash)."""


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--tool", choices=TOOLS, required=True)
    p.add_argument("--tmp", type=Path, required=True, help="a fresh, empty directory to work in")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    return p


def load(tool: str) -> Tool:
    """``import mltrail`` or ``import mlflow`` (ImportError means "not available")."""
    return importlib.import_module(tool)


def load_sub(tool: str, name: str) -> ModuleType:
    """A submodule such as ``mltrail.entities`` / ``mlflow.entities``."""
    return importlib.import_module(f"{tool}.{name}")


def downloaded_model(tool: str, model_uri: str, tmp: Path) -> tuple[str, list[str]]:
    """The logged model *model_uri* downloaded below ``tmp/downloaded``, and the lines of its
    ``requirements.txt`` (for the record and the checks)."""
    dst = tmp / "downloaded"
    dst.mkdir(exist_ok=True)
    artifacts = load_sub(tool, "artifacts")
    local: str = artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(dst))
    with open(os.path.join(local, "requirements.txt"), encoding="utf-8") as f:
        return local, [line.strip() for line in f if line.strip()]


def tracking_uri(tmp: Path) -> str:
    return f"sqlite:///{tmp.resolve()}/store.db"


def connect(tool: str, tmp: Path) -> tuple[Tool, Tool]:
    """Import the tool, point it at a fresh SQLite store in ``tmp``, return (module, client)."""
    mlflow = load(tool)
    mlflow.set_tracking_uri(tracking_uri(tmp))
    return mlflow, mlflow.MlflowClient()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def rss_kib() -> tuple[int, int]:
    """(current RSS, peak RSS) of this process in KiB (Linux /proc; peak-only elsewhere)."""
    current = peak = 0
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    current = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1])
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        current = peak
    return current, peak


def child_env() -> dict[str, str]:
    """The environment for a nested interpreter: no PYTHONPATH, no telemetry, byte code cached
    as on a user's machine (see ``benchmarks/run.py``)."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    }
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    return env


def warm_up(module: str, args: argparse.Namespace) -> None:
    """Run *module*'s ``warm_up`` case for the same tool in another interpreter, in the same
    directory and store (a training script run a second time), and check that it worked."""
    import subprocess

    root = str(Path(__file__).resolve().parents[2])  # benchmarks/ importable from args.tmp
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", module, "--case", "warm_up"]
    command += ["--tool", args.tool, "--tmp", str(args.tmp)]
    done = subprocess.run(
        command, cwd=args.tmp, env=env, capture_output=True, text=True, check=False
    )
    check(done.returncode == 0, f"the warm-up log_model ran: {done.stderr[-2000:]}")


def emit(result: Result) -> None:
    sys.stdout.flush()
    print(json.dumps(result, sort_keys=True), flush=True)


def main(
    workload: str, run: Callable[[argparse.Namespace], Result], p: argparse.ArgumentParser
) -> None:
    """Parse arguments, run the workload, print its JSON line.

    A missing API in the tool (ImportError, AttributeError, NotImplementedError, NotAvailable)
    is reported as ``"status": "not available"`` with exit code 0; any other failure (including
    a failed durability or correctness check) as ``"status": "error"`` with exit code 1.
    """
    args = p.parse_args()
    args.tmp.mkdir(parents=True, exist_ok=True)
    os.chdir(args.tmp)  # artifact roots and stray files land in the fresh directory
    base: Result = {"workload": workload, "tool": args.tool}
    try:
        result = run(args)
    except (ImportError, AttributeError, NotImplementedError, NotAvailable) as exc:
        traceback.print_exc()
        emit({**base, "status": "not available", "error": f"{type(exc).__name__}: {exc}"})
        return
    except Exception as exc:
        traceback.print_exc()
        emit({**base, "status": "error", "error": f"{type(exc).__name__}: {exc}"})
        sys.exit(1)
    emit({**base, "status": "ok", **result})


def check(condition: bool, message: str) -> None:
    """A correctness check that survives ``python -O`` (unlike assert)."""
    if not condition:
        raise RuntimeError(f"verification failed: {message}")
