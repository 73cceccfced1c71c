"""Shared fixtures: real database servers, fresh tracking URIs, a clean fluent state.

PostgreSQL (127.0.0.1:5432, trust auth) and MariaDB (127.0.0.1:3306, root without password)
are real servers.  Each test gets its own database, dropped afterwards.  When a server is
missing a test is skipped locally with the reason, and fails under CI (``CI=true``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.tracking import close_backends

# Fixtures `seaweedfs` and `s3_bucket` (SeaweedFS S3); `serve`, `free_port`, `tracking_server`
# (uvicorn on 127.0.0.1 in a thread); `asgi_backend` (a REST backend on an app in process).
pytest_plugins = ["tests._seaweed", "tests._live_server", "tests._asgi"]

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_HOST, PG_PORT = "127.0.0.1", 5432
MY_HOST, MY_PORT = "127.0.0.1", 3306


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


@pytest.fixture
def postgres_uri() -> Iterator[str]:
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    import psycopg

    name = f"mltrail_{uuid.uuid4().hex[:12]}"
    admin = f"host={PG_HOST} port={PG_PORT} dbname=test user=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        close_backends()  # the library's connections to this database
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def mysql_uri() -> Iterator[str]:
    require_service("MariaDB", MY_HOST, MY_PORT)
    import pymysql

    name = f"mltrail_{uuid.uuid4().hex[:12]}"
    conn = pymysql.connect(host=MY_HOST, port=MY_PORT, user="root", password="", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        yield f"mysql://root@{MY_HOST}:{MY_PORT}/{name}"
    finally:
        close_backends()  # the library's connections to this database
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


@pytest.fixture
def sqlite_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def db_uri(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on each SQL backend."""
    fixture = {"sqlite": "sqlite_uri", "postgres": "postgres_uri", "mysql": "mysql_uri"}[
        request.param
    ]
    return str(request.getfixturevalue(fixture))


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
