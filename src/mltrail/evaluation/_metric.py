"""Metric definitions for ``evaluate``'s ``extra_metrics``: MLflow's ``MetricValue``,
``EvaluationMetric`` and ``make_metric``.

An ``eval_fn`` takes its arguments by name (``predictions``, ``targets``, ``metrics``, a
feature column, an ``evaluator_config`` key or another metric's name) and returns a number or
a :class:`MetricValue`.  Only the standard library is imported here; NumPy is loaded when a
``MetricValue`` with per-row scores computes its aggregates.
"""

from __future__ import annotations

import keyword
import logging
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import FunctionType
from typing import Any

from mltrail._exceptions import InvalidArgument

__all__ = ["EvaluationMetric", "MetricValue", "make_metric", "standard_aggregations"]

_logger = logging.getLogger("mltrail")

#: Argument names ``evaluate`` fills itself (a metric of one of these names cannot be another
#: metric's argument).
SPECIAL_ARGUMENTS = ("predictions", "targets", "metrics")


def is_number(value: Any) -> bool:
    """A real number (bools count, as in MLflow: ``True`` is an ``int``)."""
    return isinstance(value, numbers.Real)


def standard_aggregations(scores: list[Any]) -> dict[str, float]:
    """``mean``, ``variance`` (population) and ``p90`` (linear interpolation) of *scores*."""
    import numpy as np

    values = np.asarray(scores, dtype=float)
    return {
        "mean": float(np.mean(values)),
        "variance": float(np.var(values)),
        "p90": float(np.percentile(values, 90)),
    }


@dataclass
class MetricValue:
    """A metric's result: per-row ``scores`` and ``justifications``, and ``aggregate_results``
    (name to value).  Numeric scores without aggregates get the standard ones (mean, variance,
    p90), as MLflow's do."""

    scores: list[Any] | None = None
    justifications: list[str] | None = None
    aggregate_results: dict[str, float] | None = None

    def __post_init__(self) -> None:
        if (
            self.aggregate_results is None
            and isinstance(self.scores, (list, tuple))
            and all(is_number(score) for score in self.scores)
            and len(self.scores) > 0
        ):
            self.aggregate_results = standard_aggregations(list(self.scores))


class EvaluationMetric:
    """A metric computed by ``evaluate`` from its ``eval_fn`` (see :func:`make_metric`)."""

    def __init__(
        self,
        eval_fn: Callable[..., Any],
        name: str,
        greater_is_better: bool,
        long_name: str | None = None,
        version: str | None = None,
        metric_details: str | None = None,
        metric_metadata: dict[str, Any] | None = None,
        genai_metric_args: dict[str, Any] | None = None,
    ) -> None:
        self.eval_fn = eval_fn
        self.name = name
        self.greater_is_better = greater_is_better
        self.long_name = long_name or name
        self.version = version
        self.metric_details = metric_details
        self.metric_metadata = metric_metadata
        self.genai_metric_args = genai_metric_args

    def __call__(self, **kwargs: Any) -> Any:
        """Call ``eval_fn`` with keyword arguments (MLflow's callable metrics)."""
        return self.eval_fn(**kwargs)

    def __str__(self) -> str:
        parts = [f"name={self.name}, greater_is_better={self.greater_is_better}"]
        if self.long_name:
            parts.append(f"long_name={self.long_name}")
        if self.version:
            parts.append(f"version={self.version}")
        if self.metric_details:
            parts.append(f"metric_details={self.metric_details}")
        if self.metric_metadata:
            parts.append(f"metric_metadata={self.metric_metadata}")
        return "EvaluationMetric(" + ", ".join(parts) + ")"

    __repr__ = __str__


def make_metric(
    *,
    eval_fn: Callable[..., Any],
    greater_is_better: bool,
    name: str | None = None,
    long_name: str | None = None,
    version: str | None = None,
    metric_details: str | None = None,
    metric_metadata: dict[str, Any] | None = None,
    genai_metric_args: dict[str, Any] | None = None,
) -> EvaluationMetric:
    """An :class:`EvaluationMetric` for ``evaluate(..., extra_metrics=[...])``.

    *name* defaults to ``eval_fn.__name__`` and is required for a lambda.  A name containing
    ``/`` is refused (``name/agg`` is how aggregates are logged).
    """
    if not callable(eval_fn):
        raise InvalidArgument(
            f"Invalid eval_fn of type {type(eval_fn).__name__}: make_metric needs a function"
        )
    if not isinstance(greater_is_better, bool):
        raise InvalidArgument(
            f"Invalid greater_is_better {greater_is_better!r}: must be True or False"
        )
    if name is None:
        if isinstance(eval_fn, FunctionType) and eval_fn.__name__ == "<lambda>":
            raise InvalidArgument("`name` must be specified if `eval_fn` is a lambda function.")
        if not hasattr(eval_fn, "__name__"):
            raise InvalidArgument(
                "`name` must be specified if `eval_fn` does not have a `__name__` attribute."
            )
        name = str(eval_fn.__name__)
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"Invalid metric name {name!r}: must be a non-empty string")
    if "/" in name:
        raise InvalidArgument(
            f"Invalid metric name '{name}'. Metric names cannot include forward slashes ('/')."
        )
    if not name.isidentifier() or keyword.iskeyword(name) or name in SPECIAL_ARGUMENTS:
        _logger.warning(
            "The metric name %r cannot be used as an argument name of another metric's eval_fn "
            "(not an identifier, a keyword, or one of predictions/targets/metrics)",
            name,
        )
    return EvaluationMetric(
        eval_fn=eval_fn,
        name=name,
        greater_is_better=greater_is_better,
        long_name=long_name,
        version=version,
        metric_details=metric_details,
        metric_metadata=metric_metadata,
        genai_metric_args=genai_metric_args,
    )


def checked_value(metric: EvaluationMetric, index: int, value: Any) -> MetricValue | None:
    """*value* returned by *metric*'s eval_fn as a :class:`MetricValue`, or None (with a
    warning, as MLflow skips it) when it is None or of the wrong shape."""
    header = f"Did not log metric '{metric.name}' at index {index} in the `extra_metrics` parameter"
    if value is None:
        _logger.warning("%s because it returned None.", header)
        return None
    if is_number(value):
        return MetricValue(aggregate_results={metric.name: value})
    if not isinstance(value, MetricValue):
        _logger.warning("%s because it did not return a MetricValue or a number.", header)
        return None
    scores: Any = value.scores
    if scores is not None and (
        not isinstance(scores, list)
        or any(not (is_number(s) or isinstance(s, str) or s is None) for s in scores)
    ):
        _logger.warning("%s because its scores are not a list of numbers or strings.", header)
        return None
    justifications: Any = value.justifications
    if justifications is not None and (
        not isinstance(justifications, list)
        or any(not (isinstance(j, str) or j is None) for j in justifications)
    ):
        _logger.warning("%s because its justifications are not a list of strings.", header)
        return None
    aggregates: Any = value.aggregate_results
    if aggregates is not None and (
        not isinstance(aggregates, Mapping)
        or any(
            not (isinstance(k, str) and (v is None or is_number(v))) for k, v in aggregates.items()
        )
    ):
        _logger.warning(
            "%s because its aggregate_results are not a dict of names to numbers.", header
        )
        return None
    return value
