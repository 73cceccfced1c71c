"""The fluent ``mltrail.log_table`` and ``mltrail.load_table``: tables as run artifacts in
MLflow's format (:mod:`mltrail.tracking._tables`, which ``MlflowClient.log_table`` and
``load_table`` use too), addressed through the active run and the current experiment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mltrail.tracking._active import run_stack
from mltrail.tracking._fluent import _client, _target, current_experiment_id
from mltrail.tracking._tables import LOGGED_ARTIFACTS_TAG, load_table_of, log_table_to

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LOGGED_ARTIFACTS_TAG", "load_table", "log_table", "log_table_to"]


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Log *data* (a pandas DataFrame or a dict of columns) as the table *artifact_file*
    (``.json`` or ``.parquet``) of the active run, or of *run_id*; rows are appended when the
    file exists already."""
    client, rid = _target(run_id)
    log_table_to(client, rid, data, artifact_file)


def load_table(
    artifact_file: str,
    run_ids: Sequence[str] | None = None,
    extra_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The table *artifact_file* of the runs *run_ids* (default: every run of the current
    experiment that logged it), rows concatenated, as a pandas DataFrame.

    *extra_columns* names columns of ``search_runs``' frame (``run_id``, ``tags.<key>``, ...)
    added to each run's rows; a name the table already has gets a trailing underscore.
    """
    client = _client()
    experiment_id = None
    if not run_ids:
        active = run_stack()
        experiment_id = active[-1].info.experiment_id if active else current_experiment_id(client)
    return load_table_of(client, experiment_id, artifact_file, run_ids, extra_columns)
