"""The default evaluator's metrics, computed with NumPy in one pass each.

Classifiers: labels are encoded once (``searchsorted`` on the sorted label list), one
confusion matrix (``bincount``) gives the counts, accuracy, precision, recall and F1 of every
averaging; one descending sort of the scores per curve gives the ROC curve, its area, the
precision-recall curve and the average precision.  Regressors: one error vector.  The values
are scikit-learn's (the functions MLflow calls), with MLflow's names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import InvalidArgument

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.intp]

__all__ = [
    "AVERAGES",
    "ClassifierOutcome",
    "Curve",
    "binary_curve",
    "classifier_metrics",
    "encode_labels",
    "regressor_metrics",
]

_logger = logging.getLogger("mltrail")

#: The ``average`` values of multiclass precision, recall and F1.
AVERAGES = ("weighted", "macro", "micro")


@dataclass
class Curve:
    """A curve to plot (x, y) and its area: ROC (fpr, tpr, AUC) or precision-recall
    (recall, precision, average precision)."""

    x: FloatArray
    y: FloatArray
    auc: float


@dataclass
class ClassifierOutcome:
    """Everything the classifier's metrics, table and plots need."""

    metrics: dict[str, Any]
    #: The label list in MLflow's order (binary: negative then positive; else sorted).
    labels: list[Any]
    #: Row-normalised confusion matrix in ``labels`` order.
    confusion: FloatArray
    binary: bool
    #: (class, ROC curve) and (class, precision-recall curve) per plotted class.
    roc: list[tuple[Any, Curve]] = field(default_factory=list)
    pr: list[tuple[Any, Curve]] = field(default_factory=list)
    #: Multiclass: one row per class (MLflow's per_class_metrics.csv columns).
    per_class: list[dict[str, Any]] = field(default_factory=list)
    #: Targets as indices into the *sorted* labels (the columns of the probabilities).
    target_index: IntArray | None = None
    sorted_labels: list[Any] = field(default_factory=list)
    #: Index of the positive class among the sorted labels (binary).
    pos_index: int = 1


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _labels_text(values: Any) -> str:
    return "[" + ", ".join(repr(_plain(v)) for v in values) + "]"


def encode_labels(values: Any, sorted_labels: Any, what: str) -> IntArray:
    """The index of each of *values* among *sorted_labels*; an error names values that are
    not labels."""
    import numpy as np

    index = np.searchsorted(sorted_labels, values)
    clipped = np.minimum(index, len(sorted_labels) - 1)
    found = sorted_labels[clipped] == values
    if not np.all(found):
        unknown = np.unique(np.asarray(values)[~found])[:10]
        raise InvalidArgument(
            f"Invalid evaluator_config['label_list'] {_labels_text(sorted_labels)}: the "
            f"{what} contain labels that are not in it: {_labels_text(unknown)}"
        )
    result: IntArray = clipped.astype(np.intp, copy=False)
    return result


def binary_curve(positive: Any, score: Any, weights: Any) -> tuple[Curve, Curve] | None:
    """The ROC and precision-recall curves of boolean *positive* against *score* (one sort);
    None when the targets hold a single class (the curves are undefined)."""
    import numpy as np

    order = np.argsort(score)[::-1]
    sorted_score = score[order]
    hit = positive[order]
    ends = np.flatnonzero(np.diff(sorted_score))
    ends = np.append(ends, hit.size - 1)
    if weights is None:
        tps = np.cumsum(hit, dtype=np.float64)[ends]
        fps = (ends + 1.0) - tps
    else:
        w = weights[order]
        tps = np.cumsum(np.where(hit, w, 0.0))[ends]
        fps = np.cumsum(np.where(hit, 0.0, w))[ends]
    if tps[-1] <= 0 or fps[-1] <= 0:
        return None
    tpr = np.concatenate(([0.0], tps / tps[-1]))
    fpr = np.concatenate(([0.0], fps / fps[-1]))
    roc_auc = float(np.trapezoid(tpr, fpr))
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    average_precision = float(np.sum(np.diff(recall, prepend=0.0) * precision))
    # MLflow plots recall (x) against precision (y), ending at recall 0, precision 1.
    pr = Curve(
        np.concatenate((recall[::-1], [0.0])),
        np.concatenate((precision[::-1], [1.0])),
        average_precision,
    )
    return Curve(fpr, tpr, roc_auc), pr


def _safe_divide(numerator: Any, denominator: Any) -> Any:
    import numpy as np

    out = np.zeros(np.shape(numerator), dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=np.asarray(denominator) != 0)
    return out


def _log_loss(target_index: Any, probabilities: Any, weights: Any) -> float:
    import numpy as np

    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.min() < 0 or probabilities.max() > 1:
        raise InvalidArgument(
            "Invalid predicted probabilities: predict_proba returned values outside [0, 1]"
        )
    eps = np.finfo(np.float64).eps
    picked = probabilities[np.arange(target_index.size), target_index]
    loss = -np.log(np.clip(picked, eps, 1 - eps))
    return float(np.average(loss, weights=weights))


