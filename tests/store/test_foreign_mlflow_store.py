"""Pointed at MLflow's data, mltrail says it is MLflow's store, prints the import command, and
changes nothing: no byte, no mtime, no file created beside or inside it.

Every store here is made by the real MLflow (tests/_mlflow_stores.py), in a subprocess.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests._mlflow_stores import (
    database_state,
    folder_state,
    made_by_mlflow,
    make_mlflow_schema,
    make_mlflow_store,
)

import mltrail
from mltrail import MlflowClient
from mltrail.cli import cli
from mltrail.exceptions import InvalidArgument, MltrailError, SchemaOutOfDate
from mltrail.store import open_backend, upgrade_database
from mltrail.store._foreign import (
    MLFLOW_REVISIONS,
    NEWEST_KNOWN_MLFLOW,
    describe_mlflow_database,
    import_command,
)
from mltrail.store.sql._engine import create_db_engine, ensure_schema

# -- the stores, made once per session and copied into each test -----------------------------


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made_by_mlflow(tmp_path_factory.getbasetemp())


@pytest.fixture
def team(made: Path, tmp_path: Path) -> Path:
    """A copy of the MLflow stores in a folder of the test's own."""
    folder = tmp_path / "team"
    shutil.copytree(made, folder, ignore=shutil.ignore_patterns("done"))
    return folder


