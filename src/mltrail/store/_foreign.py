"""MLflow's own stores, recognised before mltrail opens anything, and what to do with them.

mltrail cannot use an MLflow tracking database or an MLflow ``mlruns`` folder in place:
``mltrail import mlflow SOURCE --tracking-uri DEST`` copies it into an mltrail store.  Pointed
at one, mltrail refuses it before writing a byte, and its error names the store and prints
that command.  What is known here needs no database driver: MLflow's Alembic revisions, what
an ``mlruns`` folder looks like, the command to suggest, and the error itself.  Reading a
database's revision and tables is the SQL backend's part (``mltrail.store.sql._probe``).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Collection
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from mltrail._exceptions import InvalidArgument

__all__ = [
    "MLFLOW_REVISIONS",
    "NEWEST_KNOWN_MLFLOW",
    "describe_mlflow_database",
    "folder_uri_error",
    "import_command",
    "mlflow_database_error",
    "mlflow_folder_kind",
    "redact",
]

#: The MLflow release whose migrations :data:`MLFLOW_REVISIONS` lists.
NEWEST_KNOWN_MLFLOW = "3.17.2"

#: MLflow's Alembic revisions, oldest first, as its migrations chain them
#: (``mlflow/store/db_migrations/versions`` of MLflow 3.17.2).
MLFLOW_REVISIONS: tuple[str, ...] = (
    "451aebb31d03", "90e64c465722", "181f10493468", "df50e92ffc5e", "7ac759974ad8",
    "89d4b8295536", "2b4d017a5e9b", "cfd24bdc0731", "0a8213491aaa", "728d730b5ebd",
    "27a6a02d2cf1", "84291f40a231", "a8c4a736bde6", "39d1c3be5f05", "c48cb773bb87",
    "bd07f7e963c5", "0c779009ac13", "cc1f77228345", "97727af70f4d", "3500859a5d39",
    "7f2a7d5fae7d", "2d6e25af4d3e", "acf3f17fdcc7", "867495a8f9d4", "5b0e9adcef9c",
    "4465047574b1", "f5a4f2784254", "0584bdc529eb", "400f98739977", "6953534de441",
    "bda7b8c39065", "cbc13b556ace", "770bee3ae1dd", "a1b2c3d4e5f6", "de4033877273",
    "1a0cddfcaa16", "534353b11cbc", "71994744cf8e", "3da73c924c2f", "bf29a5ff90ea",
    "1bd49d398cd23", "b7c8d9e0f1a2", "5d2d30f0abce", "c9d4e5f6a7b8", "2c33131f4dae",
    "d3e4f5a6b7c8", "d0e1f2a3b4c5", "c8d9e0f1a2b3", "1b5f0d9ad7c1", "e1f2a3b4c5d6",
    "76601a5f987d", "c3d6457b6d8a", "a5b4c3d2e1f0", "ae8bbe7743c9", "7d34483879f0",
    "da6fb0208061", "89d3d66ed43f", "b7e4c1a90f23", "a8b9c0d1e2f3", "c1d2e3f4a5b6",
    "c3d9e7f1a2b4", "6f8d9c3b2a1e", "1971f2d9a75b", "17e22815139b", "b7e2c1a4d9f3",
    "75868b020152", "dc11669786a5",
)  # fmt: skip
_POSITION = {revision: i for i, revision in enumerate(MLFLOW_REVISIONS)}
# MLflow 3's logged models: the revision that adds their tables opens MLflow 3's schemas.
_MLFLOW_3_FIRST = _POSITION["400f98739977"]
# Tables of every MLflow tracking schema; `metrics` (one row per point) is MLflow's alone,
# mltrail keeps its points in `metric_chunks`.
_MLFLOW_TABLES = frozenset({"experiments", "runs", "metrics", "params", "tags"})
_MLTRAIL_ONLY_TABLE = "metric_chunks"
_ALEMBIC_ID = re.compile(r"[0-9a-f]{12,}")
_RUN_ID = re.compile(r"[0-9a-f]{32}")
_FOLDER_ENTRIES_READ = 200  # an mlruns folder is recognised by its first entries

FolderKind = Literal["tracking", "artifacts"]


def describe_mlflow_database(revision: str | None, tables: Collection[str]) -> str | None:
    """What an MLflow database is (``an MLflow 3 tracking database (...)``); None when the
    revision and tables are not MLflow's."""
    position = _POSITION.get(revision) if revision is not None else None
    lowered = {t.lower() for t in tables}
    if position is None:
        if not _MLFLOW_TABLES.issubset(lowered) or _MLTRAIL_ONLY_TABLE in lowered:
            return None
        if revision is not None and not _ALEMBIC_ID.fullmatch(revision):
            return None
    if position is not None:
        major = "3" if position >= _MLFLOW_3_FIRST else "2 (or older)"
        newest = (
            f", the newest one MLflow {NEWEST_KNOWN_MLFLOW} has"
            if position == len(MLFLOW_REVISIONS) - 1
            else ""
        )
        return f"an MLflow {major} tracking database (MLflow schema revision {revision}{newest})"
    major = " 3" if "logged_models" in lowered else ""
    if revision is None:
        return f"an MLflow{major} tracking database (with no schema revision)"
    return (
        f"an MLflow{major} tracking database (MLflow schema revision {revision}, newer than "
        f"MLflow {NEWEST_KNOWN_MLFLOW}, the newest this mltrail knows)"
    )


