"""The default evaluator's plots, rendered to PNG bytes with Pillow (the ``plots`` extra).

Each plot is a :class:`~mltrail.evaluation._chart.Chart` (600 x 400 pixels).  Curves of many
points are thinned to at most :data:`MAX_POINTS` points before drawing (far below a pixel's
difference at the figure's width), so a million-row evaluation draws as fast as a small one.
File names, titles, labels and legends are MLflow's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mltrail._optional import require
from mltrail.evaluation._chart import Chart, Heatmap
from mltrail.evaluation._metrics import MAX_POINTS, ClassifierOutcome, Curve

__all__ = ["DPI", "MAX_POINTS", "classifier_plots", "has_pillow"]

#: Resolution of the PNG files (MLflow draws at 175 dpi; 6 x 4 inches at 100 dpi is 600 x 400).
DPI = 100
_DASH = (3.7, 1.6)  # matplotlib's "dashed", in line widths
_DOTS = (1.0, 1.65)  # matplotlib's "dotted"
_GRAY = "#b3b3b3"


def has_pillow() -> None:
    """Raise :class:`~mltrail.MissingDependency` (naming the ``plots`` extra) without it."""
    require("PIL")


def _thin(x: Any, y: Any) -> tuple[Any, Any]:
    import numpy as np

    if len(x) <= MAX_POINTS:
        return x, y
    keep = np.unique(np.linspace(0, len(x) - 1, MAX_POINTS).astype(np.intp))
    return x[keep], y[keep]


def _positive(label: Any) -> str:
    return f" (Positive label: {label})" if label not in (None, "", 0, False) else ""


def _curves(
    outcome: ClassifierOutcome, curves: list[tuple[Any, Curve]], kind: str, pos_label: Any
) -> bytes:
    chart = Chart(right=0.97 if outcome.binary else 0.68)
    for label, curve in curves:
        x, y = _thin(curve.x, curve.y)
        score = "AUC" if kind == "roc" else "AP"
        name = (
            f"{score}={curve.auc:.3f}"
            if outcome.binary
            else f"label={label},{score}={curve.auc:.3f}"
        )
        chart.line(x, y, label=name, step=True, width=1.0)
    if kind == "roc":
        chart.line([0, 1], [0, 1], color=_GRAY, dash=_DASH)
        chart.xlabel = f"False Positive Rate{_positive(pos_label)}"
        chart.ylabel = f"True Positive Rate{_positive(pos_label)}"
        chart.title = "ROC curve"
    else:
        chart.line([0, 1], [1, 0], color=_GRAY, dash=_DASH)
        chart.xlabel = f"Recall{_positive(pos_label)}"
        chart.ylabel = f"Precision{_positive(pos_label)}"
        chart.title = "Precision recall curve"
    if outcome.binary:  # where the curve is not
        chart.legend = "lower right" if kind == "roc" else "lower left"
    else:
        chart.legend = "right"
    return _small_text(chart).png()


def _small_text(chart: Chart) -> Chart:
    """The sizes the plots share (matplotlib's at a base font size of 8 points)."""
    chart.title_size, chart.label_size, chart.tick_size = 9.6, 8.0, 8.0
    return chart


def _lift_columns(outcome: ClassifierOutcome, probabilities: Any) -> list[tuple[Any, Any]]:
    """(share of rows, lift) per class in sorted label order, rows ranked by that class's
    probability."""
    import numpy as np

    lift = outcome.lift
    if lift is not None:
        pairs = {outcome.pos_index: lift.positive, 1 - outcome.pos_index: lift.negative}
        return [(lift.share, pairs[column]) for column in (0, 1)]
    assert outcome.target_index is not None
    n = outcome.target_index.size
    share = np.arange(1, n + 1) / n
    out = []
    for column in (0, 1):
        hits = outcome.target_index == column
        order = np.argsort(probabilities[:, column])[::-1]
        gains = np.cumsum(hits[order]) / hits.sum()
        out.append(_thin(share, gains / share))
    return out


def _lift(outcome: ClassifierOutcome, probabilities: Any) -> bytes:
    chart = _small_text(Chart(grid=True, legend="upper right"))
    for column, (x, y) in enumerate(_lift_columns(outcome, probabilities)):
        label = outcome.sorted_labels[column]
        positive = " (positive)" if column == outcome.pos_index else ""
        chart.line(x, y, width=3.0, label=f"Class {label}{positive}")
    chart.line([0, 1], [1, 1], color="#000000", dash=_DASH, width=2.0, label="Baseline")
    chart.xlabel, chart.ylabel, chart.title = "Percentage of sample", "Lift", "Lift Curve"
    return chart.png()


def _calibration_points(hits: Any, probability: Any, bins: int) -> tuple[Any, Any]:
    """(mean predicted probability, fraction of positives) of each non-empty uniform bin."""
    import numpy as np

    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.searchsorted(edges[1:-1], probability)
    totals = np.bincount(index, minlength=bins)
    sums = np.bincount(index, weights=probability, minlength=bins)
    trues = np.bincount(index, weights=hits.astype(np.float64), minlength=bins)
    filled = totals > 0
    return sums[filled] / totals[filled], trues[filled] / totals[filled]


def _calibration(outcome: ClassifierOutcome, probabilities: Any, config: dict[str, Any]) -> bytes:
    assert outcome.target_index is not None
    bins = int(config.get("calibration_n_bins", 10))
    name = config.get("calibration_classifier_name")
    # multiclass: the legend goes below the axes, in rows of up to four entries
    columns = min(len(outcome.labels) + 1, 4)
    rows = math.ceil((len(outcome.labels) + 1) / columns)
    chart = _small_text(Chart(bottom=0.12 if outcome.binary else min(0.6, 0.24 + 0.05 * rows)))
    if outcome.binary:
        column = outcome.pos_index
        label = outcome.sorted_labels[column]
        x, y = _calibration_points(outcome.target_index == column, probabilities[:, column], bins)
        chart.line([0, 1], [0, 1], color="#000000", dash=_DOTS, label="Perfectly calibrated")
        chart.line(x, y, marker="s", label=name or "Classifier")
        chart.xlabel = f"Mean predicted probability (Positive class: {label})"
        chart.ylabel = f"Fraction of positives (Positive class: {label})"
        chart.legend = "lower right"
    else:
        for column, label in enumerate(outcome.sorted_labels):
            x, y = _calibration_points(
                outcome.target_index == column, probabilities[:, column], bins
            )
            chart.line(x, y, marker="o", marker_size=3.0, label=f"Class {label}")
        chart.line([0, 1], [0, 1], color="#000000", dash=_DOTS, label="Perfect Calibration")
        chart.legend, chart.legend_columns = "below", columns
        chart.title = f"{name or 'Classifier'} Calibration"
        chart.title_size, chart.label_size = 12.0, 10.0
        chart.xlabel, chart.ylabel = "Mean Predicted Probability", "Fraction of True Positives"
    return chart.png()


def _confusion_matrix(outcome: ClassifierOutcome) -> bytes:
    k = len(outcome.labels)
    size = min(8, math.ceil(50.0 / k))
    chart = Chart(right=1.0, title="Normalized confusion matrix", title_size=size * 1.2)
    chart.xlabel, chart.ylabel = "Predicted label", "True label"
    chart.label_size, chart.tick_size = 8.0, float(size)
    chart.heatmap = Heatmap(outcome.confusion, [str(label) for label in outcome.labels], size)
    return chart.png()


def classifier_plots(
    outcome: ClassifierOutcome, probabilities: Any, config: dict[str, Any], pos_label: Any
) -> dict[str, bytes]:
    """MLflow's classifier plots, by artifact name (without extension), in MLflow's order."""

    plots: list[tuple[str, Callable[[], bytes]]] = []
    if outcome.binary:
        if probabilities is not None and outcome.roc:
            plots.append(
                ("roc_curve_plot", lambda: _curves(outcome, outcome.roc, "roc", pos_label))
            )
            plots.append(
                (
                    "precision_recall_curve_plot",
                    lambda: _curves(outcome, outcome.pr, "pr", pos_label),
                )
            )
            if not outcome.single_class:
                plots.append(("lift_curve_plot", lambda: _lift(outcome, probabilities)))
            plots.append(
                ("calibration_curve_plot", lambda: _calibration(outcome, probabilities, config))
            )
    elif probabilities is not None:
        plots.append(
            ("calibration_curve_plot", lambda: _calibration(outcome, probabilities, config))
        )
        if outcome.roc:
            plots.append(("roc_curve_plot", lambda: _curves(outcome, outcome.roc, "roc", None)))
            plots.append(
                ("precision_recall_curve_plot", lambda: _curves(outcome, outcome.pr, "pr", None))
            )
    plots.append(("confusion_matrix", lambda: _confusion_matrix(outcome)))
    return {name: draw() for name, draw in plots}
