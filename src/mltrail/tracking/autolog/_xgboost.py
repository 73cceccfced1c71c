"""XGBoost autologging: what ``mlflow.xgboost.autolog`` records, for ``xgboost.train`` and
the scikit-learn API (``XGBClassifier``, ``XGBRegressor``, ...).

``xgboost.train`` logs the booster's params and ``train``'s own arguments, the datasets, the
evaluation results of each iteration (``<eval name>-<metric>``, step = iteration), with early
stopping ``stopped_iteration``, ``best_iteration`` and the best iteration's results again at
the next step, the feature importances of each of ``importance_types`` and the model.  The
scikit-learn API's ``fit`` starts the run; the ``train`` call inside it logs all of that but
the model, which ``fit`` logs as the fitted estimator.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

import xgboost

from mltrail.models import infer_signature
from mltrail.tracking import _fluent
from mltrail.tracking.autolog._boosting import (
    ENSURE_AUTOLOGGING_ENABLED,
    MetricRecorder,
    active_run_id,
    capture_input_example,
    current_training_logs,
    example_and_signature,
    fit_params,
    log_dataset,
    log_feature_importance,
    patch_library,
    start_logged_model,
)
from mltrail.tracking.autolog._config import get_autologging_config
from mltrail.tracking.autolog._safety import log_warning
from mltrail.xgboost import log_model as log_xgboost_model

__all__ = ["patch"]

INTEGRATION = "xgboost"
#: ``train`` arguments that are not run params (data, functions, callbacks).
_UNLOGGED = (
    "params",
    "dtrain",
    "evals",
    "obj",
    "feval",
    "evals_result",
    "xgb_model",
    "callbacks",
    "learning_rates",
)
#: Where the DMatrix keeps the first rows of its data (it cannot give them back).
_EXAMPLE_ATTRIBUTE = "_mltrail_input_example"


def _config(key: str, default: Any = None) -> Any:
    return get_autologging_config(INTEGRATION, key, default)


class _Callback(xgboost.callback.TrainingCallback):  # type: ignore[misc]
    """Records each iteration's evaluation results; never stops nor breaks training."""

    def __init__(self, recorder: MetricRecorder) -> None:
        super().__init__()
        self.recorder = recorder

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
        try:
            values = {
                f"{data}-{metric}": history[-1]
                for data, metrics in evals_log.items()
                for metric, history in MetricRecorder.sanitize(metrics).items()
            }
        except Exception as exc:
            log_warning(INTEGRATION, f"autologging could not read the evaluation log: {exc}")
            return False
        self.recorder.record(values, epoch)
        return False


