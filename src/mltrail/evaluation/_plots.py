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
from mltrail.evaluation._metrics import ClassifierOutcome, Curve

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["DPI", "MAX_POINTS", "classifier_plots", "has_matplotlib"]

#: Resolution of the PNG files (MLflow draws at 175 dpi; 6 x 4 inches at 100 dpi is 600 x 400).
DPI = 100
#: The most points a curve is drawn with.
MAX_POINTS = 2000
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


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=_SIZE, dpi=DPI)
    return figure, figure.subplots()


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def _positive(label: Any) -> str:
    return f" (Positive label: {label})" if label not in (None, "", 0, False) else ""


def _curves(
    outcome: ClassifierOutcome, curves: list[tuple[Any, Curve]], kind: str, pos_label: Any
) -> bytes:
    figure, ax = _figure()
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
    if outcome.binary:
        ax.legend(loc="best")
    else:
        ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))
    return _png(figure)


def _lift(outcome: ClassifierOutcome, probabilities: Any) -> bytes:
    import numpy as np

    assert outcome.target_index is not None
    figure, ax = _figure()
    n = outcome.target_index.size
    share = np.arange(1, n + 1) / n
    for column, label in enumerate(outcome.sorted_labels):
        hits = outcome.target_index == column
        order = np.argsort(probabilities[:, column])[::-1]
        gains = np.cumsum(hits[order]) / hits.sum()
        x, y = _thin(share, gains / share)
        positive = " (positive)" if column == outcome.pos_index else ""
        ax.plot(x, y, lw=3, label=f"Class {label}{positive}")
    ax.plot([0, 1], [1, 1], "k--", lw=2, label="Baseline")
    ax.set(xlabel="Percentage of sample", ylabel="Lift", title="Lift Curve")
    ax.grid(True)
    ax.legend(loc="best")
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
    figure, ax = _figure()
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
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=max(1, len(outcome.labels) // 3)
        )
        ax.set_title(f"{name or 'Classifier'} Calibration", fontsize=12)
        ax.set_xlabel("Mean Predicted Probability", fontsize=10)
        ax.set_ylabel("Fraction of True Positives", fontsize=10)
    return _png(figure)


def _confusion_matrix(outcome: ClassifierOutcome) -> bytes:
    from matplotlib import rc_context

    k = len(outcome.labels)
    with rc_context({"font.size": min(8, math.ceil(50.0 / k)), "axes.labelsize": 8}):
        figure, ax = _figure()
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
    with rc_context({"font.size": 8, "figure.autolayout": True, "figure.dpi": DPI}):
        return {name: draw() for name, draw in plots}
