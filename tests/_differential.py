"""Running one scenario script under the real ``mlflow`` and under mltrail, side by side.

The script is called as ``python SCRIPT <library> <tracking uri> <summary.json>``: it imports
``mlflow`` or ``mltrail as mlflow``, records into a fresh SQLite store in its own folder and
writes what it recorded as JSON.  Both processes run at the same time, each with the mltrail
under test first on its path and no tracking or experiment variables of the caller.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from filelock import FileLock

import mltrail

__all__ = ["LIBRARIES", "record_both", "recorded_once", "run_both", "scenario_env"]

LIBRARIES = ("mlflow", "mltrail")
_UNSET = (
    "MLFLOW_TRACKING_URI",
    "MLTRAIL_TRACKING_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_ID",
)


def _start(script: Path, library: str, workdir: Path) -> subprocess.Popen[bytes]:
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in _UNSET}
    src = str(Path(mltrail.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    uri = f"sqlite:///{workdir / 'store.db'}"
    return subprocess.Popen(
        [sys.executable, str(script), library, uri, str(workdir / "summary.json")],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def record_both(script: Path, root: Path, timeout: float = 600) -> dict[str, Any]:
    """Each library's summary (``{"mlflow": ..., "mltrail": ...}``), recorded in
    ``root/<library>``; a side that fails fails the caller with its output's tail."""
    processes = {lib: _start(script, lib, root / lib) for lib in LIBRARIES}
    summaries = {}
    for lib, process in processes.items():
        output, _ = process.communicate(timeout=timeout)
        assert process.returncode == 0, f"{lib} side failed:\n{output.decode()[-4000:]}"
        summaries[lib] = json.loads((root / lib / "summary.json").read_text())
    return summaries


def scenario_env(**extra: str) -> dict[str, str]:
    """The environment of a scenario process: the caller's without its MLflow and mltrail
    variables, the mltrail under test first on the path, telemetry off, then *extra*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    src = str(Path(mltrail.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    return {**env, "MLFLOW_DISABLE_TELEMETRY": "true", **extra}


def run_both(
    script: Path,
    folder: Path,
    extra_env: Mapping[str, Mapping[str, str]] | None = None,
    timeout: float = 280,
) -> dict[str, Any]:
    """Run ``python SCRIPT <library> out.json`` for both libraries at once, each in
    ``folder/<library>`` (made here) with :func:`scenario_env` plus ``extra_env[library]``:
    ``{library: what it wrote to out.json}``; a side that fails fails the caller."""
    processes = {}
    for lib in LIBRARIES:
        (folder / lib).mkdir()
        processes[lib] = subprocess.Popen(
            [sys.executable, str(script), lib, "out.json"],
            cwd=folder / lib,
            env=scenario_env(**(extra_env or {}).get(lib, {})),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    results = {}
    for lib, process in processes.items():
        output, _ = process.communicate(timeout=timeout)
        assert process.returncode == 0, f"{lib} side failed:\n{output[-4000:]}"
        results[lib] = json.loads((folder / lib / "out.json").read_text())
    return results


def recorded_once(
    tmp_path_factory: Any, worker_id: str, name: str, record: Callable[[Path], Any]
) -> Any:
    """``record(folder)`` made once per test session: pytest-xdist workers share one
    recording through a file in the session's shared temporary folder (the first records,
    the others wait and read it)."""
    if worker_id == "master":
        return record(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent / name
    with FileLock(f"{shared}.lock"):
        if not (shared / "recorded.json").exists():
            shared.mkdir()
            (shared / "recorded.json").write_text(json.dumps(record(shared)))
    return json.loads((shared / "recorded.json").read_text())
