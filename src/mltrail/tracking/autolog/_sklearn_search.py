"""Hyper-parameter searches (``GridSearchCV``, ``RandomizedSearchCV``), as MLflow's sklearn
autologging records them on the search's run:

- ``best_estimator`` (the refitted best model), ``best_cv_score`` and ``best_<param>`` params;
- ``cv_results.csv``: the whole ``cv_results_`` table;
- a child run per candidate, the best ``max_tuning_runs`` by ``rank_test_score`` (all when
  None), tagged ``mlflow.parentRunId`` and ``mlflow.autologging`` with the run context and the
  estimator tags, holding the seed estimator's params updated with the candidate's, and the
  candidate's numeric results except the per-split and ``param_`` columns (``mean_test_score``,
  ``std_test_score``, ``rank_test_score``, ``mean_fit_time``, ...).

As in MLflow 3, ``best_cv_score`` is linked to the search's logged model, and the results of
the candidates whose params are the best estimator's to the ``best_estimator`` model (both
measured on the training set).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from numbers import Number
from typing import Any

import pandas as pd
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from mltrail._run_context import resolve_run_context_tags
from mltrail.data import Dataset
from mltrail.entities import DatasetInput, InputTag
from mltrail.tracking import _fluent
from mltrail.tracking._client import PARENT_RUN_TAG
from mltrail.tracking.autolog._config import AUTOLOGGING_TAG
from mltrail.tracking.autolog._linked_metrics import log_linked_metrics
from mltrail.tracking.autolog._safety import log_warning

__all__ = [
    "SEARCH_ESTIMATORS",
    "BestEstimator",
    "best_params",
    "estimator_tags",
    "is_search",
    "log_search_results",
]

INTEGRATION = "sklearn"
SEARCH_ESTIMATORS: tuple[type, ...] = (GridSearchCV, RandomizedSearchCV)
_logger = logging.getLogger("mltrail.autolog")


@dataclass(frozen=True)
class BestEstimator:
    """The logged ``best_estimator`` model (None when logging it failed) and its params."""

    model_id: str | None
    params: dict[str, Any]

    def links(self, candidate: dict[str, Any]) -> str | None:
        """The model a candidate's results are linked to: this one when the candidate's
        params are among the best estimator's."""
        if not self.params or self.model_id is None:
            return None
        items = self.params.items()
        return self.model_id if all(pair in items for pair in candidate.items()) else None


def is_search(estimator: Any) -> bool:
    return isinstance(estimator, SEARCH_ESTIMATORS)


def estimator_tags(estimator: Any) -> dict[str, str]:
    cls = type(estimator)
    return {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__name__}"}


def best_params(estimator: Any) -> dict[str, Any]:
    return {f"best_{name}": value for name, value in estimator.best_params_.items()}


def _child_run_phrase(max_tuning_runs: int, total: int) -> str:
    logged = min(max_tuning_runs, total)
    rest = total - logged
    logging_phrase = {0: "no runs", 1: "the best run"}.get(logged, f"the {logged} best runs")
    omitting_phrase = {0: "no runs", 1: "one run"}.get(rest, f"{rest} runs")
    return f"Logging {logging_phrase}, {omitting_phrase} will be omitted."


def _best_rows(results: pd.DataFrame, max_tuning_runs: int | None) -> pd.DataFrame:
    if max_tuning_runs is None:
        return results
    rank = "rank_test_score"
    if rank not in results.columns:
        rank = next(c for c in results.columns if "rank_test_" in c)
        warnings.warn(
            f"Top {max_tuning_runs} child runs will be created based on ordering in {rank} "
            "column.  You can choose not to limit the number of child runs created by setting "
            "`max_tuning_runs=None`.",
            stacklevel=2,
        )
    best = results.nsmallest(max_tuning_runs, rank)
    _logger.info("%s", _child_run_phrase(max_tuning_runs, len(results)))
    return best


def create_child_runs(
    search: Any,
    parent_run_id: str,
    max_tuning_runs: int | None,
    dataset: Dataset | None,
    format_params: Any,
    best: BestEstimator | None = None,
) -> None:
    client = _fluent._client()
    parent = client.get_run(parent_run_id)
    start_time = parent.info.start_time
    end_time = int(time.time() * 1000)
    seed = search.estimator
    base_params = seed.get_params(deep=not is_search(seed))
    results = _best_rows(pd.DataFrame.from_dict(search.cv_results_), max_tuning_runs)
    # The parent's run context (user, source, git), as if resolved again for each child.
    context = {
        key: value
        for key, value in parent.data.tags.items()
        if key == "mlflow.user" or key.startswith(("mlflow.source.", "mltrail.source."))
    }
    tags = {
        **(context or resolve_run_context_tags()),
        AUTOLOGGING_TAG: INTEGRATION,
        PARENT_RUN_TAG: parent_run_id,
        **estimator_tags(seed),
    }
    inputs = (
        [DatasetInput(dataset._to_mlflow_entity(), [InputTag("mlflow.data.context", "train")])]
        if dataset is not None
        else []
    )
    children = []
    for _, row in results.iterrows():
        child = client.create_run(parent.info.experiment_id, start_time=start_time, tags=tags)
        child_id = child.info.run_id
        children.append(child_id)
        _fluent.log_params(format_params({**base_params, **row.get("params", {})}), run_id=child_id)
        metrics: dict[str, Any] = {
            str(key): value
            for key, value in row.items()
            if not str(key).startswith(("param", "split")) and isinstance(value, Number)
        }
        model_id = None if best is None else best.links(dict(row.get("params", {})))
        log_linked_metrics(child_id, metrics, model_id=model_id, dataset=dataset)
        if inputs:
            client.log_inputs(child_id, inputs)
    for child_id in children:
        client.set_terminated(child_id, end_time=end_time)


def log_search_results(
    search: Any,
    run_id: str,
    max_tuning_runs: int | None,
    dataset: Dataset | None,
    format_params: Any,
    *,
    model_id: str | None = None,
    best: BestEstimator | None = None,
) -> None:
    """What a fitted search adds to its run (besides the model and the training metrics)."""
    if hasattr(search, "best_score_"):
        log_linked_metrics(
            run_id, {"best_cv_score": search.best_score_}, model_id=model_id, dataset=dataset
        )
    if hasattr(search, "best_params_"):
        _fluent.log_params(format_params(best_params(search)), run_id=run_id)
    if not hasattr(search, "cv_results_"):
        return
    try:
        create_child_runs(search, run_id, max_tuning_runs, dataset, format_params, best)
    except Exception as exc:
        log_warning(
            INTEGRATION,
            "Encountered exception during creation of child runs for parameter search. "
            f"Child runs may be missing. Exception: {exc}",
        )
    try:
        with tempfile.TemporaryDirectory(prefix="mltrail-cv-results-") as tmp:
            path = os.path.join(tmp, "cv_results.csv")
            pd.DataFrame.from_dict(search.cv_results_).to_csv(path, index=False)
            _fluent.log_artifact(path, run_id=run_id)
    except Exception as exc:
        log_warning(
            INTEGRATION, f"Failed to log parameter search results as an artifact. Exception: {exc}"
        )
