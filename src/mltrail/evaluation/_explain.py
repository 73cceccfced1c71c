"""Model explainability: SHAP values of a sample of the rows, drawn as MLflow's default
evaluator draws them (beeswarm, summary and feature-importance plots), with the ``shap`` extra.

What is explained is the model's ``predict`` (labels for a classifier, values for a
regressor), on at most ``explainability_nsamples`` rows (2,000) sampled with SHAP's own
sampler and seed 0, missing values filled with each column's mean (numbers) or mode.
SHAP picks the explainer: for a native scikit-learn, XGBoost or CatBoost model of a binary
or regression problem it is given the native model (a linear or tree explainer), otherwise
the predict function; ``explainability_algorithm`` names one (``exact``, ``permutation``,
``partition`` or ``kernel``, with ``explainability_kernel_link`` ``identity`` or ``logit``).
A failure inside SHAP is a warning and no plots, as in MLflow, unless
``ignore_exceptions`` is False.  The plots come back as PNG bytes, with the explainer when
``log_explainer`` is set; :func:`log_explainer` logs it, once the run is active, as the model
``explainer`` (MLflow's shap flavor).
"""

from __future__ import annotations

import importlib
import io
import logging
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import InvalidArgument, MissingDependency
from mltrail._optional import require
from mltrail.evaluation._custom import Prepared
from mltrail.evaluation._data import EvalData
from mltrail.evaluation._model import Model
from mltrail.evaluation._plots import DPI
from mltrail.evaluation._result import ImageEvaluationArtifact
from mltrail.shap import _flavor as shap_flavor

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ALGORITHMS", "check_explain_config", "explain", "log_explainer"]

ALGORITHMS = ("exact", "permutation", "partition", "kernel")
_LINKS = ("identity", "logit")
_SAMPLES = 2000
_MIN_SHAP = (0, 40)
_logger = logging.getLogger("mltrail")


def check_explain_config(config: dict[str, Any]) -> None:
    """Refuse a bad explainability setting before anything is computed or logged."""
    algorithm = config.get("explainability_algorithm")
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise InvalidArgument(
            f"Invalid evaluator_config['explainability_algorithm'] {algorithm!r}: must be one "
            f"of {', '.join(ALGORITHMS)} (or unset: SHAP chooses)"
        )
    link = config.get("explainability_kernel_link", "identity")
    if link not in _LINKS:
        raise InvalidArgument(
            f"Invalid evaluator_config['explainability_kernel_link'] {link!r}: must be "
            f"{' or '.join(_LINKS)}"
        )
    samples = config.get("explainability_nsamples", _SAMPLES)
    if type(samples) is not int or samples < 1:
        raise InvalidArgument(
            f"Invalid evaluator_config['explainability_nsamples'] {samples!r}: must be a "
            "positive integer (the number of rows explained)"
        )


def _skip(reason: str) -> tuple[dict[str, Prepared], Any]:
    """No plots and no explainer, with a warning saying why."""
    _logger.warning("Model explainability insights are not logged: %s", reason)
    return {}, None


def _numeric(kind: Any) -> bool:
    """Numbers or booleans, NumPy's or pandas' own (nullable, string) dtypes alike."""
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_bool_dtype(kind))


