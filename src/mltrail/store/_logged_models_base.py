"""The store interface of MLflow 3's logged models (``models:/<model_id>``).

The ``logged_models`` part of every backend (the SQL and REST ones); the conformance suite in
``tests/store/test_logged_models.py`` runs against each.  A tracking server refuses permanent
deletion (``NotImplementedYet``), which works on the database only.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail.entities._logged_model import (
    LoggedModel,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
)
from mltrail.store._base import PagedList
from mltrail.store._visibility import LoggedModelVisibility

__all__ = ["MAX_LOGGED_MODELS_RESULTS", "LoggedModelStore", "OrderBy"]

#: The largest page of a logged-model search (MLflow's default page is 100).
MAX_LOGGED_MODELS_RESULTS = 1000
#: An ``order_by`` item as MLflow's client sends it: ``{"field_name": "metrics.acc",
#: "ascending": False, "dataset_name": ..., "dataset_digest": ...}``; a plain string
#: ``"<field> [ASC|DESC]"`` is accepted too.
OrderBy = Mapping[str, Any] | str


class LoggedModelStore(abc.ABC):
    """Logged models, their params, tags and metrics, and the runs that made or used them."""

    @abc.abstractmethod
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """A PENDING model with a new ``m-<hex>`` id (a random readable name if none)."""

    @abc.abstractmethod
    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """NotFound for an unknown (or, unless *allow_deleted*, deleted) model."""

    @abc.abstractmethod
    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        """Set the status (READY or FAILED; PENDING again is allowed, as in MLflow)."""

    @abc.abstractmethod
    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete: the model disappears from get and search."""

    @abc.abstractmethod
    def deleted_logged_models(self, older_than_ms: int | None = None) -> list[LoggedModel]:
        """Soft-deleted models, deleted before *older_than_ms* (ms since epoch) if given."""

    @abc.abstractmethod
    def hard_delete_logged_model(self, model_id: str) -> None:
        """Remove a soft-deleted model's rows for good (InvalidArgument for an active one);
        its artifacts are the caller's to remove."""

    @abc.abstractmethod
    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None: ...

    @abc.abstractmethod
    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """NotFound when the model has no such tag."""

    @abc.abstractmethod
    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        """Params are immutable: the same value again is fine, another one is an error."""

    @abc.abstractmethod
    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int = 100,
        order_by: Sequence[OrderBy] | None = None,
        page_token: str | None = None,
        *,
        visible: LoggedModelVisibility | None = None,
    ) -> PagedList[LoggedModel]:
        """Active models of the experiments matching *filter_string*.

        *visible* keeps only the models the caller may read (a model follows its experiment
        unless it has a grant of its own: see :class:`~mltrail.store.LoggedModelVisibility`),
        inside the query: pages stay full and tokens continue (None: no constraint).

        Filters use the search grammar on ``name``, ``model_id``, ``status``,
        ``source_run_id``, ``model_type``, ``creation_timestamp`` (alias ``creation_time``),
        ``last_updated_timestamp``, ``params.*``, ``tags.*`` and ``metrics.*`` (a model
        matches when one of its values of that metric does; ``min(...)``/``max(...)`` compare
        the smallest or largest).  *datasets* (``dataset_name``, optional ``dataset_digest``)
        restricts metric conditions, and without any, keeps models with metrics on one of
        them.  Default order: newest first.
        """

    @abc.abstractmethod
    def log_model_metrics(self, run_id: str, metrics: Sequence[LoggedModelMetric]) -> None:
        """Log points of *run_id* linked to their ``model_id``.

        Each point is added to the run's series unless an identical point (key, value,
        timestamp, step) is already there (MLflow's clients send a run's points again with a
        model id when they log a model), and linked to its model.
        """

    @abc.abstractmethod
    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record that the run produced these models."""

    @abc.abstractmethod
    def log_model_inputs(self, run_id: str, models: Sequence[LoggedModelInput]) -> None:
        """Record that the run used these models."""
