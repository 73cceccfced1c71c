"""The default evaluator's plots, rendered to PNG bytes with matplotlib (the ``plots`` extra).

Figures are built with ``matplotlib.figure.Figure`` and the Agg renderer, not pyplot: no global
figure state, no GUI backend.  Curves of many points are thinned to at most
:data:`MAX_POINTS` points before drawing (far below a pixel's difference at the figure's
width), so a million-row evaluation draws as fast as a small one.  File names are MLflow's.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mltrail._optional import require
from mltrail.evaluation._metrics import MAX_POINTS, ClassifierOutcome, Curve

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["DPI", "MAX_POINTS", "classifier_plots", "has_matplotlib"]

#: Resolution of the PNG files (MLflow draws at 175 dpi; 6 x 4 inches at 100 dpi is 600 x 400).
DPI = 100
_SIZE = (6.0, 4.0)
_DASHED: dict[str, Any] = {"color": "gray", "alpha": 0.3, "linestyle": "dashed"}


def has_matplotlib() -> None:
    """Raise :class:`~mltrail.MissingDependency` (naming the ``plots`` extra) without it."""
    require("matplotlib")


def _thin(x: Any, y: Any) -> tuple[Any, Any]:
    import numpy as np

    if len(x) <= MAX_POINTS:
        return x, y
    keep = np.unique(np.linspace(0, len(x) - 1, MAX_POINTS).astype(np.intp))
    return x[keep], y[keep]


def _figure(right: float = 0.97, bottom: float = 0.12) -> tuple[Figure, Axes]:
    """A figure with fixed margins (a tight layout or bounding box would lay it out, or draw
    it, twice: a third of the time of a plot)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=_SIZE, dpi=DPI)
    figure.subplots_adjust(left=0.11, right=right, bottom=bottom, top=0.92)
    return figure, figure.subplots()


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # zlib level 1: a tenth larger than the default level, and faster to write.
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _positive(label: Any) -> str:
    return f" (Positive label: {label})" if label not in (None, "", 0, False) else ""


def _curves(
    outcome: ClassifierOutcome, curves: list[tuple[Any, Curve]], kind: str, pos_label: Any
) -> bytes:
    figure, ax = _figure(right=0.97 if outcome.binary else 0.68)
    for label, curve in curves:
        x, y = _thin(curve.x, curve.y)
        score = "AUC" if kind == "roc" else "AP"
        name = (
            f"{score}={curve.auc:.3f}"
            if outcome.binary
            else f"label={label},{score}={curve.auc:.3f}"
        )
        ax.plot(x, y, label=name, drawstyle="steps-post", linewidth=1)
    if kind == "roc":
        ax.plot([0, 1], [0, 1], **_DASHED)
        ax.set(
            xlabel=f"False Positive Rate{_positive(pos_label)}",
            ylabel=f"True Positive Rate{_positive(pos_label)}",
            title="ROC curve",
        )
    else:
        ax.plot([0, 1], [1, 0], **_DASHED)
        ax.set(
            xlabel=f"Recall{_positive(pos_label)}",
            ylabel=f"Precision{_positive(pos_label)}",
            title="Precision recall curve",
        )
    if outcome.binary:  # where the curve is not (a "best" place costs a search of the data)
        ax.legend(loc="lower right" if kind == "roc" else "lower left")
    else:
        ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
    return _png(figure)


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
    figure, ax = _figure()
    for column, (x, y) in enumerate(_lift_columns(outcome, probabilities)):
        label = outcome.sorted_labels[column]
        positive = " (positive)" if column == outcome.pos_index else ""
        ax.plot(x, y, lw=3, label=f"Class {label}{positive}")
    ax.plot([0, 1], [1, 1], "k--", lw=2, label="Baseline")
    ax.set(xlabel="Percentage of sample", ylabel="Lift", title="Lift Curve")
    ax.grid(True)
    ax.legend(loc="upper right")
    return _png(figure)


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
    figure, ax = _figure(bottom=0.12 if outcome.binary else min(0.6, 0.24 + 0.05 * rows))
    if outcome.binary:
        column = outcome.pos_index
        label = outcome.sorted_labels[column]
        x, y = _calibration_points(outcome.target_index == column, probabilities[:, column], bins)
        ax.plot([0, 1], [0, 1], "k:", label="Perfectly calibrated")
        ax.plot(x, y, "s-", label=name or "Classifier")
        ax.set(
            xlabel=f"Mean predicted probability (Positive class: {label})",
            ylabel=f"Fraction of positives (Positive class: {label})",
        )
        ax.legend(loc="lower right")
    else:
        for column, label in enumerate(outcome.sorted_labels):
            x, y = _calibration_points(
                outcome.target_index == column, probabilities[:, column], bins
            )
            ax.plot(x, y, marker="o", markersize=3, label=f"Class {label}")
        ax.plot([0, 1], [0, 1], linestyle="dotted", color="black", label="Perfect Calibration")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=columns)
        ax.set_title(f"{name or 'Classifier'} Calibration", fontsize=12)
        ax.set_xlabel("Mean Predicted Probability", fontsize=10)
        ax.set_ylabel("Fraction of True Positives", fontsize=10)
    return _png(figure)


def _confusion_matrix(outcome: ClassifierOutcome) -> bytes:
    from matplotlib import rc_context

    k = len(outcome.labels)
    with rc_context({"font.size": min(8, math.ceil(50.0 / k)), "axes.labelsize": 8}):
        figure, ax = _figure(right=1.0)
        matrix = outcome.confusion
        image = ax.imshow(matrix, interpolation="nearest", cmap="Blues", vmin=0.0)
        figure.colorbar(image, ax=ax)
        middle = (float(matrix.max()) + float(matrix.min())) / 2.0
        for i in range(k):
            for j in range(k):
                value = float(matrix[i, j])
                ax.text(
                    j,
                    i,
                    format(value, ".2g"),
                    ha="center",
                    va="center",
                    color="white" if value > middle else "black",
                )
        names = [str(label) for label in outcome.labels]
        ax.set(
            xticks=range(k),
            yticks=range(k),
            xticklabels=names,
            yticklabels=names,
            xlabel="Predicted label",
            ylabel="True label",
            title="Normalized confusion matrix",
        )
        return _png(figure)


def classifier_plots(
    outcome: ClassifierOutcome, probabilities: Any, config: dict[str, Any], pos_label: Any
) -> dict[str, bytes]:
    """MLflow's classifier plots, by artifact name (without extension), in MLflow's order."""
    from matplotlib import rc_context

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
    with rc_context({"font.size": 8, "figure.dpi": DPI}):
        return {name: draw() for name, draw in plots}