def _revision(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        conn.close()


def _fluent(uri: str) -> None:
    mltrail.set_tracking_uri(uri)
    mltrail.start_run()  # the first tracking call opens the store


def _client(uri: str) -> None:
    MlflowClient(tracking_uri=uri).search_experiments()


def _backend(uri: str) -> None:
    from mltrail.tracking._uri import resolve_tracking_uri

    open_backend(resolve_tracking_uri(uri)).close()


def _upgrade(uri: str) -> None:
    from mltrail.tracking._uri import resolve_tracking_uri

    upgrade_database(resolve_tracking_uri(uri))


ENTRY_POINTS: dict[str, Callable[[str], None]] = {
    "set_tracking_uri": _fluent,
    "MlflowClient": _client,
    "open_backend": _backend,
    "upgrade_database": _upgrade,
}


def _refusal(entry: str, uri: str) -> str:
    with pytest.raises(InvalidArgument) as caught:
        ENTRY_POINTS[entry](uri)
    message = caught.value.message
    assert "MLflow" in message
    assert "newer" not in message.replace("newer than MLflow", "")
    assert "upgrade" not in message
    assert "SELECT" not in message
    assert caught.value.details["store"] == "mlflow"
    return message


# -- SQLite ----------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_an_mlflow_sqlite_database_is_refused_untouched(entry: str, team: Path) -> None:
    db = team / "mlflow.db"
    before = folder_state(team)
    message = _refusal(entry, f"sqlite:///{db}")
    assert message.startswith(f"sqlite:///{db} is an MLflow 3 tracking database")
    assert f"MLflow schema revision {_revision(db)}" in message
    command = f"mltrail import mlflow sqlite:///{db} --tracking-uri sqlite:///{team / 'mltrail.db'}"
    assert f"\n    {command}\n" in message
    assert folder_state(team) == before


def test_a_relative_sqlite_uri_gets_absolute_paths_in_the_command(
    team: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(team)
    before = folder_state(team)
    message = _refusal("MlflowClient", "sqlite:///mlflow.db")
    assert (
        f"mltrail import mlflow sqlite:///{team / 'mlflow.db'} "
        f"--tracking-uri sqlite:///{team / 'mltrail.db'}"
    ) in message
    assert folder_state(team) == before


def test_an_mlflow_database_in_wal_mode_gets_no_wal_or_shm_files(team: Path) -> None:
    db = team / "mlflow.db"
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
    conn.close()  # the last connection removes -wal and -shm
    before = folder_state(team)
    assert not any(name.startswith("mlflow.db-") for name in before)
    for entry in sorted(ENTRY_POINTS):
        _refusal(entry, f"sqlite:///{db}")
    assert folder_state(team) == before


def test_ensure_schema_refuses_an_mlflow_database_before_any_write(team: Path) -> None:
    """The engine-level check too (the SQLite file was read read-only before it)."""
    uri = f"sqlite:///{team / 'mlflow.db'}"
    engine = create_db_engine(uri)
    created: list[object] = []
    try:
        with pytest.raises(InvalidArgument, match="is an MLflow 3 tracking database") as caught:
            ensure_schema(engine, uri, created.append)
    finally:
        engine.dispose()
    assert created == []
    expected = f"sqlite:///{team / 'mltrail.db'}"
    assert caught.value.details["destination"] == expected


# -- the mlruns folders ----------------------------------------------------------------------


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("form", ["path", "relative", "file-uri", "file-relative"])
def test_an_mlflow_file_store_is_refused_untouched(
    entry: str, form: str, team: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = team / "files" / "mlruns"
    monkeypatch.chdir(team / "files")
    uri = {
        "path": str(folder),
        "relative": "./mlruns",
        "file-uri": folder.as_uri(),
        "file-relative": "file:./mlruns",
    }[form]
    before = folder_state(team)
    message = _refusal(entry, uri)
    assert message.startswith(f"{folder} is an MLflow tracking folder (MLflow's file store)")
    command = f"mltrail import mlflow {folder} --tracking-uri sqlite:///{team / 'files/mltrail.db'}"
    assert f"\n    {command}\n" in message
    assert folder_state(team) == before


def test_the_file_store_resolves_to_its_own_uri(team: Path) -> None:
    folder = team / "files" / "mlruns"
    mltrail.set_tracking_uri(str(folder))
    assert mltrail.get_tracking_uri() == folder.as_uri()
    assert MlflowClient(str(folder)).tracking_uri == folder.as_uri()


@pytest.mark.parametrize("entry", ["set_tracking_uri", "MlflowClient", "upgrade_database"])
def test_mlflow_artifact_folder_beside_its_database_points_to_the_database(
    entry: str, team: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(team)
    before = folder_state(team)
    message = _refusal(entry, "./mlruns")
    assert message.startswith(f"{team / 'mlruns'} is MLflow's artifact folder")
    command = (
        f"mltrail import mlflow sqlite:///{team / 'mlflow.db'} "
        f"--tracking-uri sqlite:///{team / 'mltrail.db'}"
    )
    assert f"\n    {command}\n" in message
    assert folder_state(team) == before


def test_without_mlflow_db_beside_it_the_artifact_folder_still_says_what_to_do(
    team: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (team / "mlflow.db").rename(team / "renamed.db")
    monkeypatch.chdir(team)
    before = folder_state(team)
    message = _refusal("MlflowClient", "./mlruns")
    assert message.startswith(f"{team / 'mlruns'} is MLflow's artifact folder")
    assert (
        "mltrail import mlflow <MLflow's tracking database URI> "
        f"--tracking-uri sqlite:///{team / 'mltrail.db'}"
    ) in message
    assert folder_state(team) == before


@pytest.mark.parametrize("store", ["files/mlruns", "mlruns"])
def test_no_new_sqlite_file_is_made_inside_an_mlflow_folder(store: str, team: Path) -> None:
    before = folder_state(team)
    uri = f"sqlite:///{team / store / 'mltrail.db'}"
    for entry in ("set_tracking_uri", "MlflowClient", "open_backend"):
        message = _refusal(entry, uri)
        assert message.startswith(f"{team / store} is ")
        assert "\n    mltrail import mlflow " in message
    assert folder_state(team) == before


def test_an_mltrail_store_left_inside_mlruns_is_named(team: Path, tmp_path: Path) -> None:
    """An earlier mltrail made ``mlruns/mltrail.db``: it is named, and still opens by its URI."""
    folder = team / "files" / "mlruns"
    inner = folder / "mltrail.db"
    MlflowClient(f"sqlite:///{tmp_path / 'earlier.db'}").search_experiments()
    mltrail.tracking.close_backends()
    shutil.copy(tmp_path / "earlier.db", inner)
    message = _refusal("MlflowClient", str(folder))
    assert f"The mltrail store inside it opens as sqlite:///{inner}" in message
    assert MlflowClient(f"sqlite:///{inner}").get_experiment("0").name == "Default"


def test_an_empty_or_new_folder_is_still_a_folder_store(tmp_path: Path) -> None:
    for folder in (tmp_path / "new", tmp_path / "empty"):
        if folder.name == "empty":
            folder.mkdir()
        client = MlflowClient(str(folder))
        assert client.tracking_uri == f"sqlite:///{folder / 'mltrail.db'}"
        assert client.create_experiment(f"in-{folder.name}")
        assert (folder / "mltrail.db").is_file()


# -- PostgreSQL and MariaDB --------------------------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("fresh_postgres_uri", marks=[pytest.mark.postgres, pytest.mark.slow]),
        pytest.param("fresh_mysql_uri", marks=[pytest.mark.mysql, pytest.mark.slow]),
    ]
)
def mlflow_server_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    uri = str(request.getfixturevalue(request.param))
    make_mlflow_store(uri, cwd=tmp_path)
    return uri


def test_an_mlflow_server_database_is_refused_untouched(
    mlflow_server_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library's entry points, then ``mltrail ui``/``server``/``db upgrade``."""
    uri = mlflow_server_db
    before = database_state(uri)
    listing = sorted(p.name for p in tmp_path.iterdir())
    assert before[2:] == (2, 1)  # MLflow's Default and "history" experiments, one run
    scheme, rest = uri.split("://")
    server = rest.rsplit("/", 1)[0]
    command = f"mltrail import mlflow {uri} --tracking-uri {scheme}://{server}/mltrail"
    for entry in sorted(ENTRY_POINTS):
        message = _refusal(entry, uri)
        assert message.startswith(f"{uri} is an MLflow 3 tracking database")
        assert f"MLflow schema revision {before[1][0][0]}" in message
        assert f"\n    {command}\n" in message
        assert "Create the empty database mltrail first" in message
        mltrail.tracking.close_backends()

    def serve(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server started on an MLflow database")

    monkeypatch.setattr("uvicorn.run", serve)
    for args in (
        ("ui", "--backend-store-uri", uri),
        ("server", "--backend-store-uri", uri),
        ("db", "upgrade", uri),
    ):
        result = CliRunner().invoke(cli, list(args), prog_name="mltrail")
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.stderr.startswith(f"Error: {uri} is an MLflow 3 tracking database")
        assert f"\n    {command}\n" in result.stderr
        assert "Traceback" not in result.output
        assert "Warning" not in result.stderr  # MariaDB's warning is for upgrades that run
    assert database_state(uri) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no mltrail-artifacts either
    assert not {"metric_chunks", "webhook_deliveries"} & set(before[0])


# -- an MLflow 2 schema ------------------------------------------------------------------------

MLFLOW_2_LAST = "0584bdc529eb"  # the revision before MLflow 3's logged-model tables


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("fresh_postgres_uri", marks=[pytest.mark.postgres, pytest.mark.slow]),
        pytest.param("fresh_mysql_uri", marks=[pytest.mark.mysql, pytest.mark.slow]),
    ]
)
def mlflow_2_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'team' / 'mlflow.db'}"
        (tmp_path / "team").mkdir()
    else:
        uri = str(request.getfixturevalue(request.param))
    make_mlflow_schema(uri, MLFLOW_2_LAST, cwd=tmp_path)
    return uri


def test_an_mlflow_2_schema_is_named_and_refused_untouched(
    mlflow_2_db: str, tmp_path: Path
) -> None:
    uri = mlflow_2_db
    sqlite = uri.startswith("sqlite")
    tables = database_state(uri)[0]
    assert "experiments" in tables
    assert "logged_models" not in tables
    before = folder_state(tmp_path / "team") if sqlite else database_state(uri)
    for entry in sorted(ENTRY_POINTS):
        message = _refusal(entry, uri)
        assert message.startswith(
            f"{uri} is an MLflow 2 (or older) tracking database "
            f"(MLflow schema revision {MLFLOW_2_LAST})"
        )
        assert f"mltrail import mlflow {uri} --tracking-uri " in message
        mltrail.tracking.close_backends()
    assert (folder_state(tmp_path / "team") if sqlite else database_state(uri)) == before


# -- what the schema tells -------------------------------------------------------------------


def test_the_revisions_are_the_installed_mlflows_in_order() -> None:
    """MLflow only ever appends revisions: ours must be the start of its chain."""
    spec = importlib.util.find_spec("mlflow")  # not imported: only its migrations are read
    assert spec is not None
    assert spec.origin is not None
    versions = Path(spec.origin).parent / "store" / "db_migrations" / "versions"
    down: dict[str, str] = {}
    for path in versions.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = re.search(r'^revision\s*=\s*"(\w+)"', source, re.M)
        parent = re.search(r"^down_revision\s*=\s*(\S+)", source, re.M)
        if revision and parent:
            down[parent.group(1).strip("\"'")] = revision.group(1)
    chain, current = [], "None"
    while current in down:
        current = down[current]
        chain.append(current)
    assert tuple(chain[: len(MLFLOW_REVISIONS)]) == MLFLOW_REVISIONS
    if importlib.metadata.version("mlflow") == NEWEST_KNOWN_MLFLOW:
        assert tuple(chain) == MLFLOW_REVISIONS


MLFLOW_TABLES = {"experiments", "runs", "metrics", "params", "tags", "latest_metrics"}
MLTRAIL_TABLES = {"experiments", "runs", "metric_chunks", "params", "tags", "latest_metrics"}


@pytest.mark.parametrize(
    ("revision", "tables", "expected"),
    [
        ("0584bdc529eb", set(), "an MLflow 2 (or older) tracking database (MLflow schema "),
        ("451aebb31d03", MLFLOW_TABLES, "an MLflow 2 (or older) tracking database"),
        ("400f98739977", set(), "an MLflow 3 tracking database (MLflow schema revision 400f"),
        (MLFLOW_REVISIONS[-1], set(), f"the newest one MLflow {NEWEST_KNOWN_MLFLOW} has)"),
        ("abcdef123456", MLFLOW_TABLES, f"abcdef123456, newer than MLflow {NEWEST_KNOWN_MLFLOW}"),
        ("abcdef123456", MLFLOW_TABLES | {"logged_models"}, "an MLflow 3 tracking database"),
        (None, MLFLOW_TABLES, "an MLflow tracking database (with no schema revision)"),
        ("abcdef123456", MLTRAIL_TABLES, None),
        ("0009_future", MLFLOW_TABLES, None),
        (None, MLTRAIL_TABLES, None),
        (None, set(), None),
    ],
)
def test_describe_mlflow_database(revision: str | None, tables: set[str], expected: str | None):
    description = describe_mlflow_database(revision, tables)
    if expected is None:
        assert description is None
    else:
        assert description is not None
        assert expected in description


def test_a_newer_mltrail_revision_still_says_upgrade_mltrail(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'future.db'}"
    MlflowClient(uri).search_experiments()
    mltrail.tracking.close_backends()
    conn = sqlite3.connect(tmp_path / "future.db")
    conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaOutOfDate, match="a newer mltrail created it; upgrade mltrail"):
        open_backend(uri)
    conn = sqlite3.connect(tmp_path / "future.db")
    conn.execute("UPDATE alembic_version SET version_num = 'somebody_elses'")
    conn.commit()
    conn.close()
    with pytest.raises(MltrailError, match="neither an mltrail nor an MLflow schema") as caught:
        open_backend(uri)
    assert not isinstance(caught.value, SchemaOutOfDate)


def test_the_command_quotes_what_a_shell_would_split() -> None:
    assert import_command("/data/my runs", "sqlite:////data/mltrail.db") == (
        "mltrail import mlflow '/data/my runs' --tracking-uri sqlite:////data/mltrail.db"
    )
