"""Running a recorded project run again (``mltrail run --from-run RUN_ID``).

What the run recorded decides the new one: its source (``mlflow.source.name``) at its
commit (``mlflow.source.git.commit``), its entry point, the parameters it was given
(``mltrail.project.parameters``; for a run made by ``mlflow run``, which does not record
them apart, its params), its environment manager (``mlflow.project.env``) and its
experiment.  The new run is tagged ``mltrail.project.reproducedFrom`` with the original's
id.  Any of these may be overridden; ``-P`` adds to or replaces single parameters.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._run_context import (
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
    SOURCE_NAME_TAG,
    SOURCE_TYPE_TAG,
)
from mltrail.projects._environment import ENV_MANAGERS
from mltrail.projects._run import ENTRY_POINT_TAG, ENV_TAG, PARAMETERS_TAG, run
from mltrail.projects._submitted import SubmittedRun
from mltrail.tracking._client import MlflowClient

__all__ = ["REPRODUCED_FROM_TAG", "reproduce_run"]

REPRODUCED_FROM_TAG = "mltrail.project.reproducedFrom"

_log = logging.getLogger("mltrail.projects")


def _recorded_parameters(tags: Mapping[str, str], params: Mapping[str, str]) -> dict[str, str]:
    recorded = tags.get(PARAMETERS_TAG)
    if recorded is None:
        _log.warning(
            "the run does not record the parameters it was given apart (%s): passing all its "
            "params again",
            PARAMETERS_TAG,
        )
        return dict(params)
    try:
        value = json.loads(recorded)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise InvalidArgument(f"Invalid {PARAMETERS_TAG} tag on the run: not a JSON object")
    return {str(k): str(v) for k, v in value.items()}


def reproduce_run(
    run_id: str,
    *,
    entry_point: str | None = None,
    version: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    experiment_name: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    env_manager: str | None = None,
    synchronous: bool = True,
    storage_dir: str | os.PathLike[str] | None = None,
    env_root: str | os.PathLike[str] | None = None,
) -> SubmittedRun:
    """Run the project run *run_id* recorded again, as a new run (see the module's text)."""
    original = MlflowClient().get_run(run_id)
    tags = original.data.tags
    if tags.get(SOURCE_TYPE_TAG) != "PROJECT" or not tags.get(ENTRY_POINT_TAG):
        raise InvalidArgument(
            f"Run {run_id} is not a project run (it has no mlflow.source.type PROJECT and "
            f"{ENTRY_POINT_TAG} tags): only runs made by `mltrail run` or `mlflow run` can be "
            "run again from what they recorded"
        )
    source = tags.get(SOURCE_NAME_TAG)
    if not source:
        raise InvalidArgument(f"Run {run_id} records no {SOURCE_NAME_TAG}: its source is unknown")
    commit = tags.get(GIT_COMMIT_TAG)
    if version is None and commit is None:
        _log.warning("run %s records no git commit: running %s as it is now", run_id, source)
    if tags.get(GIT_DIRTY_TAG) == "true" and version is None:
        _log.warning(
            "run %s ran with uncommitted changes, which commit %s does not hold", run_id, commit
        )
    recorded_env = tags.get(ENV_TAG)
    if env_manager is None and recorded_env in ENV_MANAGERS:
        env_manager = recorded_env
    if experiment_id is None and not experiment_name:
        experiment_id = original.info.experiment_id
    values = {**_recorded_parameters(tags, original.data.params), **(parameters or {})}
    return run(
        source,
        entry_point or tags[ENTRY_POINT_TAG],
        version or commit,
        values,
        experiment_name=experiment_name,
        experiment_id=experiment_id,
        synchronous=synchronous,
        run_name=run_name,
        env_manager=env_manager,
        storage_dir=storage_dir,
        env_root=env_root,
        tags={REPRODUCED_FROM_TAG: run_id},
    )
