"""What an autologged scikit-learn ``fit`` records, as MLflow's sklearn autologging does.

Before training: the params (``get_params(deep=True)``; shallow for a search, whose seed
estimator's untuned params are not the model's), the tags ``estimator_name`` and
``estimator_class``, and the training data as a dataset input (context ``train``).
After training: the model (``model``, with a signature inferred from the first rows of the
training data and the model's predictions, and that input example when asked), the training
metrics and plots (:mod:`._sklearn_metrics`), ``estimator.html``, and for a search its
results (:mod:`._sklearn_search`) and ``best_estimator`` model.

The training data is copied before ``fit`` (as MLflow does), so that metrics, the dataset
and the input example describe the data as it was given, whatever ``fit`` does to it.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

import mltrail.sklearn
from mltrail.data import CodeDatasetSource, Dataset, from_numpy, from_pandas
from mltrail.models import infer_signature
from mltrail.models._signature import ModelSignature
from mltrail.tracking import _fluent
from mltrail.tracking.autolog._config import get_autologging_config
from mltrail.tracking.autolog._safety import log_warning
from mltrail.tracking.autolog._sklearn_metrics import TRAINING_PREFIX, log_estimator_content
from mltrail.tracking.autolog._sklearn_search import (
    BestEstimator,
    estimator_tags,
    is_search,
    log_search_results,
)
from mltrail.validation import MAX_KEY_LENGTH, MAX_PARAM_VALUE_LENGTH

__all__ = ["INPUT_EXAMPLE_ROWS", "format_params", "log_fit", "make_dataset", "training_data"]

INTEGRATION = "sklearn"
INPUT_EXAMPLE_ROWS = 5


def _option(key: str, default: Any = None) -> Any:
    return get_autologging_config(INTEGRATION, key, default)


def _ellipsize(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Params as MLflow's autologging logs them: ``str`` values, keys cut at 250 characters
    and values at 6000, ellipsized, with a warning."""
    formatted: dict[str, str] = {}
    for key, value in params.items():
        name, text = str(key), str(value)
        if len(name) > MAX_KEY_LENGTH:
            name = _ellipsize(name, MAX_KEY_LENGTH)
            log_warning(INTEGRATION, f"Truncated the key `{name}`")
        if len(text) > MAX_PARAM_VALUE_LENGTH:
            text = _ellipsize(text, MAX_PARAM_VALUE_LENGTH)
            log_warning(INTEGRATION, f"Truncated the value of the key `{name}`.")
        formatted[name] = text
    return formatted


def training_data(
    estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, Any, Any]:
    """(X, y, sample_weight) of a ``fit`` call, X and y copied; named as ``fit`` names them."""
    names = list(inspect.signature(estimator.fit).parameters)
    x_name = names[0] if names else "X"
    y_name = names[1] if len(names) > 1 else "y"
    if len(args) >= 2:
        X, y = args[0], args[1]
    elif len(args) == 1:
        X, y = args[0], kwargs.get(y_name)
    else:
        X, y = kwargs[x_name], kwargs.get(y_name)
    sample_weight = None
    if "sample_weight" in names:
        index = names.index("sample_weight")
        sample_weight = args[index] if len(args) > index else kwargs.get("sample_weight")
    X = copy.deepcopy(X) if X is not None else None
    y = copy.deepcopy(y) if y is not None else None
    return X, y, sample_weight


def _is_sparse(value: Any) -> bool:
    """A scipy sparse matrix or array (scipy itself is not imported for it)."""
    return type(value).__module__.startswith("scipy.sparse") and hasattr(value, "toarray")


def make_dataset(X: Any, source: CodeDatasetSource, y: Any = None) -> Dataset | None:
    """The dataset MLflow records for *X* (and *y*): pandas, numpy or scipy sparse data."""
    if isinstance(X, pd.DataFrame):
        return from_pandas(X, source=source)
    if _is_sparse(X):
        X = X.toarray()
        if y is not None and _is_sparse(y):
            y = y.toarray()
    if isinstance(X, np.ndarray):
        return (
            from_numpy(X, source=source, targets=y)
            if y is not None
            else from_numpy(X, source=source)
        )
    log_warning(INTEGRATION, f"Unrecognized dataset type {type(X)}. Dataset logging skipped.")
    return None


