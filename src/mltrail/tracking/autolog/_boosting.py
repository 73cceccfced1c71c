"""What XGBoost's and LightGBM's autologging do alike, as MLflow's integrations do it.

Both patch their framework's ``train`` (the native API, and the copy the scikit-learn API
calls), the constructor of their dataset class (to keep an input example: a dataset cannot
give its rows back), and ``fit`` of their scikit-learn estimators.  This module holds the
shared parts:

- :func:`training_session`: MLflow's nesting rule for training calls (only the outermost fit
  of an estimator logs; a fit inside a scikit-learn meta-estimator or cross-validation that
  scikit-learn autologging handles does not log);
- :class:`MetricRecorder`: the per-iteration evaluation results, logged with step =
  iteration (never raising into the training loop), and the early-stopping metrics;
- :func:`log_feature_importance`: ``feature_importance_{type}.json`` and a bar plot
  ``feature_importance_{type}.png`` (the plot needs matplotlib, the ``plots`` extra);
- :func:`log_dataset`: a training or evaluation dataset as a run input;
- :func:`fit_params`, :func:`example_and_signature` and :func:`patch_sklearn_fit`.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib.util
import inspect
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from mltrail.data import CodeDatasetSource, from_numpy, from_pandas
from mltrail.entities._logged_model import LoggedModelMetric
from mltrail.models import ModelSignature, infer_signature
from mltrail.tracking import _background, _fluent
from mltrail.tracking.autolog._config import get_autologging_config
from mltrail.tracking.autolog._linked_metrics import (
    linked_points,
    start_logged_model,
    write_linked_points,
)
from mltrail.tracking.autolog._safety import active_session, log_warning, safe_patch
from mltrail.tracking.autolog._sklearn_post_training import (
    QUIET,
    call_command,
    dataset_for_prediction,
    flag,
    is_loggable,
    log_metric_call,
    logged_model_of,
    post_training_off,
    register_model,
    register_prediction,
    run_of,
)

__all__ = [
    "ENSURE_AUTOLOGGING_ENABLED",
    "INPUT_EXAMPLE_ROWS",
    "InputExample",
    "MetricRecorder",
    "active_run_id",
    "capture_input_example",
    "current_training_logs",
    "example_and_signature",
    "fit_params",
    "log_dataset",
    "log_feature_importance",
    "patch_library",
    "patch_sklearn_fit",
    "start_logged_model",
    "training_session",
]

_logger = logging.getLogger("mltrail.autolog")
V = TypeVar("V")

#: Metric values linked to a logged model are written this many at a time.
_LINKED_BATCH = 1000
#: Rows of the training data kept as the model's input example (MLflow's number).
INPUT_EXAMPLE_ROWS = 5
ENSURE_AUTOLOGGING_ENABLED = (
    "please ensure that autologging is enabled before constructing the dataset."
)

# -- nesting ---------------------------------------------------------------------------------

#: The key of the training-call stack in the AutologSession's state.  It is shared with any
#: integration that nests training calls the way MLflow's ``_SklearnTrainingSession`` does.
TRAINING_STACK = "mlflow_training_sessions"


@dataclass
class _Training:
    estimator: Any
    allow_children: bool
    logs: bool


def _stack() -> list[_Training]:
    session = active_session()
    if session is None:
        return []
    stack: list[_Training] | None = session.state.get(TRAINING_STACK)
    if stack is None:
        stack = []
        if session.integration == "sklearn":
            # A scikit-learn fit (a pipeline, a search, cross-validation) is the outer call:
            # MLflow's scikit-learn sessions allow no child to log.
            stack.append(_Training(None, False, True))
        session.state[TRAINING_STACK] = stack
    return stack


@contextlib.contextmanager
def training_session(estimator: Any, allow_children: bool) -> Iterator[bool]:
    """Enter a training call of *estimator*; yields whether it logs: it does when it is the
    outermost one, or when its parent allows children and no enclosing call trains the same
    estimator."""
    stack = _stack()
    parent = stack[-1] if stack else None
    logs = (parent is None or parent.allow_children) and not any(
        t.estimator is estimator for t in stack
    )
    stack.append(
        _Training(estimator, allow_children and (parent is None or parent.allow_children), logs)
    )
    try:
        yield logs
    finally:
        stack.pop()


def current_training_logs() -> bool:
    """Whether the innermost enclosing training call logs (True when there is none)."""
    stack = _stack()
    return stack[-1].logs if stack else True


# -- arguments and input examples ------------------------------------------------------------


def fit_params(
    function: Callable[..., Any],
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    unlogged: Sequence[str],
) -> dict[str, Any]:
    """The arguments of a call of *function* as run params: those passed, then the defaults
    of the others, minus *unlogged*."""
    parameters = [p for p in inspect.signature(function).parameters.values() if p.name != "self"]
    values: dict[str, Any] = {p.name: v for p, v in zip(parameters, args, strict=False)}
    values.update(kwargs)
    for p in parameters[len(args) :]:
        if p.name not in kwargs and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            values[p.name] = p.default
    return {k: v for k, v in values.items() if k not in unlogged}


@dataclass
class InputExample:
    """The first rows of a dataset's data, or why they could not be kept."""

    example: Any = None
    error: str | None = None

    def get(self) -> Any:
        if self.error is not None:
            raise ValueError(self.error)
        return self.example