def _dmatrix_init(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    data = args[0] if args else kwargs.get("data")
    if data is not None:
        setattr(self, _EXAMPLE_ATTRIBUTE, capture_input_example(data))
    return original(self, *args, **kwargs)


def _log_datasets(dtrain: Any, evals: Any) -> Any:
    """Log the training and evaluation sets as run inputs: the training set's dataset, or
    None when it could not be logged."""
    try:
        dataset = log_dataset(INTEGRATION, dtrain.get_data(), None, None, "train")
        if dataset is None:
            return None
        for dmatrix, name in evals or ():
            log_dataset(INTEGRATION, dmatrix.get_data(), None, name, "eval")
        return dataset
    except Exception as exc:
        log_warning(
            INTEGRATION, f"Failed to log dataset information to MLflow Tracking. Reason: {exc}"
        )
        return None


def _with_callback(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any], callback: Any
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments of ``train`` with *callback* after the caller's callbacks (whose list is
    not changed)."""
    index = list(signature.parameters).index("callbacks")
    if len(args) > index:
        return (*args[:index], [*(args[index] or ()), callback], *args[index + 1 :]), kwargs
    return args, {**kwargs, "callbacks": [*(kwargs.get("callbacks") or ()), callback]}


def _train(
    train_function: Callable[..., Any],
    log_models: bool,  # False for the scikit-learn API's train: its fit logs the model
    original: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> Any:
    if not current_training_logs():
        return original(*args, **kwargs)
    run_id = active_run_id()
    signature = inspect.signature(train_function)
    booster_params = args[0] if args else kwargs["params"]
    _fluent.log_params(dict(booster_params), run_id=run_id)
    _fluent.log_params(fit_params(train_function, args, kwargs, _UNLOGGED), run_id=run_id)
    dtrain = args[1] if len(args) > 1 else kwargs.get("dtrain")
    dataset = None
    if _config("log_datasets", True) and dtrain is not None:
        dataset = _log_datasets(dtrain, kwargs.get("evals"))

    logs_model = log_models and bool(_config("log_models", True))
    model_id = start_logged_model(run_id) if logs_model else None
    recorder = MetricRecorder(INTEGRATION, run_id, model_id)
    args, kwargs = _with_callback(signature, args, kwargs, _Callback(recorder))
    try:
        model = original(*args, **kwargs)
    finally:
        recorder.flush()

    if logs_model:
        _log_booster(model, getattr(dtrain, _EXAMPLE_ATTRIBUTE, None), model_id)
    early_stopping_index = list(signature.parameters).index("early_stopping_rounds")
    if (len(args) > early_stopping_index or kwargs.get("early_stopping_rounds")) and (
        recorder.results
    ):
        # Measured on the training set, as MLflow records them.
        recorder.log_early_stopping(
            len(recorder.results) - 1, model.best_iteration, model.best_iteration, dataset
        )
    _fluent.flush()  # a store that refuses the values is reported here, not at end_run;
    # the importance files are written in the background
    _log_importance(model)
    return model


def _log_booster(model: Any, example: Any, model_id: str | None) -> None:
    def get_example() -> Any:
        if example is None:
            raise ValueError(ENSURE_AUTOLOGGING_ENABLED)
        return example.get()

    input_example, signature = example_and_signature(
        INTEGRATION,
        get_example,
        lambda data: infer_signature(data, model.predict(xgboost.DMatrix(data))),
    )
    _log_sklearn_model(model, input_example, signature, model_id)


def _log_sklearn_model(
    model: Any, input_example: Any, signature: Any, model_id: str | None = None
) -> str | None:
    """Log the trained model (into *model_id* when made before training): its model id."""
    return log_xgboost_model(
        model,
        "model",
        signature=signature,
        input_example=input_example,
        registered_model_name=_config("registered_model_name"),
        model_format=_config("model_format", "ubj"),
        model_id=model_id,
    ).model_id


def _log_importance(model: Any) -> None:
    importances: dict[str, tuple[list[str], list[Any], dict[str, Any]]] = {}
    for kind in _config("importance_types") or ["weight"]:
        try:
            score = model.get_score(importance_type=kind)
        except Exception as exc:
            log_warning(
                INTEGRATION,
                f"Failed to log feature importance ({kind}): {type(exc).__name__}: {exc}",
            )
            continue
        importances[kind] = (list(score), list(score.values()), score)
    if importances:
        log_feature_importance(INTEGRATION, importances, json_indent=None)


def _sklearn_estimators(framework: ModuleType) -> list[type]:
    base = framework.sklearn.XGBModel
    return [
        cls
        for _, cls in inspect.getmembers(framework.sklearn, inspect.isclass)
        if issubclass(cls, base) and cls is not base
    ]


def patch(framework: ModuleType) -> None:
    """Patch ``xgboost.train``, the scikit-learn API's ``train`` and ``fit`` methods, and
    ``DMatrix.__init__`` (to keep an input example)."""
    train_function = framework.training.train
    patch_library(
        INTEGRATION,
        framework,
        framework.DMatrix,
        _dmatrix_init,
        functools.partial(_train, train_function),
        _sklearn_estimators(framework),
        _log_sklearn_model,
    )
