"""MLflow stores made by the real MLflow, and snapshots that show nothing in them changed.

MLflow runs in a subprocess: its engines, caches and warnings stay out of the test process,
and it holds no connection that would keep a test database from being dropped.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text

__all__ = [
    "database_state",
    "folder_state",
    "made_by_mlflow",
    "make_mlflow_schema",
    "make_mlflow_store",
    "mlflow_driver_uri",
]

# A few runs of history: an experiment, a run with a param, a metric, a tag and an artifact.
_SCRIPT = """
import sys
import mlflow

uri = sys.argv[1]
client = mlflow.MlflowClient(tracking_uri=uri)
experiment_id = client.create_experiment("history")
run = client.create_run(experiment_id, run_name="baseline")
client.log_param(run.info.run_id, "lr", "0.1")
client.log_metric(run.info.run_id, "loss", 0.5, step=1)
client.set_tag(run.info.run_id, "team", "vision")
client.log_text(run.info.run_id, "notes", "notes.txt")
client.set_terminated(run.info.run_id)
print(run.info.run_id)
"""


# An older MLflow schema, built as MLflow builds any: its initial tables, then its own
# migrations, stopped at *revision* instead of its head.
_SCHEMA_SCRIPT = """
import sys
from alembic import command
from sqlalchemy import create_engine
from mlflow.store.db.utils import _get_alembic_config
from mlflow.store.tracking.dbmodels.initial_models import Base

uri, revision = sys.argv[1], sys.argv[2]
engine = create_engine(uri)
Base.metadata.create_all(engine)
config = _get_alembic_config(uri)
with engine.begin() as connection:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
engine.dispose()
"""


def mlflow_driver_uri(uri: str) -> str:
    """The URI with the drivers installed here (MLflow's defaults are psycopg2 and MySQLdb)."""
    scheme, sep, rest = uri.partition("://")
    drivers = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}
    return f"{drivers.get(scheme, scheme)}{sep}{rest}"


def make_mlflow_store(uri: str, cwd: Path) -> str:
    """Let MLflow create a store at *uri* (from *cwd*, where its ./mlruns artifacts go) and log
    one run to it; the run's id."""
    return _mlflow(cwd, _SCRIPT, mlflow_driver_uri(uri))


def made_by_mlflow(base: Path) -> Path:
    """``mlflow.db`` with its ``mlruns`` artifact folder (MLflow 3's default layout) and an
    MLflow file store ``files/mlruns``, made once per test session below *base* (the
    session's temporary folder); tests copy them before use."""
    root = base / "made-by-mlflow"
    if (root / "done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    (root / "files").mkdir(parents=True)
    make_mlflow_store(f"sqlite:///{root / 'mlflow.db'}", cwd=root)
    make_mlflow_store(f"file:{root / 'files' / 'mlruns'}", cwd=root / "files")
    (root / "done").touch()
    return root


def make_mlflow_schema(uri: str, revision: str, cwd: Path) -> None:
    """An empty MLflow database at an older *revision* (MLflow 2's last: ``0584bdc529eb``),
    built by MLflow's own initial tables and migrations."""
    _mlflow(cwd, _SCHEMA_SCRIPT, mlflow_driver_uri(uri), revision)


def _mlflow(cwd: Path, script: str, *args: str) -> str:
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "PYTHONWARNINGS": "ignore"}
    for var in ("MLFLOW_TRACKING_URI", "MLTRAIL_TRACKING_URI"):
        env.pop(var, None)
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def folder_state(folder: Path) -> dict[str, tuple[Any, ...]]:
    """Every file and folder below *folder* (itself included): content hash, size, mtime."""
    state: dict[str, tuple[Any, ...]] = {".": ("dir", folder.stat().st_mtime_ns)}
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            path = Path(root, name)
            state[str(path.relative_to(folder))] = ("dir", path.stat().st_mtime_ns)
        for name in files:
            path = Path(root, name)
            info = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[str(path.relative_to(folder))] = (digest, info.st_size, info.st_mtime_ns)
    return state


def database_state(uri: str) -> tuple[list[str], list[tuple[Any, ...]], int, int]:
    """A database's tables, Alembic revision, and counts of experiments and runs."""
    engine = create_engine(mlflow_driver_uri(uri))
    try:
        with engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
            revision = [tuple(r) for r in conn.execute(text("SELECT * FROM alembic_version"))]
            experiments = conn.execute(text("SELECT COUNT(*) FROM experiments")).scalar_one()
            runs = conn.execute(text("SELECT COUNT(*) FROM runs")).scalar_one()
    finally:
        engine.dispose()
    return tables, revision, int(experiments), int(runs)