def capture_input_example(data: Any) -> InputExample:
    try:
        if isinstance(data, str | os.PathLike):
            raise ValueError("cannot gather example input when dataset is loaded from a file.")
        return InputExample(example=copy.deepcopy(data[:INPUT_EXAMPLE_ROWS]))
    except Exception as exc:
        return InputExample(error=str(exc))


def example_and_signature(
    integration: str,
    get_example: Callable[[], Any],
    infer: Callable[[Any], ModelSignature],
) -> tuple[Any, ModelSignature | bool | None]:
    """The input example and signature to log the model with, per ``log_input_examples`` and
    ``log_model_signatures`` (MLflow's rules, and its warnings when either cannot be had)."""
    log_examples = bool(get_autologging_config(integration, "log_input_examples", False))
    log_signatures = bool(get_autologging_config(integration, "log_model_signatures", True))
    example: Any = None
    example_error: str | None = None
    if log_examples or log_signatures:
        try:
            example = get_example()
        except Exception as exc:
            example_error = str(exc)
    signature: ModelSignature | bool | None = None
    signature_error: str | None = None
    if log_signatures:
        try:
            if example is None:
                raise ValueError(f"could not sample data to infer model signature: {example_error}")
            signature = infer(example)
        except Exception as exc:
            signature_error = str(exc)
    if signature is None and example is not None and (not log_signatures or signature_error):
        signature = False  # no inference from the example when logging the model either
    if log_examples and example_error is not None:
        log_warning(integration, f"Failed to gather input example: {example_error}")
    if log_signatures and signature_error is not None:
        log_warning(integration, f"Failed to infer model signature: {signature_error}")
    return (example if log_examples else None), signature


_run_override: ContextVar[str | None] = ContextVar("mltrail_boosting_run", default=None)


def active_run_id() -> str:
    override = _run_override.get()
    if override is not None:
        return override
    run = _fluent.active_run()
    if run is None:  # safe_patch(manage_run=True) has started one
        raise RuntimeError("no active run")
    return run.info.run_id


# -- metrics ---------------------------------------------------------------------------------


