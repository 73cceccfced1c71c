"""``mltrail ui``/``server``/``db upgrade`` on MLflow's data: one ``Error:`` line naming MLflow's
store and the import command, exit code 1, no traceback, and nothing changed.

The stores are made by the real MLflow (tests/_mlflow_stores.py).  A server that got as far
as listening would fail the test: ``uvicorn.run`` is replaced by a function that raises.  The
same commands on MLflow's PostgreSQL and MariaDB databases are run by
tests/store/test_foreign_mlflow_store.py, beside the library's entry points, so that MLflow
builds each of those databases once.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from tests._mlflow_stores import folder_state, made_by_mlflow


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made_by_mlflow(tmp_path_factory.getbasetemp())


@pytest.fixture
def team(made: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "team"
    shutil.copytree(made, folder, ignore=shutil.ignore_patterns("done"))
    return folder


@pytest.fixture(autouse=True)
def _no_server_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    def run(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the server started on an MLflow store")

    monkeypatch.setattr("uvicorn.run", run)


def _stores(team: Path) -> dict[str, tuple[str, str]]:
    """Each MLflow store as given on the command line, and the import command expected."""
    db, files = team / "mlflow.db", team / "files" / "mlruns"
    return {
        "sqlite": (
            f"sqlite:///{db}",
            f"mltrail import mlflow sqlite:///{db} --tracking-uri sqlite:///{team / 'mltrail.db'}",
        ),
        "mlruns": (
            str(files),
            f"mltrail import mlflow {files} --tracking-uri sqlite:///{team / 'files/mltrail.db'}",
        ),
        "file-uri": (
            files.as_uri(),
            f"mltrail import mlflow {files} --tracking-uri sqlite:///{team / 'files/mltrail.db'}",
        ),
        "artifacts": (
            str(team / "mlruns"),
            f"mltrail import mlflow sqlite:///{db} --tracking-uri sqlite:///{team / 'mltrail.db'}",
        ),
    }


def _check(stderr: str, command: str) -> None:
    assert stderr.startswith("Error: ")
    assert "MLflow" in stderr
    assert f"\n    {command}\n" in stderr
    assert "newer" not in stderr.replace("newer than MLflow", "")
    assert "SELECT" not in stderr


@pytest.mark.parametrize("store", ["sqlite", "mlruns", "file-uri", "artifacts"])
@pytest.mark.parametrize("command", ["ui", "server"])
def test_the_server_refuses_an_mlflow_store_untouched(
    mltrail, team: Path, command: str, store: str
) -> None:
    uri, expected = _stores(team)[store]
    before = folder_state(team)
    result = mltrail.fails(command, "--backend-store-uri", uri)
    _check(result.stderr, expected)
    assert result.stdout == ""
    assert folder_state(team) == before


@pytest.mark.parametrize("store", ["sqlite", "mlruns", "file-uri", "artifacts"])
@pytest.mark.parametrize("given", ["argument", "option", "environment"])
def test_db_upgrade_refuses_an_mlflow_store_untouched(
    mltrail, team: Path, store: str, given: str
) -> None:
    uri, expected = _stores(team)[store]
    before = folder_state(team)
    if given == "argument":
        result = mltrail.fails("db", "upgrade", uri)
    elif given == "option":
        result = mltrail.fails("db", "upgrade", "--tracking-uri", uri)
    else:
        env = {"MLTRAIL_TRACKING_URI": None, "MLFLOW_TRACKING_URI": uri}
        result = mltrail.fails("db", "upgrade", env=env)
    _check(result.stderr, expected)
    assert folder_state(team) == before


def test_other_commands_on_an_mlflow_store_say_the_same(mltrail, team: Path) -> None:
    """MLFLOW_TRACKING_URI left pointing at MLflow's database, as it was for MLflow."""
    uri, expected = _stores(team)["sqlite"]
    before = folder_state(team)
    env = {"MLTRAIL_TRACKING_URI": None, "MLFLOW_TRACKING_URI": uri}
    _check(mltrail.fails("experiments", "search", env=env).stderr, expected)
    assert folder_state(team) == before