def _binary_scores(cm: Any) -> tuple[float, float, float]:
    """(precision, recall, F1) of the positive class (index 1) of a 2x2 matrix."""
    tp, fp, fn = cm[1, 1], cm[0, 1], cm[1, 0]
    precision = float(tp / (tp + fp)) if tp + fp else 0.0
    recall = float(tp / (tp + fn)) if tp + fn else 0.0
    f1 = float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else 0.0
    return precision, recall, f1


def _averaged(cm: Any, average: str) -> tuple[float, float, float]:
    """Multiclass (precision, recall, F1) under *average*, over the classes present in the
    targets or the predictions (scikit-learn's labels when none are given)."""
    import numpy as np

    tp = np.diag(cm)
    predicted = cm.sum(axis=0)
    actual = cm.sum(axis=1)
    if average == "micro":
        total = float(cm.sum())
        value = float(tp.sum() / total) if total else 0.0
        return value, value, value
    present = (predicted > 0) | (actual > 0)
    precision = _safe_divide(tp, predicted)[present]
    recall = _safe_divide(tp, actual)[present]
    f1 = _safe_divide(2 * tp, predicted + actual)[present]
    if average == "macro":
        return float(precision.mean()), float(recall.mean()), float(f1.mean())
    support = actual[present]
    if support.sum() == 0:
        return 0.0, 0.0, 0.0
    return (
        float(np.average(precision, weights=support)),
        float(np.average(recall, weights=support)),
        float(np.average(f1, weights=support)),
    )


def _confusion(true_index: Any, pred_index: Any, k: int, weights: Any) -> Any:
    import numpy as np

    flat = true_index * k + pred_index
    return np.bincount(flat, weights=weights, minlength=k * k).reshape(k, k)