def _example_and_signature(estimator: Any, X: Any) -> tuple[Any, ModelSignature | bool | None]:
    """(input example or None, signature / False / None) as MLflow's autologging resolves them:
    the signature is False (no inference from the example) when it was not wanted or failed."""
    log_example = bool(_option("log_input_examples", False))
    log_signature = bool(_option("log_model_signatures", True))
    if not (log_example or log_signature):
        return None, None
    example: Any = None
    example_error: str | None = None
    try:
        example = copy.deepcopy(X[:INPUT_EXAMPLE_ROWS])
    except Exception as exc:
        example_error = str(exc)
    signature: ModelSignature | bool | None = None
    signature_failed = False
    if log_signature:
        try:
            if example is None:
                raise ValueError(f"could not sample data to infer model signature: {example_error}")
            if hasattr(estimator, "predict"):
                output = estimator.predict(copy.deepcopy(example))
            elif hasattr(estimator, "transform"):
                output = estimator.transform(copy.deepcopy(example))
            else:
                raise ValueError(
                    "the trained model does not have a `predict` or `transform` function, "
                    "which is required in order to infer the signature"
                )
            signature = infer_signature(example, output)
        except Exception as exc:
            signature_failed = True
            log_warning(INTEGRATION, f"Failed to infer model signature: {exc}")
    if signature is None and example is not None and (not log_signature or signature_failed):
        signature = False
    if log_example and example_error is not None:
        log_warning(INTEGRATION, f"Failed to gather input example: {example_error}")
    return (example if log_example else None), signature


def _log_model(
    estimator: Any,
    name: str,
    example: Any,
    signature: Any,
    registered_model_name: str | None,
    params: dict[str, Any],
) -> str | None:
    """Log *estimator* as the logged model *name* carrying *params* (beside the run's, as
    MLflow 3 does); its model id, or None (with a warning) when it could not be logged."""
    try:
        info = mltrail.sklearn.log_model(
            estimator,
            name=name,
            signature=signature,
            input_example=example,
            serialization_format=_option("serialization_format", "cloudpickle"),
            registered_model_name=registered_model_name,
            params=params,
        )
    except Exception as exc:
        log_warning(
            INTEGRATION, f"The model '{name}' of {type(estimator).__name__} was not logged: {exc}"
        )
        return None
    return info.model_id


def log_fit(
    original: Callable[..., Any], estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, str | None]:
    """Train with ``original(estimator, *args, **kwargs)`` and log it all to the active run:
    what ``fit`` returned, and the id of the logged model (None when none was logged)."""
    active = _fluent.active_run()
    assert active is not None  # the framework started one (manage_run)
    run_id = active.info.run_id
    X, y, sample_weight = training_data(estimator, args, kwargs)
    search = is_search(estimator)

    _fluent.log_params(format_params(estimator.get_params(deep=not search)), run_id=run_id)
    _fluent.set_tags(estimator_tags(estimator))
    dataset: Dataset | None = None
    try:
        dataset = make_dataset(X, CodeDatasetSource.from_current_code(), y)
    except Exception as exc:
        log_warning(INTEGRATION, f"Failed to create the training dataset: {exc}")
    if dataset is not None and _option("log_datasets", True):
        try:
            _fluent.log_input(dataset, context="train", run_id=run_id)
        except Exception as exc:
            log_warning(
                INTEGRATION,
                f"Failed to log training dataset information to MLflow Tracking. Reason: {exc}",
            )

    result = original(estimator, *args, **kwargs)

    example: Any = None
    signature: Any = None
    model_id: str | None = None
    best: BestEstimator | None = None
    log_models = bool(_option("log_models", True))
    if log_models:
        example, signature = _example_and_signature(estimator, X)
        params = {**estimator.get_params(deep=not search), **_best_params(estimator)}
        model_id = _log_model(
            estimator, "model", example, signature, _option("registered_model_name"), params
        )
        if search and hasattr(estimator, "best_estimator_"):
            # Logged before the training metrics: MLflow queues those until the fit's end, so
            # the best estimator it logs links none of them (log_model links the run's values
            # at its step), and neither does this one.
            best_params = estimator.best_estimator_.get_params(deep=True)
            best_id = _log_model(
                estimator.best_estimator_, "best_estimator", example, signature, None, best_params
            )
            best = BestEstimator(best_id, best_params)

    # The training metrics are linked to the model (and the training set), as MLflow 3 does.
    metrics = log_estimator_content(
        run_id,
        estimator,
        TRAINING_PREFIX,
        X,
        y,
        sample_weight,
        _option("pos_label"),
        model_id=model_id,
        dataset=dataset,
    )
    if y is None and not metrics:
        log_warning(
            INTEGRATION,
            "Training metrics will not be recorded because training labels were not specified."
            " To automatically record training metrics, provide training labels as inputs to"
            " the model training function.",
        )
    if search:
        log_search_results(
            estimator,
            run_id,
            _option("max_tuning_runs", 5),
            dataset,
            format_params,
            model_id=model_id,
            best=best,
        )
    return result, model_id


def _best_params(estimator: Any) -> dict[str, Any]:
    """A search's best parameters as ``best_<name>`` (none for other estimators)."""
    return {f"best_{k}": v for k, v in (getattr(estimator, "best_params_", None) or {}).items()}
