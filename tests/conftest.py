"""Shared fixtures: real database servers, fresh tracking URIs, a clean fluent state.

PostgreSQL (127.0.0.1:5432, trust auth) and MariaDB (127.0.0.1:3306, root without password)
are real servers.  Each test worker has one database on each, made once; ``postgres_uri`` and
``mysql_uri`` empty it to a new store's state before the test (tests/_databases.py), and
``fresh_postgres_uri``/``fresh_mysql_uri`` make a new database with no schema (for migrations).
When a server is missing a test is skipped locally with the reason, and fails under CI
(``CI=true``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests._databases import (
    MY_HOST,
    MY_PORT,
    PG_HOST,
    PG_PORT,
    WorkerDatabase,
    create_mysql_database,
    create_postgres_database,
    drop_mysql_database,
    drop_postgres_database,
    new_database_name,
)

from mltrail.models import _requirements_cache
from mltrail.tracking import close_backends

# Fixtures `seaweedfs` and `s3_bucket` (SeaweedFS S3); `serve`, `free_port`, `tracking_server`
# (uvicorn on 127.0.0.1 in a thread), `server_factory` (`mltrail server` processes) and
# `asgi_backend` (a REST backend on an app in process).
pytest_plugins = ["tests._seaweed", "tests._live_server", "tests._asgi"]

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_finish(session: pytest.Session) -> None:
    # What is alive now (imported modules, the collected tests) lives until the end: frozen, the
    # collector's full passes during the run no longer walk it.
    gc.freeze()


def pytest_unconfigure(config: pytest.Config) -> None:
    # pytest ends with five full garbage collections (to surface unraisable exceptions); with
    # torch, MLflow and a browser driver loaded a worker spent about 3 s in them and in tearing
    # the heap down, after its last test.  Frozen objects are not walked.
    gc.freeze()


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (locally) or fail (in CI) when a service the test needs is not there."""
    if not _reachable(host, port):
        message = f"{name} is not reachable on {host}:{port}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: services are required)")
        pytest.skip(message)


@pytest.fixture(scope="session")
def _postgres_worker_database(worker_id: str) -> Iterator[WorkerDatabase]:
    db = WorkerDatabase.create("postgres", worker_id)
    yield db
    db.drop()


@pytest.fixture(scope="session")
def _mysql_worker_database(worker_id: str) -> Iterator[WorkerDatabase]:
    db = WorkerDatabase.create("mysql", worker_id)
    yield db
    db.drop()


def _worker_database(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, kind: str
) -> WorkerDatabase:
    """This worker's database, emptied to a new store's state (see tests/_databases.py)."""
    db: WorkerDatabase = request.getfixturevalue(f"_{kind}_worker_database")
    db.reset(Path.cwd())
    from mltrail.store.sql import SqlBackend

    open_backend = SqlBackend.__init__

    def init(self: SqlBackend, db_uri: str, default_artifact_root: str | None = None) -> None:
        open_backend(self, db_uri, default_artifact_root)
        if db_uri == db.uri:
            db.opened(self.artifact_root)

    monkeypatch.setattr(SqlBackend, "__init__", init)
    return db


