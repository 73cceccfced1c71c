"""Fixtures of the MLflow import tests: stores made by the real MLflow, and what its client reads.

Stores are made by ``mlflow_store_script.py`` in a subprocess (so that MLflow's fluent state
and warnings stay out of the test process): by this interpreter's MLflow 3, or by MLflow 2.22
installed into a venv under ``~/.cache/mltrail-tests`` on first use (from PyPI; reused after).
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests._live_server import (
    clean_env,
    start_mlflow_server,
)
from tests.conftest import IN_CI

from mltrail._envs import EnvironmentManager

SCRIPT = Path(__file__).with_name("mlflow_store_script.py")
MLFLOW_2 = "2.22.5"
VENV_ROOT = Path.home() / ".cache" / "mltrail-tests"

MakeStore = Callable[..., dict[str, Any]]


def run_script(
    python: str, command: str, uri: str, out: Path | str, *, cwd: Path
) -> dict[str, Any]:
    """Run the store script with *python*; return its JSON dump (for ``make``/``dump``)."""
    env = clean_env(
        {
            "MLFLOW_ALLOW_FILE_STORE": "true",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "GIT_PYTHON_REFRESH": "quiet",
            "PYTHONWARNINGS": "ignore",
        }
    )
    done = subprocess.run(
        [python, str(SCRIPT), command, uri, str(out)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{command} with {python} failed:\n{done.stdout}\n{done.stderr}")
    if command == "more":
        return {}
    data: dict[str, Any] = json.loads(Path(out).read_text(encoding="utf-8"))
    data["ids"] = json.loads(done.stdout.strip().splitlines()[-1]) if command == "make" else {}
    return data


@pytest.fixture(scope="session")
def mlflow2_python() -> str:
    """The python of a venv with MLflow 2.22 (mlflow-skinny with SQLAlchemy and Alembic),
    built by the first test process that needs it (the others wait on a file lock)."""
    venv = VENV_ROOT / f"mlflow-{MLFLOW_2}"
    python = venv / "bin" / "python"
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    with open(VENV_ROOT / f"mlflow-{MLFLOW_2}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (python.exists() and (venv / "ready").exists()):
            _build_mlflow2(venv)
    return str(python)


def _build_mlflow2(venv: Path) -> None:
    building = venv.with_name(f"{venv.name}.build-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        uv = EnvironmentManager.uv_binary()  # seconds where pip takes half a minute
        subprocess.run(
            [uv, "venv", "--quiet", "--python", sys.executable, str(building)],
            check=True,
            timeout=300,
            capture_output=True,
        )
        subprocess.run(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                str(building / "bin" / "python"),
                f"mlflow-skinny=={MLFLOW_2}",
                "sqlalchemy<2.1",
                "alembic",
            ],
            check=True,
            timeout=900,
            capture_output=True,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(building, ignore_errors=True)
        message = f"cannot install MLflow {MLFLOW_2} into a venv (PyPI unreachable?): {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    (building / "ready").write_text(MLFLOW_2)
    shutil.rmtree(venv, ignore_errors=True)
    building.rename(venv)


@pytest.fixture(scope="session")
def _mlflow3_sqlite_made(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> tuple[Path, dict[str, Any]]:
    """An MLflow 3 SQLite store made once per test session by the script (MLflow's import and
    model logging cost seconds a store), and what MLflow's client reads from it; xdist
    workers share it through a file lock in the session's shared folder."""
    if worker_id == "master":
        folder = tmp_path_factory.mktemp("mlflow3-sqlite")
        return folder / "mlflow.db", _make_sqlite(folder)
    folder = tmp_path_factory.getbasetemp().parent / "mlflow3-sqlite"
    folder.mkdir(exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker makes it, the others read it
        done = folder / "dump.json"
        if not done.exists():
            done.write_text(json.dumps(_make_sqlite(folder)))
        dump: dict[str, Any] = json.loads(done.read_text())
    return folder / "mlflow.db", dump


def _make_sqlite(folder: Path) -> dict[str, Any]:
    db = folder / "mlflow.db"
    return run_script(sys.executable, "make", f"sqlite:///{db}", folder / "made.json", cwd=folder)


@pytest.fixture
def make_store(tmp_path: Path, _mlflow3_sqlite_made: tuple[Path, dict[str, Any]]) -> MakeStore:
    """``make_store(uri, python=sys.executable)``: fill a new MLflow store at *uri* with the
    script's contents and return what MLflow's client reads from it (``ids`` holds the parent
    and child run ids).

    An MLflow 3 SQLite store is a copy of the worker's store made by the script (its
    artifacts stay in that store's folder, which tests only read); any other store is made
    for the test."""

    def make(uri: str, python: str = sys.executable) -> dict[str, Any]:
        if python == sys.executable and uri.startswith("sqlite:///"):
            made, dump = _mlflow3_sqlite_made
            shutil.copyfile(made, uri[len("sqlite:///") :])
            return copy.deepcopy(dump)
        return run_script(python, "make", uri, tmp_path / "made.json", cwd=tmp_path)

    return make


@dataclass
class Server:
    """A running ``mlflow server``, its database and artifact folder, and the client's dump."""

    url: str
    db: Path
    artifacts: Path
    dump: dict[str, Any]


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``mlflow server`` over SQLite with proxied artifacts, filled by the store script."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    db, artifacts = folder / "mlflow.db", folder / "mlartifacts"
    with start_mlflow_server(folder, artifacts=artifacts, timeout=600) as server:
        dump = run_script(sys.executable, "make", server.url, folder / "made.json", cwd=folder)
        yield Server(server.url, db, artifacts, dump)
