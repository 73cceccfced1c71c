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
    IntArray = npt.NDArray[np.integer[Any]]

__all__ = [
    "AVERAGES",
    "MAX_POINTS",
    "ClassifierOutcome",
    "Curve",
    "Lift",
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
class Lift:
    """The lift curves of a binary classifier: share of the rows (x), and the lift of the
    positive and of the negative class (rows ranked by that class's probability)."""

    share: FloatArray
    positive: FloatArray
    negative: FloatArray


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
    #: Binary: the lift curves (None when they need another sort: see :func:`binary_curve`).
    lift: Lift | None = None
    #: Binary: the targets hold one class only (no lift curve, as in MLflow).
    single_class: bool = False


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
    # the smallest integers that hold the indices: a million labels take 1 MB, not 8
    dtype = np.int8 if len(sorted_labels) < 128 else np.intp
    result: IntArray = clipped.astype(dtype)
    return result


#: The most points a curve keeps for its plot (the areas use every point).
MAX_POINTS = 2000


def _thin_index(count: int) -> Any:
    """At most :data:`MAX_POINTS` indices spread evenly over ``range(count)``, both ends kept."""
    import numpy as np

    if count <= MAX_POINTS:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, MAX_POINTS).astype(np.intp))


def binary_curve(
    positive: Any, score: Any, weights: Any, other_score: Any = None
) -> tuple[Curve, Curve, Lift | None]:
    """The ROC and precision-recall curves of boolean *positive* against *score*, from one
    descending sort, with their exact areas; the curves keep at most :data:`MAX_POINTS` points.

    Targets of a single class give scikit-learn's values: a ROC area of NaN, an average
    precision of 1 (positives only) or 0 (negatives only).  With *other_score* (the negative
    class's scores), the lift curves of both classes are read from the same sort when
    *other_score* orders the rows the other way round (as complementary probabilities do);
    else, or for a single class, the lift is left out (``None``)."""
    import numpy as np

    n = score.size
    order = np.argsort(score)[::-1]
    hit = positive[order]
    reversed_other = False
    if other_score is not None:
        reversed_other = bool(np.all(np.diff(other_score[order]) >= 0))
    w = None if weights is None else weights[order]
    sorted_score = score[order]
    del order
    ends = np.flatnonzero(sorted_score[1:] != sorted_score[:-1])
    del sorted_score
    ends = np.append(ends, n - 1)
    counts = np.cumsum(hit, dtype=np.intp)
    if w is None:
        tps = counts[ends].astype(np.float64)
        fps = (ends + 1.0) - tps
    else:
        tps = np.cumsum(np.where(hit, w, 0.0))[ends]
        fps = np.cumsum(np.where(hit, 0.0, w))[ends]
    del ends, w, hit
    total_pos, total_neg = float(tps[-1]), float(fps[-1])
    both = total_pos > 0 and total_neg > 0
    roc_auc = float("nan")
    if both:
        step = np.diff(fps, prepend=0.0)
        roc_auc = float((step @ tps + step[1:] @ tps[:-1]) / (2.0 * total_pos * total_neg))
        del step
    average_precision = 0.0
    if total_pos > 0:
        gain = np.diff(tps, prepend=0.0)
        gain *= tps
        gain /= tps + fps
        average_precision = float(gain.sum() / total_pos)
        del gain
    keep = _thin_index(tps.size)
    kept_tps, kept_fps = tps[keep], fps[keep]
    nan = np.full(keep.size, np.nan)
    roc = Curve(
        np.concatenate(([0.0], kept_fps / total_neg if total_neg > 0 else nan)),
        np.concatenate(([0.0], kept_tps / total_pos if total_pos > 0 else nan)),
        roc_auc,
    )
    # MLflow draws recall (x) against precision (y), from recall 1 down to (0, 1).
    recall = kept_tps / total_pos if total_pos > 0 else np.ones(keep.size)
    pr = Curve(
        np.concatenate((recall[::-1], [0.0])),
        np.concatenate(((kept_tps / (kept_tps + kept_fps))[::-1], [1.0])),
        average_precision,
    )
    lift = None
    if reversed_other and both:
        rows = _thin_index(n)
        share = (rows + 1.0) / n
        positives = int(counts[-1])
        negatives = n - positives
        # the top m rows by the other score are the bottom m rows by this one
        above = n - (rows + 1)
        top_positives = np.where(above > 0, counts[np.maximum(above - 1, 0)], 0)
        bottom_negatives = negatives - (above - top_positives)
        lift = Lift(
            share,
            (counts[rows] / positives) / share,
            (bottom_negatives / negatives) / share if negatives else share * 0.0,
        )
    return roc, pr, lift


