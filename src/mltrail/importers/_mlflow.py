"""Opening an MLflow store as an import source, chosen by the URI's scheme or the path.

* ``sqlite:///...``, ``postgresql://...``, ``mysql://...`` (a driver may be named:
  ``mysql+pymysql://``): MLflow's database, :class:`MlflowDatabaseSource`;
* ``http://...``, ``https://...``: a running MLflow tracking server,
  :class:`MlflowServerSource`;
* ``file:///...`` or a plain path: an ``mlruns`` folder, :class:`MlflowFileSource`; a path to
  a file is taken for a SQLite database (``mlflow.db``).
"""

from __future__ import annotations

import os

from mltrail._exceptions import InvalidArgument
from mltrail.importers._mlflow_common import local_path
from mltrail.importers._mlflow_db import MlflowDatabaseSource
from mltrail.importers._mlflow_files import MlflowFileSource
from mltrail.importers._mlflow_rest import MlflowServerSource
from mltrail.importers._records import Source

__all__ = ["open_mlflow_source"]

_DATABASES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")


def open_mlflow_source(uri: str, *, artifacts_destination: str | None = None) -> Source:
    """The MLflow store at *uri* as a read-only :class:`~mltrail.importers.Source`.

    *artifacts_destination* is the MLflow server's ``--artifacts-destination`` (a folder or a
    URI such as ``s3://bucket/mlartifacts``): where ``mlflow-artifacts:`` locations recorded
    in a database or an ``mlruns`` folder are read.  A server source reads them through the
    server and ignores it.
    """
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidArgument("Invalid MLflow source: expected a database URI, a URL or a folder")
    uri = uri.strip()
    scheme = uri.split("://", 1)[0].split("+", 1)[0].lower() if "://" in uri else ""
    if scheme in _DATABASES:
        return MlflowDatabaseSource(uri, artifacts_destination=artifacts_destination)
    if scheme in ("http", "https"):
        return MlflowServerSource(uri)
    path = local_path(uri)
    if path is None:
        raise InvalidArgument(
            f"Unsupported MLflow source {uri!r}: expected sqlite:///mlflow.db, postgresql://..., "
            "mysql://..., http(s)://server or an mlruns folder"
        )
    if os.path.isfile(path):
        return MlflowDatabaseSource(
            f"sqlite:///{os.path.abspath(path)}", artifacts_destination=artifacts_destination
        )
    return MlflowFileSource(path, artifacts_destination=artifacts_destination)
