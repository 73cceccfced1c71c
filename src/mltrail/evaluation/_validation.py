"""Model validation: :class:`MetricThreshold` and :func:`validate_evaluation_results`.

A candidate's metric passes a threshold when it is at least (greater is better) or at most
(lower is better) the threshold value, and passes a comparison with a baseline when it beats
the baseline's value by ``min_absolute_change`` and by ``min_relative_change`` times the
baseline's magnitude (a baseline of 0 asks only for a better value, by 1e-10).  Every failed
check is listed in one :class:`ModelValidationFailedException`, one line per metric, in
MLflow's wording; checks that passed are not mentioned.
"""

from __future__ import annotations

import logging
import operator
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mltrail._exceptions import InvalidArgument, ModelValidationFailedException
from mltrail.evaluation._result import EvaluationResult

__all__ = [
    "MetricThreshold",
    "ModelValidationFailedException",
    "check_thresholds",
    "validate_evaluation_results",
]

_logger = logging.getLogger("mltrail")


def _refuse(rule: str) -> InvalidArgument:
    return InvalidArgument(f"Could not instantiate MetricThreshold class: {rule}")


class MetricThreshold:
    """Thresholds for one metric: an absolute ``threshold``, and a ``min_absolute_change``
    and ``min_relative_change`` (between 0 and 1) over a baseline; ``greater_is_better`` is
    required."""

    def __init__(
        self,
        threshold: float | None = None,
        min_absolute_change: float | None = None,
        min_relative_change: float | None = None,
        greater_is_better: bool | None = None,
    ) -> None:
        if threshold is not None and type(threshold) not in (int, float):
            raise _refuse("`threshold` parameter must be a number.")
        if min_absolute_change is not None and (
            type(min_absolute_change) not in (int, float) or min_absolute_change <= 0
        ):
            raise _refuse("`min_absolute_change` parameter must be a positive number.")
        if min_relative_change is not None:
            if not isinstance(min_relative_change, float):
                raise _refuse("`min_relative_change` parameter must be a floating point number.")
            if not 0 <= min_relative_change <= 1:
                raise _refuse("`min_relative_change` parameter must be between 0 and 1.")
        if greater_is_better is None:
            raise _refuse("`greater_is_better` parameter must be defined.")
        if not isinstance(greater_is_better, bool):
            raise _refuse("`greater_is_better` parameter must be a boolean.")
        if threshold is None and min_absolute_change is None and min_relative_change is None:
            raise _refuse("no threshold was specified.")
        self._threshold = threshold
        self._min_absolute_change = min_absolute_change
        self._min_relative_change = min_relative_change
        self._greater_is_better = greater_is_better

    @property
    def threshold(self) -> float | None:
        return self._threshold

    @property
    def min_absolute_change(self) -> float | None:
        return self._min_absolute_change

    @property
    def min_relative_change(self) -> float | None:
        return self._min_relative_change

    @property
    def greater_is_better(self) -> bool:
        return self._greater_is_better

    def __str__(self) -> str:
        parts = []
        if self._threshold is not None:
            parts.append(f"Threshold: {self._threshold}.")
        if self._min_absolute_change is not None:
            parts.append(f"Minimum Absolute Change: {self._min_absolute_change}.")
        if self._min_relative_change is not None:
            parts.append(f"Minimum Relative Change: {self._min_relative_change}.")
        parts.append(
            "Greater value is better." if self._greater_is_better else "Lower value is better."
        )
        return " ".join(parts)