def classifier_metrics(
    y_true: Any,
    y_pred: Any,
    probabilities: Any,
    *,
    label_list: Any,
    pos_label: Any,
    average: str,
    weights: Any,
    max_curve_classes: int,
) -> ClassifierOutcome:
    """MLflow's classifier metrics for targets *y_true*, predictions *y_pred* and optional
    class *probabilities* (columns in sorted label order)."""
    import numpy as np

    n = int(y_true.size)
    if label_list is None:
        sorted_labels = np.unique(np.concatenate([y_true, y_pred]))
    else:
        sorted_labels = np.unique(np.asarray(label_list))
    if sorted_labels.size < 2:
        raise InvalidArgument(
            "Evaluation dataset for classification must contain at least two unique labels, "
            f"but only {sorted_labels.size} unique labels were found: give all the classes in "
            "evaluator_config={'label_list': [...]}"
        )
    k = int(sorted_labels.size)
    true_index = encode_labels(y_true, sorted_labels, "targets")
    pred_index = encode_labels(y_pred, sorted_labels, "predictions")
    if probabilities is not None and probabilities.shape != (n, k):
        raise InvalidArgument(
            f"Invalid predicted probabilities: predict_proba returned shape "
            f"{tuple(probabilities.shape)}, expected ({n}, {k}) for {n} rows and {k} labels "
            f"{_labels_text(sorted_labels)}"
        )
    counts = _confusion(true_index, pred_index, k, None)
    cm = counts if weights is None else _confusion(true_index, pred_index, k, weights)
    accuracy = float(np.trace(cm) / cm.sum())
    base: dict[str, Any] = {}
    outcome = ClassifierOutcome(
        metrics=base,
        labels=[],
        confusion=_safe_divide(cm, cm.sum(axis=1, keepdims=True)),
        binary=k == 2,
        target_index=true_index,
        sorted_labels=[_plain(v) for v in sorted_labels],
    )
    if k == 2:
        if pos_label is None:
            pos_index = 1
        else:
            matches = np.flatnonzero(sorted_labels == pos_label)
            if matches.size == 0:
                raise InvalidArgument(
                    f"Invalid evaluator_config['pos_label'] {pos_label!r}: not one of the labels "
                    f"{_labels_text(sorted_labels)}"
                )
            pos_index = int(matches[0])
        order = [1 - pos_index, pos_index]
        outcome.pos_index = pos_index
        outcome.labels = [_plain(sorted_labels[i]) for i in order]
        outcome.confusion = outcome.confusion[np.ix_(order, order)]
        ordered_counts = counts[np.ix_(order, order)]
        ordered = cm[np.ix_(order, order)]
        tn, fp, fn, tp = (int(v) for v in ordered_counts.ravel())
        precision, recall, f1 = _binary_scores(ordered)
        base.update(
            true_negatives=tn,
            false_positives=fp,
            false_negatives=fn,
            true_positives=tp,
            example_count=n,
            accuracy_score=accuracy,
            recall_score=recall,
            precision_score=precision,
            f1_score=f1,
        )
        if probabilities is not None:
            base["log_loss"] = _log_loss(true_index, probabilities, weights)
            curves = binary_curve(true_index == pos_index, probabilities[:, pos_index], weights)
            if curves is None:
                _logger.warning(
                    "The targets hold one class only: roc_auc, precision_recall_auc and their "
                    "curves are not defined and are not logged"
                )
            else:
                roc, pr = curves
                base["roc_auc"] = roc.auc
                base["precision_recall_auc"] = pr.auc
                outcome.roc.append((outcome.labels[1], roc))
                outcome.pr.append((outcome.labels[1], pr))
        return outcome

    if average not in AVERAGES:
        raise InvalidArgument(
            f"Invalid evaluator_config['average'] {average!r}: a multiclass classifier takes "
            f"one of {', '.join(repr(a) for a in AVERAGES)}"
        )
    outcome.labels = list(outcome.sorted_labels)
    precision, recall, f1 = _averaged(cm, average)
    base.update(
        example_count=n,
        accuracy_score=accuracy,
        recall_score=recall,
        precision_score=precision,
        f1_score=f1,
    )
    if probabilities is not None:
        base["log_loss"] = _log_loss(true_index, probabilities, weights)
    class_aucs: list[float] = []
    class_aps: list[float] = []
    if probabilities is not None:
        for i, label in enumerate(outcome.labels):
            curves = binary_curve(true_index == i, probabilities[:, i], weights)
            if curves is None:
                class_aucs.append(float("nan"))
                class_aps.append(float("nan"))
                continue
            class_aucs.append(curves[0].auc)
            class_aps.append(curves[1].auc)
            if k <= max_curve_classes:
                outcome.roc.append((label, curves[0]))
                outcome.pr.append((label, curves[1]))
        if average in ("macro", "weighted"):
            support = cm.sum(axis=1)
            if np.all(support > 0):
                aucs = np.asarray(class_aucs)
                base["roc_auc"] = float(
                    aucs.mean() if average == "macro" else np.average(aucs, weights=support)
                )
            else:
                _logger.warning(
                    "roc_auc is not logged: some labels of label_list never occur in the targets"
                )
        if k > max_curve_classes:
            _logger.warning(
                "The classifier has more than %d classes: the ROC and precision-recall curves "
                "are not plotted (raise evaluator_config['max_classes_for_multiclass_roc_pr'])",
                max_curve_classes,
            )
    for i, label in enumerate(outcome.labels):
        t = true_index == i
        p = pred_index == i
        flat = t.astype(np.intp) * 2 + p
        class_counts = np.bincount(flat, minlength=4).reshape(2, 2)
        class_cm = (
            class_counts
            if weights is None
            else np.bincount(flat, weights=weights, minlength=4).reshape(2, 2)
        )
        c_precision, c_recall, c_f1 = _binary_scores(class_cm)
        row: dict[str, Any] = {
            "positive_class": label,
            "true_negatives": int(class_counts[0, 0]),
            "false_positives": int(class_counts[0, 1]),
            "false_negatives": int(class_counts[1, 0]),
            "true_positives": int(class_counts[1, 1]),
            "example_count": n,
            "accuracy_score": float(np.trace(class_cm) / class_cm.sum()),
            "recall_score": c_recall,
            "precision_score": c_precision,
            "f1_score": c_f1,
        }
        if probabilities is not None and k <= max_curve_classes:
            row["roc_auc"] = class_aucs[i]
            row["precision_recall_auc"] = class_aps[i]
        outcome.per_class.append(row)
    return outcome


def regressor_metrics(y_true: Any, y_pred: Any, weights: Any) -> dict[str, Any]:
    """MLflow's regressor metrics (scikit-learn's definitions, optional sample weights)."""
    import numpy as np

    y = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    error = y - pred
    absolute = np.abs(error)
    squared = error * error
    mse = float(np.average(squared, weights=weights))
    total = float(np.sum(y)) if weights is None else float(np.sum(y * weights))
    mean = float(np.average(y, weights=weights))
    residual = float(np.sum(squared if weights is None else squared * weights))
    deviation = (y - mean) ** 2
    spread = float(np.sum(deviation if weights is None else deviation * weights))
    if spread != 0:
        r2 = 1.0 - residual / spread
    else:
        r2 = 1.0 if residual == 0 else 0.0
    eps = np.finfo(np.float64).eps
    return {
        "example_count": int(y.size),
        "mean_absolute_error": float(np.average(absolute, weights=weights)),
        "mean_squared_error": mse,
        "root_mean_squared_error": float(np.sqrt(mse)),
        "sum_on_target": total,
        "mean_on_target": total / y.size,
        "r2_score": r2,
        "max_error": float(absolute.max()),
        "mean_absolute_percentage_error": float(
            np.average(absolute / np.maximum(np.abs(y), eps), weights=weights)
        ),
    }