class MetricRecorder:
    """Logs each iteration's evaluation results (step = iteration) and keeps them for the
    early-stopping metrics.  A failure is reported once and never reaches the training loop.

    With *model_id* (the logged model autologging made before training, as MLflow 3 does)
    every value is also linked to that model; those points are written in batches, the last
    by :meth:`flush`.
    """

    def __init__(self, integration: str, run_id: str, model_id: str | None = None) -> None:
        self.integration = integration
        self.run_id = run_id
        self.model_id = model_id
        self.results: list[dict[str, float]] = []
        self._failed = False
        self._linked: list[LoggedModelMetric] = []

    @staticmethod
    def sanitize(metrics: Mapping[str, V]) -> dict[str, V]:
        """Metric names as MLflow logs them: ``@`` (as in ``ndcg@3``) becomes ``_at_``."""
        return {k.replace("@", "_at_"): v for k, v in metrics.items()}

    def record(self, values: dict[str, float], step: int) -> None:
        try:
            self.results.append(values)
            if not self._failed:
                self._log(values, step)
        except Exception as exc:
            if not self._failed:
                self._failed = True
                log_warning(
                    self.integration,
                    f"autologging ({self.integration}) could not log the metrics of "
                    f"iteration {step}: {type(exc).__name__}: {exc}",
                )

    def _log(self, values: Mapping[str, float], step: int, dataset: Any = None) -> None:
        if self.model_id is None:
            _fluent.log_metrics(values, step=step, run_id=self.run_id, dataset=dataset)
            return
        self._linked.extend(linked_points(self.run_id, values, step, self.model_id, dataset))
        if len(self._linked) >= _LINKED_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the values linked to the model that are still buffered."""
        points, self._linked = self._linked, []
        write_linked_points(self.run_id, points)

    def log_early_stopping(
        self, stopped: int, best: int, best_index: int, dataset: Any = None
    ) -> None:
        """``stopped_iteration`` and ``best_iteration`` (step 0), then the results of the best
        iteration again at the step after the last one (measured on *dataset*, when given)."""
        self._log({"stopped_iteration": stopped, "best_iteration": best}, 0, dataset)
        if 0 <= best_index < len(self.results):
            self._log(self.results[best_index], len(self.results), dataset)
        self.flush()


# -- datasets --------------------------------------------------------------------------------


def log_dataset(integration: str, data: Any, targets: Any, name: str | None, context: str) -> Any:
    """Log *data* (a DataFrame, a sparse matrix or an array) as a run input of *context*: the
    dataset logged, or None (with a warning) for a type that cannot be described."""
    import numpy as np  # the frameworks depend on NumPy; mltrail does not

    if type(data).__module__.split(".")[0] == "pandas" and hasattr(data, "columns"):
        dataset: Any = from_pandas(df=data, source=_code_source(), name=name)
    elif hasattr(data, "toarray") and type(data).__module__.startswith("scipy.sparse"):
        if targets is not None and hasattr(targets, "toarray"):
            targets = targets.toarray()
        dataset = from_numpy(data.toarray(), source=_code_source(), targets=targets, name=name)
    elif isinstance(data, np.ndarray):
        dataset = from_numpy(data, source=_code_source(), targets=targets, name=name)
    else:
        log_warning(
            integration, f"Unrecognized dataset type {type(data)}. Dataset logging skipped."
        )
        return None
    _fluent.log_input(dataset, context=context, run_id=active_run_id())
    return dataset


def _code_source() -> CodeDatasetSource:
    return CodeDatasetSource.from_current_code()


# -- feature importance ----------------------------------------------------------------------


def log_feature_importance(
    integration: str,
    importances: Mapping[str, tuple[Sequence[str], Any, Mapping[str, Any]]],
    json_indent: int | None,
) -> None:
    """For each importance type: ``feature_importance_{type}.json`` (the mapping) and a bar
    plot ``feature_importance_{type}.png`` of (features, values), values being one per feature
    or one row of per-class values per feature.  One upload for all files, written by the
    background worker (drawing costs more than training a small model); reads wait for it."""
    _background.submit(
        functools.partial(_write_importance, integration, importances, json_indent, active_run_id())
    )


def _write_importance(
    integration: str,
    importances: Mapping[str, tuple[Sequence[str], Any, Mapping[str, Any]]],
    json_indent: int | None,
    run_id: str,
) -> None:
    with tempfile.TemporaryDirectory(prefix="mltrail-importance-") as tmp:
        for kind, (features, values, mapping) in importances.items():
            try:
                _plot_importance(
                    os.path.join(tmp, f"feature_importance_{kind}.png"), features, values, kind
                )
            except ImportError:
                _logger.debug("matplotlib is not installed: no feature importance plot")
            except Exception as exc:
                log_warning(
                    integration,
                    f"Failed to log feature importance plot ({kind}): {type(exc).__name__}: {exc}",
                )
            with open(os.path.join(tmp, f"feature_importance_{kind}.json"), "w") as f:
                json.dump(dict(mapping), f, indent=json_indent)
        try:
            _fluent.log_artifacts(tmp, run_id=run_id)
        except Exception as exc:
            log_warning(integration, f"Failed to log feature importance: {exc}")


def _plot_importance(path: str, features: Sequence[str], values: Any, kind: str) -> None:
    import numpy as np

    # The `plots` extra.  A Figure on its own Agg canvas: no pyplot, no global state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if len(features) == 0:
        raise ValueError("the model has no feature importance (no split was made)")
    names = np.array(features)
    matrix = np.array(values, dtype=float)
    if matrix.ndim <= 1:
        order = np.argsort(matrix)
        names, matrix, per_class = names[order], matrix[order].reshape(-1, 1), False
    else:
        order = np.argsort(np.abs(matrix).sum(axis=1))
        names, matrix, per_class = names[order], matrix[order], True
    n_features, n_classes = len(names), matrix.shape[1]
    height = (
        4.8
        + (0.1 * n_features if n_features > 10 else 0)
        + (0.1 * n_classes if n_classes > 1 else 0)
    )
    figure = Figure(figsize=(6.4, height))
    _fit_margins(figure, FigureCanvasAgg(figure), [str(n) for n in names], height)
    ax = figure.subplots()
    offsets = np.linspace(-0.5, 0.5, n_classes) / 2 if n_classes > 1 else np.zeros(1)
    bar_height = 0.5 / max(n_classes - 1, 1)
    rows = np.arange(n_features)
    for klass in range(n_classes):
        ax.barh(
            rows + offsets[klass],
            matrix[:, klass],
            align="center",
            height=bar_height,
            label=f"Class {klass}" if per_class else None,
        )
    ax.set_yticks(rows)
    ax.set_yticklabels(names)
    ax.set_xlabel("Importance")
    ax.set_title(f"Feature Importance ({kind})")
    if per_class:
        ax.legend()
    figure.savefig(path)


def _fit_margins(figure: Any, canvas: Any, labels: list[str], height: float) -> None:
    """Margins that fit the feature names, measured once (``tight_layout`` measures every
    tick label and costs a third of the plot)."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties

    renderer = canvas.get_renderer()
    font = FontProperties(size=rcParams["ytick.labelsize"])
    longest = sorted(labels, key=len)[-3:]
    width = max(renderer.get_text_width_height_descent(t, font, ismath=False)[0] for t in longest)
    dpi, inches = figure.dpi, figure.get_figwidth()
    figure.subplots_adjust(
        left=min(0.6, (width / dpi + 0.25) / inches),
        right=1 - 0.25 / inches,
        bottom=0.6 / height,
        top=1 - 0.4 / height,
    )


