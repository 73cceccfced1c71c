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
from pathlib import Path
from typing import Any

import mltrail

__all__ = ["LIBRARIES", "record_both"]

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