def _filled(df: pd.DataFrame) -> dict[Any, Any]:
    """Each column's mean (a column of numbers) or its most frequent value (any other)."""
    import pandas as pd

    fill: dict[Any, Any] = {}
    for name in df.columns:
        column = df[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            fill[name] = column.mean()
        else:
            modes = column.mode()
            if len(modes):
                fill[name] = modes.iloc[0]
    return fill


def _predict_function(
    model: Model, predict: Callable[[Any], Any], names: list[str]
) -> Callable[[Any], Any]:
    """*model*'s predict, given a DataFrame with the data's column names (SHAP passes
    NumPy arrays)."""
    import pandas as pd

    if model.native is not None and type(model.native).__module__.startswith("xgboost"):
        native = model.native

        def predict_xgboost(x: Any) -> Any:
            frame = pd.DataFrame(x)
            frame.columns = names
            return native.predict(frame, validate_features=False)

        return predict_xgboost

    def predict_frame(x: Any) -> Any:
        frame = pd.DataFrame(x)
        frame.columns = names
        return predict(frame)

    return predict_frame


def _explainer(
    shap: Any,
    model: Model,
    predict: Callable[[Any], Any],
    rows: tuple[pd.DataFrame, pd.DataFrame],
    labels: int,
    config: dict[str, Any],
) -> Any:
    """SHAP's explainer for *model*: the one named in *config*, else SHAP's choice."""
    features, sample = rows
    names = [str(c) for c in sample.columns]
    predict = _predict_function(model, predict, names)
    algorithm = config.get("explainability_algorithm")
    if algorithm == "kernel":
        nsamples = config.get("explainability_nsamples", _SAMPLES)
        background = shap.sample(features, nsamples, random_state=3).fillna(_filled(features))
        link = config.get("explainability_kernel_link", "identity")
        return shap.KernelExplainer(predict, background, link=link)
    if algorithm is not None:
        return shap.Explainer(predict, sample, feature_names=names, algorithm=algorithm)
    native = model.native
    pipeline = type(native).__name__ == "Pipeline" and type(native).__module__.startswith("sklearn")
    if native is not None and labels <= 2 and not pipeline:
        # A linear or tree explainer of the native model (plots of several classes' values
        # from those explainers are not drawn well, hence the predict function for them).
        return shap.Explainer(native, sample, feature_names=names)
    return shap.Explainer(predict, sample, feature_names=names)


def _draw(pyplot: Any, draw: Callable[[], None]) -> bytes:
    pyplot.clf()
    try:
        draw()
        buffer = io.BytesIO()
        pyplot.savefig(
            buffer, format="png", dpi=DPI, bbox_inches="tight", pil_kwargs={"compress_level": 1}
        )
        return buffer.getvalue()
    finally:
        pyplot.close(pyplot.gcf())


def _plots(shap: Any, pyplot: Any, values: Any, prefix: str) -> dict[str, Prepared]:
    def ticks() -> None:
        pyplot.xticks(fontsize=10)
        pyplot.yticks(fontsize=10)

    def color_bar() -> None:
        bar = pyplot.gcf().axes[-1]
        bar.set_aspect("auto")
        bar.set_box_aspect(50)

    def beeswarm() -> None:
        shap.plots.beeswarm(values, show=False, color_bar=True)
        color_bar()
        ticks()

    def summary() -> None:
        shap.summary_plot(values, show=False, color_bar=True)
        color_bar()
        ticks()

    def importance() -> None:
        shap.plots.bar(values, show=False)
        ticks()

    plots: dict[str, Prepared] = {}
    # The errors SHAP's plots raise for values they cannot draw (a single class, say).
    for name, draw, expected in (
        ("shap_beeswarm_plot", beeswarm, ValueError),
        ("shap_summary_plot", summary, TypeError),
        ("shap_feature_importance_plot", importance, IndexError),
    ):
        try:
            png = _draw(pyplot, draw)
        except expected as exc:
            _logger.warning("The SHAP plot %s is not logged: %r", name, exc)
            continue
        plots[name] = (ImageEvaluationArtifact, f"{prefix}{name}.png", png)
    return plots


def _imports() -> tuple[Any, Any] | None:
    try:
        shap = require("shap")
        require("matplotlib")
    except MissingDependency as exc:
        _logger.warning(
            "Model explainability insights are not logged: %s (or "
            "evaluator_config={'log_model_explainability': False})",
            exc,
        )
        return None
    version = tuple(int(p) for p in shap.__version__.split(".")[:2] if p.isdigit())
    if version < _MIN_SHAP:
        _logger.warning(
            "SHAP %s is older than 0.40, so model explainability insights are not logged",
            shap.__version__,
        )
        return None
    return shap, importlib.import_module("matplotlib.pyplot")


def explain(
    model: Model, data: EvalData, y_pred: Any, config: dict[str, Any], prefix: str
) -> tuple[dict[str, Prepared], Any]:
    """SHAP's three plots of *model* on *data*, or nothing (with a warning saying why), and
    the explainer when ``log_explainer`` asks for it to be logged (else None)."""
    import numpy as np

    predict = model.predict
    if predict is None:
        return {}, None
    if model.served:
        return _skip(
            "the model predicts in its own environment (a non-local env_manager), where SHAP "
            "cannot call it row by row"
        )
    targets = data.targets
    if targets is None or not _numeric(np.asarray(targets).dtype):
        return _skip("SHAP needs label values that are numbers or booleans")
    algorithm = config.get("explainability_algorithm")
    if algorithm != "kernel" and not all(_numeric(k) for k in data.features.dtypes):
        return _skip(
            f"SHAP's {algorithm or 'default'} explainer needs every feature to be a column of "
            "numbers (the kernel explainer takes others: "
            "evaluator_config={'explainability_algorithm': 'kernel'})"
        )
    with warnings.catch_warnings():
        # SHAP's own deprecation notices (of NumPy, matplotlib) are not the caller's business.
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.simplefilter("ignore", category)
        return _explain(model, predict, data, y_pred, config, prefix)


def _explain(
    model: Model,
    predict: Callable[[Any], Any],
    data: EvalData,
    y_pred: Any,
    config: dict[str, Any],
    prefix: str,
) -> tuple[dict[str, Prepared], Any]:
    import numpy as np

    imported = _imports()
    if imported is None:
        return {}, None
    shap, pyplot = imported
    features = data.features.copy()
    sample = shap.sample(features, config.get("explainability_nsamples", _SAMPLES), random_state=0)
    sample = sample.fillna(_filled(features))
    labels = config.get("label_list")
    count = (
        len(labels)
        if labels is not None
        else len(np.unique(np.concatenate([np.asarray(data.targets), np.asarray(y_pred)])))
    )
    try:
        explainer = _explainer(shap, model, predict, (features, sample), count, config)
        _logger.info("SHAP explainer %s is used", type(explainer).__name__)
        values = explainer(sample)
    except Exception as exc:
        if not config.get("ignore_exceptions", True):
            raise
        return _skip(f"SHAP failed: {exc!r}")
    kept = explainer if config.get("log_explainer", False) else None
    return _plots(shap, pyplot, values, prefix), kept


def log_explainer(explainer: Any) -> None:
    """Log *explainer* to the active run as the model ``explainer`` (``log_explainer`` in the
    evaluator config); a failure is a warning, as in MLflow."""
    try:
        shap_flavor.log_explainer(explainer, name="explainer")
    except Exception as exc:
        _logger.warning("Logging explainer failed. Reason: %r", exc)