# -- the scikit-learn API --------------------------------------------------------------------


def patch_library(
    integration: str,
    framework: ModuleType,
    data_class: type,
    data_init: Callable[..., Any],
    train: Callable[..., Any],
    estimators: Sequence[type],
    log_sklearn_model: Callable[..., Any],
) -> None:
    """Patch a boosting library: its data class's ``__init__`` (to keep an input example), its
    ``train`` (logging the booster as the model) and the scikit-learn API's ``train`` (whose
    ``fit``, patched with *log_sklearn_model*, logs the estimator itself as the model).
    *train* is called as ``train(logs_model, original, *args, **kwargs)``."""
    safe_patch(integration, data_class, "__init__", data_init)
    for owner, logs_model in ((framework, True), (framework.sklearn, False)):
        safe_patch(
            integration, owner, "train", functools.partial(train, logs_model), manage_run=True
        )
    patch_sklearn_fit(integration, estimators, log_sklearn_model)


def patch_sklearn_fit(
    integration: str,
    classes: Sequence[type],
    log_model: Callable[[Any, Any, ModelSignature | bool | None], str | None],
) -> None:
    """Patch ``fit`` (and ``fit_transform``/``fit_predict`` where defined) of the framework's
    scikit-learn estimators: the outermost fit starts the run (the ``train`` call inside logs
    params, metrics, datasets and importances) and logs the fitted estimator as the model
    (*log_model* returns its id, to which later metrics of its predictions are linked)."""

    def fit(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
        with training_session(self, allow_children=True) as logs:
            if not logs:
                return original(self, *args, **kwargs)
            x = args[0] if args else kwargs.get("X")
            example = (
                capture_input_example(x)
                if x is not None
                else InputExample(error="the training data X was not found")
            )
            result = original(self, *args, **kwargs)
            model_id = None
            if get_autologging_config(integration, "log_models", True):
                example_value, signature = example_and_signature(
                    integration,
                    example.get,
                    lambda data: infer_signature(data, self.predict(copy.deepcopy(data))),
                )
                model_id = log_model(self, example_value, signature)
            # for what predict and score see after
            register_model(self, active_run_id(), model_id)
            return result

    for cls in classes:
        for name in ("fit", "fit_transform", "fit_predict"):
            if callable(getattr(cls, name, None)):
                safe_patch(integration, cls, name, fit, manage_run=True)
        for name in ("predict", "predict_proba"):
            if callable(getattr(cls, name, None)):
                safe_patch(integration, cls, name, functools.partial(_predict, integration, name))
        if callable(getattr(cls, "score", None)):
            safe_patch(integration, cls, "score", _score)
    if classes and importlib.util.find_spec("sklearn") is not None:
        # scikit-learn is optional beside XGBoost and LightGBM; with it, metric calls on the
        # predictions of these models are logged, as MLflow's XGBoost and LightGBM autologging do
        from mltrail.tracking.autolog import _sklearn_metric_calls

        _sklearn_metric_calls.patch_metric_functions(integration)


# -- after training: what MLflow's scikit-learn machinery records for these estimators --------


def _predict(
    integration: str, method: str, original: Callable[..., Any], self: Any, *args: Any, **kw: Any
) -> Any:
    """A prediction of an autologged estimator: its input is the run's evaluation dataset
    (logged once), and its result is known to ``sklearn.metrics`` calls (post-training
    metrics, when scikit-learn autologging is on too)."""
    run_id = run_of(self)
    session = active_session()
    if run_id is None or post_training_off(session):
        return original(self, *args, **kw)
    assert session is not None
    with flag(session, QUIET):  # what predict calls inside is not logged
        result = original(self, *args, **kw)
    data = args[0] if args else kw.get("X", kw.get("data"))
    register_prediction(result, dataset_for_prediction(self, run_id, data), run_id, self)
    key = (run_id, id(data))
    if (
        data is not None
        and get_autologging_config(integration, "log_datasets", True)
        and key not in _eval_logged
    ):
        _eval_logged.add(key)
        with _in_run(run_id):
            try:
                log_dataset(integration, data, None, None, "eval")
            except Exception as exc:
                log_warning(
                    integration,
                    f"Failed to log evaluation dataset information to MLflow Tracking: {exc}",
                )
    return result


_eval_logged: set[tuple[str, int]] = set()


def _score(original: Callable[..., Any], self: Any, *args: Any, **kw: Any) -> Any:
    """``model.score(X, y)`` of an autologged estimator: ``{Class}_score_{dataset}``."""
    run_id = run_of(self)
    session = active_session()
    if run_id is None or post_training_off(session):
        return original(self, *args, **kw)
    assert session is not None
    with flag(session, QUIET):  # the accuracy_score inside score is not logged on its own
        value = original(self, *args, **kw)
    if is_loggable(value):
        name = type(self).__name__
        data = args[0] if args else kw.get("X")
        command = call_command(self.score, f"{name}.score", args, kw)
        dataset = dataset_for_prediction(self, run_id, data)
        log_metric_call(run_id, f"{name}_score", dataset, command, value, logged_model_of(self))
    return value


@contextlib.contextmanager
def _in_run(run_id: str) -> Iterator[None]:
    """Log into *run_id* (the estimator's run), active or not."""
    token = _run_override.set(run_id)
    try:
        yield
    finally:
        _run_override.reset(token)