def _kind(values: Any) -> str:
    """``number``, ``text`` or ``object`` (either) for an array of labels."""
    code = values.dtype.kind
    return "number" if code in "biuf" else "text" if code in "US" else "object"


def _safe_divide(numerator: Any, denominator: Any) -> Any:
    import numpy as np

    out = np.zeros(np.shape(numerator), dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=np.asarray(denominator) != 0)
    return out


def _log_loss(target_index: Any, probabilities: Any, weights: Any) -> float:
    import numpy as np

    # float32 probabilities (XGBoost's) stay float32, clipped at float32's epsilon, as
    # scikit-learn computes them
    kept = probabilities.dtype if probabilities.dtype in (np.float32, np.float64) else None
    probabilities = np.asarray(probabilities, dtype=kept or np.float64)
    if probabilities.min() < 0 or probabilities.max() > 1:
        raise InvalidArgument(
            "Invalid predicted probabilities: predict_proba returned values outside [0, 1]"
        )
    eps = np.finfo(probabilities.dtype).eps
    picked = np.take_along_axis(probabilities, target_index[:, None].astype(np.intp), axis=1)
    np.clip(picked, eps, 1 - eps, out=picked)
    np.log(picked, out=picked)
    return -float(np.average(picked[:, 0], weights=weights))


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

    flat = true_index.astype(np.int32) * k + pred_index
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
    kinds = {_kind(y_true), _kind(y_pred)}
    if label_list is None and {"number", "text"} <= kinds:
        raise InvalidArgument(
            f"Invalid labels: the targets ({y_true.dtype}) and the predictions ({y_pred.dtype}) "
            "hold labels of kinds that cannot be compared (numbers and strings)"
        )
    try:
        if label_list is None:
            sorted_labels = np.unique(np.concatenate([y_true, y_pred]))
        else:
            sorted_labels = np.unique(np.asarray(label_list))
        true_index = encode_labels(y_true, sorted_labels, "targets")
        pred_index = encode_labels(y_pred, sorted_labels, "predictions")
    except TypeError as exc:  # numpy's DTypePromotionError too
        raise InvalidArgument(
            f"Invalid labels: the targets ({y_true.dtype}), the predictions ({y_pred.dtype})"
            + ("" if label_list is None else " and evaluator_config['label_list']")
            + f" hold labels of kinds that cannot be compared ({exc})"
        ) from exc
    if sorted_labels.size < 2:
        raise InvalidArgument(
            "Evaluation dataset for classification must contain at least two unique labels, "
            f"but only {sorted_labels.size} unique labels were found: give all the classes in "
            "evaluator_config={'label_list': [...]}"
        )
    k = int(sorted_labels.size)
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
            positive = true_index == pos_index
            roc, pr, outcome.lift = binary_curve(
                positive,
                probabilities[:, pos_index],
                weights,
                other_score=probabilities[:, 1 - pos_index],
            )
            outcome.single_class = bool(positive.all() or not positive.any())
            if outcome.single_class:
                _logger.warning(
                    "The targets hold one class only: roc_auc is not defined (NaN) and the "
                    "lift curve is not drawn"
                )
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
