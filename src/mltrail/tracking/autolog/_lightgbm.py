"""LightGBM autologging: what ``mlflow.lightgbm.autolog`` records, for ``lightgbm.train`` and
the scikit-learn API (``LGBMClassifier``, ``LGBMRegressor``, ...).

``lightgbm.train`` logs the booster's params and ``train``'s own arguments, the datasets, the
evaluation results of each iteration (``<valid name>-<metric>``, step = iteration), with early
stopping ``stopped_iteration``, ``best_iteration`` and the best iteration's results again at
the next step, the ``split`` and ``gain`` feature importances and the model.  The
scikit-learn API's ``fit`` starts the run; the ``train`` call inside it logs all of that but
the model, which ``fit`` logs as the fitted estimator.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

from mltrail.lightgbm import log_model as log_lightgbm_model
from mltrail.models import infer_signature
from mltrail.tracking import _fluent
from mltrail.tracking.autolog._boosting import (
    ENSURE_AUTOLOGGING_ENABLED,
    MetricRecorder,
    active_run_id,
    capture_input_example,
    example_and_signature,
    fit_params,
    log_dataset,
    log_feature_importance,
    patch_library,
    start_logged_model,
    training_session,
)
from mltrail.tracking.autolog._config import get_autologging_config
from mltrail.tracking.autolog._safety import log_warning

__all__ = ["patch"]

INTEGRATION = "lightgbm"
#: ``train`` arguments that are not run params (data, functions, callbacks).
_UNLOGGED = (
    "params",
    "train_set",
    "valid_sets",
    "valid_names",
    "fobj",
    "feval",
    "init_model",
    "learning_rates",
    "callbacks",
)
#: Where the Dataset keeps the first rows of its data (freed once it is constructed).
_EXAMPLE_ATTRIBUTE = "_mltrail_input_example"
#: The training "estimator" of ``train`` calls: one inside another does not log.
_TRAIN = object()


def _config(key: str, default: Any = None) -> Any:
    return get_autologging_config(INTEGRATION, key, default)


class _Callback:
    """Records each iteration's evaluation results; never breaks training."""

    def __init__(self, recorder: MetricRecorder) -> None:
        self.recorder = recorder

    def __call__(self, env: Any) -> None:
        try:
            values = MetricRecorder.sanitize(
                {f"{entry[0]}-{entry[1]}": entry[2] for entry in env.evaluation_result_list}
            )
        except Exception as exc:
            log_warning(INTEGRATION, f"autologging could not read the evaluation results: {exc}")
            return
        self.recorder.record(values, env.iteration)


def _dataset_init(original: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    data = args[0] if args else kwargs.get("data")
    if data is not None:
        setattr(self, _EXAMPLE_ATTRIBUTE, capture_input_example(data))
    return original(self, *args, **kwargs)


def _log_datasets(train_set: Any, valid_sets: Any, valid_names: Any) -> None:
    try:
        log_dataset(INTEGRATION, train_set.data, train_set.label, None, "train")
        if valid_sets is not None:
            names = [None] * len(valid_sets) if valid_names is None else valid_names
            for dataset, name in zip(valid_sets, names, strict=False):
                log_dataset(INTEGRATION, dataset.data, dataset.label, name, "eval")
    except Exception as exc:
        log_warning(
            INTEGRATION, f"Failed to log dataset information to MLflow Tracking. Reason: {exc}"
        )


def _train(
    train_function: Callable[..., Any],
    log_models: bool,  # False for the scikit-learn API's train: its fit logs the model
    original: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> Any:
    with training_session(_TRAIN, allow_children=False) as logs:
        if not logs:
            return original(*args, **kwargs)
        return _train_and_log(train_function, log_models, original, args, kwargs)


def _train_and_log(
    train_function: Callable[..., Any],
    log_models: bool,  # False for the scikit-learn API's train: its fit logs the model
    original: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    run_id = active_run_id()
    names = list(inspect.signature(train_function).parameters)
    booster_params = args[0] if args else kwargs["params"]
    _fluent.log_params(dict(booster_params), run_id=run_id)
    _fluent.log_params(fit_params(train_function, args, kwargs, _UNLOGGED), run_id=run_id)
    train_set = args[1] if len(args) > 1 else kwargs.get("train_set")
    if _config("log_datasets", True) and train_set is not None:
        _log_datasets(train_set, kwargs.get("valid_sets"), kwargs.get("valid_names"))

    logs_model = log_models and bool(_config("log_models", True))
    model_id = start_logged_model(run_id) if logs_model else None
    recorder = MetricRecorder(INTEGRATION, run_id, model_id)
    callback = _Callback(recorder)
    index = names.index("callbacks")
    if len(args) > index:
        args = (*args[:index], [*(args[index] or ()), callback], *args[index + 1 :])
    else:
        kwargs = {**kwargs, "callbacks": [*(kwargs.get("callbacks") or ()), callback]}
    try:
        model = original(*args, **kwargs)
    finally:
        recorder.flush()

    if model.best_iteration > 0:  # early stopping (best_iteration counts from 1)
        recorder.log_early_stopping(
            len(recorder.results), model.best_iteration, model.best_iteration - 1
        )
    _fluent.flush()  # a store that refuses the values is reported here, not at end_run;
    # the importance files are written in the background
    features = model.feature_name()
    importances = {}
    for kind in ("split", "gain"):
        values = model.feature_importance(importance_type=kind)
        importances[kind] = (features, values, dict(zip(features, values.tolist(), strict=False)))
    log_feature_importance(INTEGRATION, importances, json_indent=2)
    if logs_model:
        _log_booster(model, getattr(train_set, _EXAMPLE_ATTRIBUTE, None), model_id)
    return model


def _log_booster(model: Any, example: Any, model_id: str | None) -> None:
    def get_example() -> Any:
        if example is None:
            raise ValueError(ENSURE_AUTOLOGGING_ENABLED)
        return example.get()

    input_example, signature = example_and_signature(
        INTEGRATION, get_example, lambda data: infer_signature(data, model.predict(data))
    )
    _log_sklearn_model(model, input_example, signature, model_id)


def _log_sklearn_model(
    model: Any, input_example: Any, signature: Any, model_id: str | None = None
) -> str | None:
    """Log the trained model (into *model_id* when made before training): its model id."""
    return log_lightgbm_model(
        model,
        "model",
        signature=signature,
        input_example=input_example,
        registered_model_name=_config("registered_model_name"),
        model_id=model_id,
    ).model_id


def _sklearn_estimators(framework: ModuleType) -> list[type]:
    base = getattr(framework.sklearn, "_LGBMModelBase", framework.sklearn.LGBMModel)
    return [
        cls
        for _, cls in inspect.getmembers(framework.sklearn, inspect.isclass)
        if cls.__module__.split(".")[0] == "lightgbm" and issubclass(cls, base) and cls is not base
    ]


def patch(framework: ModuleType) -> None:
    """Patch ``lightgbm.train``, the scikit-learn API's ``train`` and ``fit`` methods, and
    ``Dataset.__init__`` (to keep an input example)."""
    train_function = framework.engine.train
    patch_library(
        INTEGRATION,
        framework,
        framework.Dataset,
        _dataset_init,
        functools.partial(_train, train_function),
        _sklearn_estimators(framework),
        _log_sklearn_model,
    )
