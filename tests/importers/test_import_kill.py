"""An import killed with SIGKILL halfway, then started again, completes with nothing lost or
doubled: each chunk of runs is one transaction with its ledger rows, and its artifacts are
copied before it (a killed copy is redone, overwriting the same paths)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.importers._stores import assert_same_stores, fill

from mltrail.artifacts import get_artifact_repository
from mltrail.entities import Metric, Param, RunTag
from mltrail.importers import ImportOptions, run_import
from mltrail.importers._mltrail import MltrailSource
from mltrail.store import Backend, open_backend
from mltrail.store.sql._engine import create_db_engine
from mltrail.store.sql._imports_schema import import_ledger_table

RUNS = 120
CHUNK = 10

# The child process: an import that kills itself (SIGKILL, no clean-up of any kind) at the
# point the test names, or runs until the parent kills it.
CHILD = r"""
import os, signal, sys
from mltrail.artifacts import LocalArtifactRepository
from mltrail.importers import ImportOptions, run_import
from mltrail.importers._mltrail import MltrailSource
from mltrail.store.sql._imports import SqlImports

mode, src, dst, root, chunk, after = sys.argv[1:]
seen = {"n": 0}

def kill_after(count):
    seen["n"] += 1
    if seen["n"] == count:
        os.kill(os.getpid(), signal.SIGKILL)

if mode == "in-transaction":  # a chunk's rows and ledger entries written, not committed
    record = SqlImports._record
    def killing_record(self, conn, key, kind, entries):
        out = record(self, conn, key, kind, entries)
        if kind == "run":
            kill_after(int(after))
        return out
    SqlImports._record = killing_record
elif mode == "mid-copy":  # some of a chunk's artifact files copied
    write = LocalArtifactRepository.write_stream
    def killing_write(self, path, chunks):
        out = write(self, path, chunks)
        if "dst-art" in self.artifact_uri:
            kill_after(int(after))
        return out
    LocalArtifactRepository.write_stream = killing_write

source = MltrailSource(src)
run_import(source, dst, ImportOptions(artifact_root=root, chunk_size=int(chunk), workers=1))
print("finished")
"""


def _many_runs(backend: Backend, tmp: Path) -> None:
    experiment = backend.experiments.create_experiment("many")
    payload = tmp / "payload"
    payload.mkdir()
    (payload / "weights.bin").write_bytes(b"w" * 3000)
    (payload / "config.json").write_text('{"a": 1}')
    for i in range(RUNS):
        run = backend.runs.create_run(experiment, "u", i, [RunTag("i", str(i))], f"r{i}")
        points = [Metric("loss", 1.0 / (s + 1), s, s) for s in range(50)]
        backend.runs.log_batch(run.info.run_id, points, [Param("p", str(i))])
        get_artifact_repository(run.info.artifact_uri).log_artifacts(payload)


@pytest.fixture
def stores(tmp_path: Path) -> tuple[str, str, str]:
    src = f"sqlite:///{tmp_path / 'source.db'}"
    with open_backend(src, str(tmp_path / "source-art")) as backend:
        fill(backend, tmp_path)
        _many_runs(backend, tmp_path)
    return src, f"sqlite:///{tmp_path / 'dest.db'}", str(tmp_path / "dst-art")


def _child(
    mode: str, src: str, dst: str, root: str, after: int, chunk: int = CHUNK
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    args = [sys.executable, "-c", CHILD, mode, src, dst, root, str(chunk), str(after)]
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _ledger_runs(dst: str) -> int:
    engine = create_db_engine(dst)
    try:
        with engine.connect() as conn:
            query = select(func.count()).where(import_ledger_table.c.kind == "run")
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def _finish_and_compare(src: str, dst: str, root: str) -> None:
    source = MltrailSource(src)
    try:
        report = run_import(source, dst, ImportOptions(artifact_root=root, chunk_size=CHUNK))
        assert report.equal, report.differences()
        again = run_import(source, dst, ImportOptions(artifact_root=root, chunk_size=CHUNK))
        assert (again.runs_written, again.rows_written, again.artifact_files_copied) == (0, 0, 0)
    finally:
        source.close()
    assert _ledger_runs(dst) == report.source.runs
    with open_backend(src) as source_backend, open_backend(dst) as destination:
        assert_same_stores(source_backend, destination)  # histories point by point: no doubles


@pytest.mark.parametrize(("mode", "after"), [("in-transaction", 4), ("mid-copy", 55)])
def test_killed_at_a_chosen_point_then_restarted(
    mode: str, after: int, stores: tuple[str, str, str]
) -> None:
    src, dst, root = stores
    child = _child(mode, src, dst, root, after)
    out, err = child.communicate(timeout=240)
    assert child.returncode == -signal.SIGKILL, err
    assert "finished" not in out
    done = _ledger_runs(dst)
    if mode == "in-transaction":
        assert done == 3 * CHUNK  # three chunks committed; the fourth died uncommitted
    else:
        assert 0 < done < RUNS  # killed in the middle of a chunk's copies
    _finish_and_compare(src, dst, root)


def test_killed_by_another_process_then_restarted(stores: tuple[str, str, str]) -> None:
    src, dst, root = stores
    # Chunks of two runs: the import commits some sixty times, and is killed after the first.
    child = _child("plain", src, dst, root, 0, chunk=2)
    try:
        while child.poll() is None and (
            not Path(dst.removeprefix("sqlite:///")).exists() or _ledger_runs_safe(dst) < 2
        ):
            time.sleep(0.005)
        assert child.poll() is None, "the import finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert _ledger_runs(dst) < RUNS
    _finish_and_compare(src, dst, root)


def _ledger_runs_safe(dst: str) -> int:
    """The ledger's runs, 0 while the child has not yet created the table."""
    try:
        return _ledger_runs(dst)
    except Exception:  # the database is being created by the child
        return 0


def test_killed_inside_a_transaction_on_each_database(
    db_uri: str, stores: tuple[str, str, str]
) -> None:
    src, _, root = stores
    child = _child("in-transaction", src, db_uri, root, 2)
    _, err = child.communicate(timeout=240)
    assert child.returncode == -signal.SIGKILL, err
    assert _ledger_runs(db_uri) == CHUNK  # one chunk committed, the second rolled back
    _finish_and_compare(src, db_uri, root)
