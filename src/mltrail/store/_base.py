"""Store interfaces, one per aggregate: experiments, runs, metrics.

Every backend (the SQL store, the REST store) implements all three as parts of its
:class:`~mltrail.store.Backend`; the conformance suite in ``tests/store`` runs against each.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Generic, TypeVar

from mltrail._exceptions import NotFound
from mltrail.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    ExperimentTag,
    Metric,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)
from mltrail.store._sample import sampled_metrics
from mltrail.store._series import MetricSeries, reduce_series, validate_series_request
from mltrail.store._visibility import Visibility

__all__ = [
    "MAX_DATASET_SUMMARIES",
    "ExperimentStore",
    "MetricSeries",
    "MetricStore",
    "PagedList",
    "RunStore",
    "series_from_histories",
]

T = TypeVar("T")
#: The most dataset summaries a search returns (MLflow's limit).
MAX_DATASET_SUMMARIES = 1000


class PagedList(list[T], Generic[T]):
    """A page of results; ``token`` fetches the next page (None on the last one)."""

    def __init__(self, items: Iterable[T], token: str | None) -> None:
        super().__init__(items)
        self.token = token


class ExperimentStore(abc.ABC):
    """Experiments and their tags."""

    @abc.abstractmethod
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] | None = None,
    ) -> str:
        """Create an experiment and return its id; AlreadyExists when the name is taken."""

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """NotFound when there is no such experiment (deleted ones are returned)."""

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...

    @abc.abstractmethod
    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[Experiment]:
        """*visible* (experiment ids) keeps only the experiments the caller may read, inside
        the query: pages stay full and tokens continue (None: no constraint)."""

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete the experiment and its runs."""

    @abc.abstractmethod
    def restore_experiment(self, experiment_id: str) -> None: ...

    @abc.abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...

    @abc.abstractmethod
    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None: ...

    @abc.abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...

    @abc.abstractmethod
    def deleted_experiments(self, older_than_ms: int | None = None) -> list[Experiment]:
        """Soft-deleted experiments, deleted before *older_than_ms* (ms since epoch) if given."""

    @abc.abstractmethod
    def hard_delete_experiment(self, experiment_id: str) -> None:
        """Remove an experiment's rows and its runs' for good (NotImplementedYet where a
        backend refuses permanent deletion)."""


class RunStore(abc.ABC):
    """Runs: their info, params, tags, datasets; search."""

    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag],
        run_name: str | None,
        run_id: str | None = None,
    ) -> Run:
        """Create a RUNNING run; *run_id* lets a client choose the id (32 hex chars)."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run: ...

    @abc.abstractmethod
    def update_run_info(
        self,
        run_id: str,
        run_status: int | str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo: ...

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def restore_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Store all of it in one transaction or none of it."""

    @abc.abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None: ...

    @abc.abstractmethod
    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None: ...

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str] | None,
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[Run]:
        """*experiment_ids* None searches every experiment.  *visible* (experiment ids)
        keeps only the runs of experiments the caller may read, inside the query, with or
        without *experiment_ids* (None: no constraint)."""

    @abc.abstractmethod
    def search_dataset_summaries(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        """The distinct (dataset, context) pairs the runs of *experiment_ids* logged as inputs,
        at most :data:`MAX_DATASET_SUMMARIES` of them (MLflow's UI lists them as filters)."""

    @abc.abstractmethod
    def move_runs(self, run_ids: Sequence[str], experiment_id: str) -> None:
        """Move runs to another experiment (their artifacts stay where they are)."""

    @abc.abstractmethod
    def deleted_runs(self, older_than_ms: int | None = None) -> list[RunInfo]:
        """Soft-deleted runs, deleted before *older_than_ms* (ms since epoch) if given."""

    @abc.abstractmethod
    def hard_delete_run(self, run_id: str) -> None: ...

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, metrics=[metric])

    def log_param(self, run_id: str, param: Param) -> None:
        self.log_batch(run_id, params=[param])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.log_batch(run_id, tags=[tag])


class MetricStore(abc.ABC):
    """Metric series."""

    @abc.abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """Every point of one series in logging order; paged when *max_results* is given."""

    @abc.abstractmethod
    def get_metric_series(
        self,
        run_ids: Sequence[str],
        metric_keys: Sequence[str],
        max_buckets: int = 1000,
        start_step: int | None = None,
        end_step: int | None = None,
        *,
        timestamps: bool = True,
    ) -> list[MetricSeries]:
        """Series of many runs x keys, each reduced to at most *max_buckets* buckets.

        Within the optional step range ``[start_step, end_step]``, a series with more points
        than *max_buckets* is split into buckets of equal step width, each giving its last
        point and its min and max; a shorter one comes back exactly (see
        :func:`mltrail.store._series.reduce_series`).  One entry per run and key with points
        in the range, runs in the order given, then keys in the order given; ``NotFound`` for
        an unknown run.  With ``timestamps=False`` (a chart on a step axis) every series'
        ``timestamps`` is empty, and a backend may skip reading them.
        """

    def sample_metric_history(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """MLflow's ``get-history-bulk-interval`` sample of one metric of several runs: per run
        in the order given (a run given twice comes twice; an unknown run or one without the
        metric gives nothing), at most *max_results* points picked as MLflow picks them (see
        :mod:`mltrail.store._sample`), each with its ``run_id``.  Here from whole histories;
        the SQL store reads its stored chunks in one query instead."""
        picked: dict[str, list[Metric]] = {}
        for run_id in dict.fromkeys(run_ids):
            try:
                points = self.get_metric_history(run_id, metric_key)
            except NotFound:
                points = PagedList([], None)
            picked[run_id] = sampled_metrics(
                run_id,
                metric_key,
                [p.step for p in points],
                [p.timestamp for p in points],
                [p.value for p in points],
                max_results,
                start_step,
                end_step,
            )
        return [m for run_id in run_ids for m in picked[run_id]]


def series_from_histories(
    metrics: MetricStore,
    run_ids: Sequence[str],
    metric_keys: Sequence[str],
    max_buckets: int,
    start_step: int | None,
    end_step: int | None,
    timestamps: bool,
) -> list[MetricSeries]:
    """:meth:`MetricStore.get_metric_series` from whole histories, for a backend without a
    reader of its own (the SQL store reads stored chunks in one query instead)."""
    buckets, start, end = validate_series_request(max_buckets, start_step, end_step)
    out: list[MetricSeries] = []
    for run_id in dict.fromkeys(run_ids):
        for key in dict.fromkeys(metric_keys):
            points = metrics.get_metric_history(run_id, key)
            series = reduce_series(
                run_id,
                key,
                [p.step for p in points],
                [p.timestamp for p in points],
                [p.value for p in points],
                buckets,
                start,
                end,
            )
            if series.count:
                out.append(series if timestamps else replace(series, timestamps=[]))
    return out
