"""The classifier plots MLflow's sklearn autologging logs, drawn off the training call's path.

``{prefix}confusion_matrix.png`` (normalized over the true labels) for every classifier, and
``{prefix}roc_curve.png`` and ``{prefix}precision_recall_curve.png`` when the labels have two
classes; nothing, silently, without matplotlib.

Drawing and encoding three PNGs costs more than everything else autologging does for a small
model, so ``fit`` only computes the predictions the plots need (:func:`prepare`, a few
milliseconds) and the tracking library's background worker draws and uploads them to the
run; ``flush``, every read through the client and interpreter exit wait for them.  The
drawing never touches global state the user's own plotting sees: no pyplot figures, no
``rcParams`` changes (the fonts and resolution MLflow sets through ``rc_context`` are set on
the figure itself).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sklearn.metrics

from mltrail.tracking import _background, _fluent
from mltrail.tracking._client import MlflowClient
from mltrail.tracking.autolog._safety import log_warning

__all__ = ["PlotJob", "prepare", "submit"]

INTEGRATION = "sklearn"
DPI = 175


@dataclass
class _Plot:
    name: str
    title: str
    draw: Callable[[Any], Any]  # ax -> display


@dataclass
class PlotJob:
    client: MlflowClient
    run_id: str
    n_labels: int
    plots: list[_Plot] = field(default_factory=list)


def prepare(
    run_id: str, estimator: Any, prefix: str, X: Any, y: Any, sample_weight: Any
) -> PlotJob | None:
    """The plots of *estimator* on (X, y), with the predictions they need computed now."""
    if importlib.util.find_spec("matplotlib") is None:
        return None
    labels = getattr(estimator, "classes_", None)
    n_labels = len(labels) if labels is not None else len(set(y))
    job = PlotJob(_fluent._client(), run_id, n_labels)
    cm = sklearn.metrics.ConfusionMatrixDisplay
    try:
        y_pred = estimator.predict(X)
        job.plots.append(
            _Plot(
                prefix + "confusion_matrix",
                "Normalized confusion matrix",
                lambda ax: cm.from_predictions(
                    y, y_pred, sample_weight=sample_weight, normalize="true", cmap="Blues", ax=ax
                ),
            )
        )
    except Exception as exc:
        _not_recorded(prefix + "confusion_matrix", exc)
    if len(set(y)) != 2:
        return job
    curves = [
        ("roc_curve", "ROC curve", sklearn.metrics.RocCurveDisplay),
        (
            "precision_recall_curve",
            "Precision recall curve",
            sklearn.metrics.PrecisionRecallDisplay,
        ),
    ]
    for name, title, display in curves:
        try:
            # What from_estimator computes before it draws: the scores, the positive class
            # and the estimator's name.
            y_score, pos_label, shown = display._validate_and_get_response_values(
                estimator, X, y, response_method="auto", pos_label=None, name=None
            )
        except Exception as exc:
            _not_recorded(prefix + name, exc)
            continue

        def draw(
            ax: Any, d: Any = display, s: Any = y_score, p: Any = pos_label, n: Any = shown
        ) -> Any:
            return d.from_predictions(y, s, sample_weight=sample_weight, pos_label=p, name=n, ax=ax)

        job.plots.append(_Plot(prefix + name, title, draw))
    return job


def _not_recorded(name: str, exc: BaseException) -> None:
    log_warning(INTEGRATION, f"The artifact {name} will not be recorded. Artifact error: {exc}")


def _draw(job: PlotJob, plot: _Plot, path: str) -> None:
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    default_size = float(matplotlib.rcParams["font.size"])
    confusion = plot.name.endswith("confusion_matrix")
    # MLflow's rc_context: font.size 8 (smaller for many labels in the confusion matrix),
    # axis labels 8, figure.autolayout (tight), 175 dpi.
    font_size = min(8.0, 50.0 / max(job.n_labels, 1)) if confusion else 8.0
    figure = Figure(figsize=(6.0, 4.0) if confusion else None, dpi=DPI, layout="tight")
    display = plot.draw(figure.subplots())
    display.ax_.set_title(plot.title)
    for text in figure.findobj(Text):
        text.set_fontsize(float(text.get_fontsize()) * font_size / default_size)
    if confusion:
        display.ax_.xaxis.label.set_fontsize(8.0)
        display.ax_.yaxis.label.set_fontsize(8.0)
    figure.savefig(path, format="png", dpi=DPI)


def _run(job: PlotJob) -> None:
    with tempfile.TemporaryDirectory(prefix="mltrail-sklearn-plots-") as tmp:
        drawn = False
        for plot in job.plots:
            try:
                _draw(job, plot, os.path.join(tmp, f"{plot.name}.png"))
                drawn = True
            except Exception as exc:
                _not_recorded(plot.name, exc)
        if drawn:
            try:
                job.client.log_artifacts(job.run_id, tmp)
            except Exception as exc:
                log_warning(INTEGRATION, f"The training plots were not logged: {exc}")


def submit(job: PlotJob) -> None:
    """Draw and upload *job*'s plots in the background (reads and flushes wait for them)."""
    if job.plots:
        _background.submit(functools.partial(_run, job))
