"""Tables as run artifacts in MLflow's format: what ``MlflowClient.log_table``/``load_table``
and the fluent ``mltrail.log_table``/``load_table`` (:mod:`mltrail.evaluation`) share.

A table is a JSON file in pandas' "split" orientation, ``{"columns": [...], "data": [[...]]}``
(or a Parquet file), and the run's ``mlflow.loggedArtifacts`` tag lists it as
``{"path": ..., "type": "table"}``: that tag is how ``load_table`` finds the runs holding a
table.  Logging to a file that already exists appends the rows to it.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import tempfile
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail._optional import require
from mltrail.entities import Run, ViewType
from mltrail.tracking._dataframe import runs_to_dataframe

if TYPE_CHECKING:
    import pandas as pd

    from mltrail.tracking._client import MlflowClient

__all__ = ["LOGGED_ARTIFACTS_TAG", "check_artifact_file", "load_table_of", "log_table_to"]

_logger = logging.getLogger(__name__)

#: The run tag listing the tables logged to a run (MLflow's name and JSON shape).
LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"
#: Characters MLflow refuses in a table's file name (they would break the tag search).
_FORBIDDEN = ('"', "'", ",", ":", "[", "]", "{", "}")


def check_artifact_file(artifact_file: Any) -> str:
    if not isinstance(artifact_file, str) or not artifact_file:
        raise InvalidArgument(
            f"Invalid artifact_file {artifact_file!r}: must be a file name such as 'table.json'"
        )
    for char in _FORBIDDEN:
        if char in artifact_file:
            raise InvalidArgument(
                f"Invalid artifact_file {artifact_file!r}: contains the forbidden character "
                f"{char!r}"
            )
    if not artifact_file.endswith((".json", ".parquet")):
        raise InvalidArgument(
            f"Invalid artifact_file {artifact_file!r}: a table's file name must end in '.json' "
            "or '.parquet'"
        )
    return artifact_file


def _as_frame(data: Any) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Mapping):
        try:
            return pd.DataFrame(dict(data))
        except ValueError:  # all scalars: one row
            return pd.DataFrame([dict(data)])
    raise InvalidArgument(
        f"Invalid data of type {type(data).__name__}: log_table takes a pandas DataFrame or a "
        "dictionary of columns"
    )


def _read(path: str) -> pd.DataFrame:
    import pandas as pd

    if path.endswith(".json"):
        return pd.read_json(path, orient="split")
    require("pyarrow")  # a one-line error naming the extra
    return pd.read_parquet(path)


def _write(frame: pd.DataFrame, path: str) -> None:
    if path.endswith(".json"):
        frame.to_json(path, orient="split", index=False, date_format="iso")
    else:
        require("pyarrow")
        frame.to_parquet(path, index=False)


def _exists(client: MlflowClient, run_id: str, artifact_file: str) -> bool:
    directory = posixpath.dirname(posixpath.normpath(artifact_file)) or None
    return any(
        f.path == artifact_file and not f.is_dir for f in client.list_artifacts(run_id, directory)
    )


def log_table_to(client: MlflowClient, run_id: str, data: Any, artifact_file: str) -> None:
    """:func:`log_table` with an explicit client and run."""
    artifact_file = check_artifact_file(artifact_file)
    frame = _as_frame(data)
    with tempfile.TemporaryDirectory(prefix="mltrail-table-") as tmp:
        if _exists(client, run_id, artifact_file):
            import pandas as pd

            existing = _read(client.download_artifacts(run_id, artifact_file, tmp))
            frame = pd.concat([existing, frame], ignore_index=True)
        local = os.path.join(tmp, "out", posixpath.basename(artifact_file))
        os.makedirs(os.path.dirname(local))
        try:
            _write(frame, local)
        except (TypeError, ValueError, OverflowError) as exc:
            raise InvalidArgument(
                f"Invalid data for table {artifact_file!r}: its values cannot be written as a "
                f"table ({exc})"
            ) from exc
        client.log_artifact(run_id, local, posixpath.dirname(artifact_file) or None)
    tags = client.get_run(run_id).data.tags
    listed = json.loads(tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
    entry = {"path": artifact_file, "type": "table"}
    if entry not in listed:
        listed.append(entry)
        client.set_tag(run_id, LOGGED_ARTIFACTS_TAG, json.dumps(listed), synchronous=True)


def _has_table(run: Run, artifact_file: str) -> bool:
    try:
        listed = json.loads(run.data.tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
    except ValueError:
        return False
    return {"path": artifact_file, "type": "table"} in listed


def _runs_with_table(
    client: MlflowClient,
    artifact_file: str,
    experiment_id: str | None,
    run_ids: Sequence[str] | None,
) -> list[Run]:
    """The runs that logged the table, newest first (``search_runs``' order): of *run_ids*
    (those in *experiment_id* when given), else every active run of *experiment_id*."""
    if run_ids:
        runs = [client.get_run(str(run_id)) for run_id in run_ids]
        found = [
            run
            for run in runs
            if _has_table(run, artifact_file)
            and (experiment_id is None or run.info.experiment_id == str(experiment_id))
        ]
        if len(found) != len(runs):
            _logger.warning(
                "Not all runs have the specified table artifact. Some runs will be skipped."
            )
        return sorted(found, key=lambda run: (-(run.info.start_time or 0), run.info.run_id))
    found = []
    token: str | None = None
    pattern = f'%"path"%:%"{artifact_file}",%"type"%:%"table"%'
    while True:
        page = client.search_runs(
            [str(experiment_id)],
            f"tags.`{LOGGED_ARTIFACTS_TAG}` LIKE '{pattern}'",
            ViewType.ACTIVE_ONLY,
            50_000,
            None,
            token,
        )
        found.extend(run for run in page if _has_table(run, artifact_file))
        token = page.token
        if not token:
            return found


def load_table_of(
    client: MlflowClient,
    experiment_id: str | None,
    artifact_file: str,
    run_ids: Sequence[str] | None = None,
    extra_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The table *artifact_file* of the runs *run_ids* (of any experiment when
    *experiment_id* is None), else of every run of *experiment_id* that logged it, rows
    concatenated (newest run first) as a pandas DataFrame.

    *extra_columns* names columns of ``search_runs``' frame (``run_id``, ``tags.<key>``, ...)
    added to each run's rows; a name the table already has gets a trailing underscore.
    """
    import pandas as pd

    artifact_file = check_artifact_file(artifact_file)
    runs = _runs_with_table(client, artifact_file, experiment_id, run_ids)
    if not runs:
        raise NotFound(f"No runs found with the table artifact {artifact_file!r}")
    described = runs_to_dataframe(runs) if extra_columns else None
    frames = []
    with tempfile.TemporaryDirectory(prefix="mltrail-table-") as tmp:
        for position, run in enumerate(runs):
            rid = run.info.run_id
            if not _exists(client, rid, artifact_file):
                raise NotFound(f"Artifact {artifact_file} not found for run {rid}.")
            frame = _read(client.download_artifacts(rid, artifact_file, os.path.join(tmp, rid)))
            for column in extra_columns or ():
                assert described is not None
                if column not in described.columns:
                    raise InvalidArgument(
                        f"Invalid extra column {column!r}: not a column of search_runs' result "
                        "(such as 'run_id', 'experiment_id', 'status', 'tags.<key>')"
                    )
                name = f"{column}_" if column in frame.columns else column
                frame[name] = described[column].iloc[position]
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)