def import_command(source: str, destination: str) -> str:
    """The command that copies an MLflow store into an mltrail one (plain text)."""
    return f"mltrail import mlflow {shlex.quote(source)} --tracking-uri {shlex.quote(destination)}"


def _error(what: str, source: str, shown: str, destination: str, note: str = "") -> InvalidArgument:
    command = import_command(source, destination)
    return InvalidArgument(
        f"{shown} is {what}, not an mltrail store: mltrail does not open or change MLflow's "
        f"stores. To bring its history into mltrail, run:\n"
        f"    {command}\n"
        f"then point mltrail at {destination}.{note}",
        details={"store": "mlflow", "import_command": command, "destination": destination},
    )


def mlflow_database_error(uri: str, description: str, sqlite_file: str | None) -> InvalidArgument:
    """The refusal of the MLflow database at *uri* (*sqlite_file*: its path, for SQLite).

    The suggested destination is ``mltrail.db`` beside an SQLite file, or a database named
    ``mltrail`` on the same server.  A password in the URI is never shown.
    """
    shown = redact(uri)
    if sqlite_file is not None:
        path = Path(sqlite_file)
        name = "mltrail.db" if path.name != "mltrail.db" else "mltrail-imported.db"
        return _error(description, f"sqlite:///{path}", shown, f"sqlite:///{path.with_name(name)}")
    parts = urlsplit(shown)
    database = "mltrail" if parts.path.strip("/") != "mltrail" else "mltrail_imported"
    destination = parts._replace(path=f"/{database}", query="").geturl()
    note = f" Create the empty database {database} first (or name any other mltrail store)."
    if "***@" in parts.netloc:
        note += " Put the password back where *** stands."
    return _error(description, shown, shown, destination, note)


def mlflow_folder_kind(folder: str) -> FolderKind | None:
    """``tracking`` for an MLflow file store (``mlruns`` with experiments' ``meta.yaml``),
    ``artifacts`` for MLflow's artifact folder beside its database, else None.

    Only the folder's first entries are read; nothing is created or changed.
    """
    try:
        with os.scandir(folder) as entries:
            subfolders = [e for _, e in zip(range(_FOLDER_ENTRIES_READ), entries, strict=False)]
    except OSError:
        return None
    artifacts = False
    for entry in subfolders:
        if not entry.is_dir(follow_symlinks=False):
            continue
        if entry.name == ".trash" or os.path.isfile(os.path.join(entry.path, "meta.yaml")):
            return "tracking"
        if entry.name == "models" and _holds_meta_yaml(entry.path):
            return "tracking"  # the model registry of a file store
        if entry.name.isdigit() and not artifacts:
            artifacts = _holds_run_artifacts(entry.path)
    return "artifacts" if artifacts else None


def _holds_meta_yaml(folder: str) -> bool:
    try:
        with os.scandir(folder) as entries:
            for _, entry in zip(range(_FOLDER_ENTRIES_READ), entries, strict=False):
                if entry.is_dir() and os.path.isfile(os.path.join(entry.path, "meta.yaml")):
                    return True
    except OSError:
        pass
    return False


def _holds_run_artifacts(folder: str) -> bool:
    """``<experiment id>/<run id>/artifacts``, or MLflow 3's ``<experiment id>/models/m-...``."""
    try:
        with os.scandir(folder) as entries:
            for _, entry in zip(range(_FOLDER_ENTRIES_READ), entries, strict=False):
                if _RUN_ID.fullmatch(entry.name) and os.path.isdir(
                    os.path.join(entry.path, "artifacts")
                ):
                    return True
                if entry.name == "models" and entry.is_dir():
                    return True
    except OSError:
        pass
    return False


def folder_uri_error(uri: str) -> InvalidArgument:
    """The refusal of a ``file:`` tracking URI: what mltrail resolves an MLflow folder to."""
    parts = urlsplit(uri)
    folder = os.path.abspath(unquote(parts.path if uri[:5].lower() == "file:" else uri))
    kind = mlflow_folder_kind(folder)
    parent = Path(folder).parent
    destination = f"sqlite:///{parent / 'mltrail.db'}"
    mine = Path(folder, "mltrail.db")
    note = f" (The mltrail store inside it opens as sqlite:///{mine}.)" if mine.is_file() else ""
    if kind == "tracking":
        return _error(
            "an MLflow tracking folder (MLflow's file store)", folder, folder, destination, note
        )
    if kind == "artifacts":
        database = parent / "mlflow.db"
        what = "MLflow's artifact folder (its runs are in MLflow's tracking database)"
        if database.is_file():
            return _error(what, f"sqlite:///{database}", folder, destination, note)
        return InvalidArgument(
            f"{folder} is {what}, not an mltrail store: mltrail does not open or change "
            "MLflow's stores. To bring that history into mltrail, run: mltrail import mlflow "
            f"<MLflow's tracking database URI> --tracking-uri {shlex.quote(destination)}{note}",
            details={"store": "mlflow", "destination": destination},
        )
    return InvalidArgument(
        f"Unsupported tracking URI {uri!r}: a folder store is the SQLite database inside it, "
        f"sqlite:///{mine}"
    )


def redact(uri: str) -> str:
    """The URI without its password."""
    parts = urlsplit(uri)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return uri
