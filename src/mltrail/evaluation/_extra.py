"""``extra_metrics``: calling each metric's ``eval_fn`` with the arguments it names.

An argument named ``predictions`` gets the predictions (a pandas Series), ``targets`` the
targets, ``metrics`` the metrics computed so far (name to :class:`MetricValue`); any other
name is looked up, in order, in ``evaluator_config['col_mapping']``, the feature columns, the
``evaluator_config`` keys and the metrics already computed (so one extra metric may use
another, in any order).  A function of two arguments not so named gets MLflow's older form:
a DataFrame with ``prediction`` and ``target`` columns and a dict of the metric values.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import InvalidArgument
from mltrail.evaluation._metric import EvaluationMetric, MetricValue, checked_value

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["aggregate", "check_extra_metrics", "compute_extra_metrics"]

_MISSING = object()


def check_extra_metrics(extra_metrics: Any) -> list[EvaluationMetric]:
    """*extra_metrics* as a list; an error lists each item that is not a metric."""
    if extra_metrics is None:
        return []
    if isinstance(extra_metrics, EvaluationMetric) or not isinstance(extra_metrics, (list, tuple)):
        raise InvalidArgument(
            "Invalid extra_metrics: expected a list of metrics made by "
            "mltrail.models.make_metric(eval_fn=..., greater_is_better=...)"
        )
    wrong = [m for m in extra_metrics if not isinstance(m, EvaluationMetric)]
    if wrong:
        listed = "\n".join(f"- Metric '{m}' has type '{type(m).__name__}'" for m in wrong)
        raise InvalidArgument(
            "In the 'extra_metrics' parameter, the following metrics have the wrong type:\n"
            f"{listed}\nPlease ensure that all extra metrics are made by "
            "mltrail.models.make_metric (EvaluationMetric instances)."
        )
    names = [m.name for m in extra_metrics]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidArgument(f"Invalid extra_metrics: the metric names {duplicates} repeat")
    return list(extra_metrics)


def aggregate(values: dict[str, MetricValue]) -> dict[str, Any]:
    """The scalar metrics of *values*: ``name`` for an aggregate named like its metric, else
    ``name/aggregate`` (``score/mean``, ...)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        results: dict[str, Any] = dict(value.aggregate_results or {})
        for key, number in results.items():
            if number is None:
                continue
            out[name if key == name.split("/")[0] else f"{name}/{key}"] = number
    return out


class _Arguments:
    def __init__(
        self,
        eval_frame: pd.DataFrame,
        features: pd.DataFrame,
        config: dict[str, Any],
        names: dict[str, str | None],
        values: dict[str, MetricValue],
    ) -> None:
        self.eval_frame = eval_frame
        self.features = features
        self.config = config
        self.mapping = dict(config.get("col_mapping") or {})
        self.names = names
        self.values = values

    def _metric(self, name: str) -> Any:
        for key, value in self.values.items():
            if key.split("/")[0] == name:
                return value
        return _MISSING

    def resolve(self, metric: EvaluationMetric) -> tuple[list[Any], list[str]]:
        """(arguments, names of the arguments that cannot be found yet)."""
        parameters = inspect.signature(metric.eval_fn).parameters
        names = list(parameters)
        frame = self.eval_frame.copy()
        if len(names) == 2 and names[0] != "predictions" and names[1] != "targets":
            return [frame, copy.deepcopy(aggregate(self.values))], []
        args: list[Any] = []
        missing: list[str] = []
        for name, parameter in parameters.items():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            column = self.mapping.get(name, name)
            found: Any = _MISSING
            if not isinstance(column, str):
                found = column
            elif column in ("predictions", self.names["predictions"]):
                found = frame["prediction"]
            elif column in ("targets", self.names["targets"]):
                if "target" in frame:
                    found = frame["target"]
            elif column == "metrics":
                found = copy.deepcopy(self.values)
            elif column in self.features.columns:
                found = self.features[column]
            elif column in self.config:
                found = self.config[column]
            else:
                found = self._metric(column)
            if found is _MISSING:
                if parameter.default is inspect.Parameter.empty:
                    missing.append(name)
                    continue
                found = parameter.default
            args.append(found)
        return args, missing


def compute_extra_metrics(
    metrics: Sequence[EvaluationMetric],
    *,
    predictions: Any,
    targets: Any,
    features: pd.DataFrame,
    config: dict[str, Any],
    names: dict[str, str | None],
    values: dict[str, MetricValue],
) -> None:
    """Compute *metrics* into *values* (name, or ``name/version``, to MetricValue)."""
    import pandas as pd

    if not metrics:
        return
    frame = pd.DataFrame({"prediction": predictions})
    if targets is not None:
        frame["target"] = targets
    arguments = _Arguments(frame, features, config, names, values)
    pending = list(enumerate(metrics))
    while pending:
        waiting: list[tuple[int, EvaluationMetric, list[str]]] = []
        for index, metric in pending:
            args, missing = arguments.resolve(metric)
            if missing:
                waiting.append((index, metric, missing))
                continue
            try:
                result = metric.eval_fn(*args)
            except Exception as exc:
                raise InvalidArgument(
                    f"Metric '{metric.name}' at index {index} in extra_metrics failed: {exc!r}"
                ) from exc
            value = checked_value(metric, index, result)
            if value is not None:
                key = f"{metric.name}/{metric.version}" if metric.version else metric.name
                values[key] = value
        if len(waiting) == len(pending):
            details = "\n".join(
                f"Metric '{metric.name}' requires the following: "
                + "; ".join(
                    f"the '{name}' parameter needs to be specified"
                    if name in ("targets", "predictions")
                    else f"missing column or metric {name!r} needs to be defined or mapped"
                    for name in missing
                )
                for _, metric, missing in waiting
            )
            raise InvalidArgument(
                "Error: Metric calculation failed for the following metrics:\n"
                f"{details}\nInput columns: {list(features.columns)}. Map a missing argument "
                "with evaluator_config={'col_mapping': {<argument>: <column>}}"
            )
        pending = [(index, metric) for index, metric, _ in waiting]