@pytest.fixture
def postgres_uri(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """This worker's PostgreSQL database, in the state of a new store's (emptied, not made)."""
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    db = _worker_database(request, monkeypatch, "postgres")
    try:
        yield db.uri
    finally:
        close_backends()  # the library's connections to this database


@pytest.fixture
def mysql_uri(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """This worker's MariaDB database, in the state of a new store's (emptied, not made)."""
    require_service("MariaDB", MY_HOST, MY_PORT)
    db = _worker_database(request, monkeypatch, "mysql")
    try:
        yield db.uri
    finally:
        close_backends()  # the library's connections to this database


def _fresh_database(
    service: str, port: int, create: Callable[[str], str], drop: Callable[[str], None]
) -> Iterator[str]:
    """A new database with no schema at all, dropped afterwards (for migrations)."""
    require_service(service, PG_HOST if port == PG_PORT else MY_HOST, port)
    name = new_database_name()
    uri = create(name)
    try:
        yield uri
    finally:
        close_backends()  # the library's connections to this database
        drop(name)


@pytest.fixture
def fresh_postgres_uri() -> Iterator[str]:
    """A new PostgreSQL database with no schema at all, dropped afterwards (for migrations)."""
    yield from _fresh_database(
        "PostgreSQL", PG_PORT, create_postgres_database, drop_postgres_database
    )


@pytest.fixture
def fresh_mysql_uri() -> Iterator[str]:
    """A new MariaDB database with no schema at all, dropped afterwards (for migrations)."""
    yield from _fresh_database("MariaDB", MY_PORT, create_mysql_database, drop_mysql_database)


@pytest.fixture
def sqlite_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def db_uri(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on each SQL backend (a new store's state, schema included)."""
    fixture = {"sqlite": "sqlite_uri", "postgres": "postgres_uri", "mysql": "mysql_uri"}[
        request.param
    ]
    return str(request.getfixturevalue(fixture))


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def fresh_db_uri(request: pytest.FixtureRequest) -> str:
    """A new database with no schema at all on each SQL backend (for migrations)."""
    fixture = {
        "sqlite": "sqlite_uri",
        "postgres": "fresh_postgres_uri",
        "mysql": "fresh_mysql_uri",
    }[request.param]
    return str(request.getfixturevalue(fixture))


@pytest.fixture(scope="session")
def _run_requirements_cache(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """One requirements cache for the test run, shared by its workers (entries are written
    atomically): a model of a kind already probed in this run is not probed again, as on a
    user's machine, and nothing is left in the real ~/.cache."""
    base = tmp_path_factory.getbasetemp()
    return (base if worker_id == "master" else base.parent) / "requirements-cache"


@pytest.fixture(autouse=True)
def _requirements_cache_folder(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    _run_requirements_cache: Path,
) -> None:
    """The run's requirements cache, or (``private_requirements_cache``: the tests that count
    probes and entries) an empty one of the test's own."""
    monkeypatch.delenv("MLTRAIL_REQUIREMENTS_CACHE", raising=False)
    folder = _run_requirements_cache
    if request.node.get_closest_marker("private_requirements_cache"):
        folder = tmp_path_factory.mktemp("requirements-cache") / "requirements"
    monkeypatch.setattr(_requirements_cache, "cache_dir", lambda: folder)


@pytest.fixture(autouse=True)
def _cheap_password_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at its lowest cost (one pass over 8 MiB, one lane) instead of 0.17 s of CPU a
    hash or check: the auth tests are about who may do what, not about the hash's cost.  The
    tests of the hashing itself and of a missing argon2 are marked ``real_password_hasher``.
    A server in another process checks these hashes at their own (stored) cost, then rehashes
    them at the real one."""
    if request.node.get_closest_marker("real_password_hasher"):
        return
    try:
        import argon2
    except ImportError:  # the auth tests say what is missing
        return
    from mltrail.server.auth import _secrets

    cheap = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    monkeypatch.setattr(_secrets, "_hasher", lambda: cheap)


_TRACKING_ENV = (
    "MLTRAIL_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "MLTRAIL_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_ID",
    "MLTRAIL_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_RUN_ID",
    "MLTRAIL_RUN_ID",
)


@pytest.fixture(autouse=True)
def _clean_tracking_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test starts in its own working directory with no tracking configuration."""
    for var in _TRACKING_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    # monkeypatch restores only what it changed: a variable the test itself set (MLflow's
    # set_experiment writes MLFLOW_EXPERIMENT_ID into os.environ) must not reach the next
    # test's session fixtures, which are built before this fixture runs again.
    for var in _TRACKING_ENV:
        os.environ.pop(var, None)
    import mltrail
    from mltrail.tracking._active import run_stack, state
    from mltrail.tracking.autolog import disable_all

    disable_all()  # no test leaves a framework patched for the next one
    while run_stack():
        try:
            mltrail.end_run()
        except Exception:
            run_stack().clear()
    if state.last_client is not None:
        with contextlib.suppress(Exception):
            state.last_client.flush()
    state.experiment_id = None
    state.last_run_id = None
    state.last_client = None
    mltrail.set_tracking_uri(None)
    close_backends()