@dataclass
class _Check:
    """The outcome of one metric's checks."""

    name: str
    threshold: MetricThreshold
    candidate: Any = None
    baseline: Any = None
    missing_candidate: bool = False
    missing_baseline: bool = False
    threshold_failed: bool = False
    absolute_failed: bool = False
    relative_failed: bool = False

    @property
    def passed(self) -> bool:
        return not (
            self.missing_candidate
            or self.missing_baseline
            or self.threshold_failed
            or self.absolute_failed
            or self.relative_failed
        )

    def message(self) -> str:
        n = self.name
        if self.missing_candidate:
            return (
                f"Metric validation failed: metric {n} was missing from the evaluation result "
                "of the candidate model."
            )
        lines = []
        if self.threshold_failed:
            lines.append(
                f"Metric {n} value threshold check failed: candidate model {n} = "
                f"{self.candidate}, {n} threshold = {self.threshold.threshold}."
            )
        if self.missing_baseline:
            lines.append(
                f"Model comparison failed: metric {n} was missing from the evaluation result "
                "of the baseline model."
            )
        else:
            compared = (
                f"candidate model {n} = {self.candidate}, baseline model {n} = {self.baseline}"
            )
            if self.absolute_failed:
                lines.append(
                    f"Metric {n} minimum absolute change check failed: {compared}, {n} minimum "
                    f"absolute change threshold = {self.threshold.min_absolute_change}."
                )
            if self.relative_failed:
                lines.append(
                    f"Metric {n} minimum relative change check failed: {compared}, {n} minimum "
                    f"relative change threshold = {self.threshold.min_relative_change}."
                )
        return " ".join(lines)


def _check(
    name: str, threshold: MetricThreshold, candidate: dict[str, Any], baseline: dict[str, Any]
) -> _Check:
    result = _Check(name, threshold, candidate.get(name), baseline.get(name))
    if name not in candidate:
        result.missing_candidate = True
        return result
    value = candidate[name]
    better_or_equal: Callable[[Any, Any], bool] = (
        operator.ge if threshold.greater_is_better else operator.le
    )
    towards_better: Callable[[Any, Any], Any] = (
        operator.add if threshold.greater_is_better else operator.sub
    )
    if threshold.threshold is not None:
        result.threshold_failed = not better_or_equal(value, threshold.threshold)
    if threshold.min_absolute_change is None and threshold.min_relative_change is None:
        return result
    if name not in baseline:
        result.missing_baseline = True
        return result
    base = baseline[name]
    if threshold.min_absolute_change is not None:
        wanted = towards_better(base, threshold.min_absolute_change)
        result.absolute_failed = not better_or_equal(Decimal(value), Decimal(wanted))
    if threshold.min_relative_change is not None:
        if base == 0:
            _logger.warning(
                "Cannot compare metric %s relative to a baseline value of 0: checking only that "
                "the candidate's value is better than the baseline's",
                name,
            )
            wanted = towards_better(base, 1e-10)
            result.relative_failed = not better_or_equal(Decimal(value), Decimal(wanted))
        else:
            change = (value - base) if threshold.greater_is_better else (base - value)
            result.relative_failed = change / abs(base) < threshold.min_relative_change
    return result


def check_thresholds(validation_thresholds: Any) -> None:
    """Refuse anything but a dict of metric names to :class:`MetricThreshold`."""
    if type(validation_thresholds) is not dict or not all(
        type(k) is str and isinstance(v, MetricThreshold) for k, v in validation_thresholds.items()
    ):
        raise InvalidArgument(
            "The validation thresholds argument must be a dictionary that maps strings to "
            "MetricThreshold objects."
        )


def validate_evaluation_results(
    validation_thresholds: dict[str, MetricThreshold],
    candidate_result: EvaluationResult,
    baseline_result: EvaluationResult | None = None,
) -> None:
    """Check *candidate_result*'s metrics against *validation_thresholds* (metric name to
    :class:`MetricThreshold`) and, for the change thresholds, against *baseline_result*.

    Raises :class:`ModelValidationFailedException` listing every failed check.
    """
    check_thresholds(validation_thresholds)
    for argument, result in (
        ("candidate_result", candidate_result),
        ("baseline_result", baseline_result),
    ):
        if result is not None and not isinstance(result, EvaluationResult):
            raise InvalidArgument(
                f"Invalid {argument} of type {type(result).__name__}: expected the "
                "EvaluationResult that evaluate() returned"
            )
    candidate = dict(candidate_result.metrics)
    baseline = dict(baseline_result.metrics) if baseline_result is not None else {}
    checks = [_check(name, t, candidate, baseline) for name, t in validation_thresholds.items()]
    failures = [check.message() for check in checks if not check.passed]
    if failures:
        raise ModelValidationFailedException(os.linesep.join(failures))
    _logger.info("Model validation passed")
