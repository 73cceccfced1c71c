"""Models: the ``MLmodel`` format, signatures, input examples and environments.

A model directory is MLflow's: ``MLmodel`` (flavors, signature, input example info),
``requirements.txt``, ``python_env.yaml``, ``conda.yaml``, ``input_example.json``,
``serving_input_example.json`` and the flavor's own files.  Flavors live in
``mltrail.<flavor>`` (``sklearn``, ``xgboost``, ``lightgbm``, ``catboost``, ``keras``,
``pytorch``, ``transformers``, ``onnx``, ``pyfunc``); every one of them also loads as a generic
Python function through :func:`mltrail.pyfunc.load_model`.

Importing this package loads the standard library only; numpy, pandas and YAML are imported
when data is inspected or a file is read or written.

MLflow's evaluation names (``evaluate``, ``make_metric``, ``MetricThreshold``, ...) live in
:mod:`mltrail.evaluation`, above this layer (they log to runs), and are re-exported here on
first use.
"""

import importlib
from typing import Any

from mltrail.models import signature
from mltrail.models._code_model import ModelConfig, set_model
from mltrail.models._example import read_input_example
from mltrail.models._flavor_backend import FlavorBackend
from mltrail.models._info import (
    convert_input_example_to_serving_input,
    get_model_info,
    set_signature,
    validate_schema,
)
from mltrail.models._model import Model, ModelInfo, ModelInputExample
from mltrail.models._requirements import infer_pip_requirements, update_model_requirements
from mltrail.models._schema import ColSpec, DataType, ParamSchema, ParamSpec, Schema, TensorSpec
from mltrail.models._signature import ModelSignature, infer_signature

# MLflow's mlflow.models names that mltrail.evaluation defines, loaded on first access.
_EVALUATION_NAMES = frozenset(
    {
        "EvaluationArtifact",
        "EvaluationMetric",
        "EvaluationResult",
        "MetricThreshold",
        "evaluate",
        "evaluation",
        "list_evaluators",
        "make_metric",
        "predict",
    }
)

# MLflow's mlflow.models names that score or package a model: they share the scoring server's
# input rules and Docker build context (mltrail.serving), loaded on first access.
_SERVING_NAMES = frozenset({"build_docker", "predict", "validate_serving_input"})


# MLflow's mlflow.models names that log to runs and register versions (the tracking layer,
# above this one), loaded on first access.
_TRACKING_NAMES = frozenset({"add_libraries_to_model"})


def __getattr__(name: str) -> Any:
    if name in _TRACKING_NAMES:
        from mltrail.tracking import _wheeled_model

        value = getattr(_wheeled_model, name)
        globals()[name] = value
        return value
    if name in _SERVING_NAMES:
        from mltrail.serving import _model_api

        value = getattr(_model_api, name)
        globals()[name] = value
        return value
    if name in _EVALUATION_NAMES:
        from mltrail import evaluation

        if name == "evaluation":  # MLflow's module path, a facade over mltrail.evaluation
            return importlib.import_module(f"{__name__}.evaluation")
        value = getattr(evaluation, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _EVALUATION_NAMES | _SERVING_NAMES | _TRACKING_NAMES)


__all__ = [
    "ColSpec",
    "DataType",
    "EvaluationArtifact",
    "EvaluationMetric",
    "EvaluationResult",
    "FlavorBackend",
    "MetricThreshold",
    "Model",
    "ModelConfig",
    "ModelInfo",
    "ModelInputExample",
    "ModelSignature",
    "ParamSchema",
    "ParamSpec",
    "Schema",
    "TensorSpec",
    "add_libraries_to_model",
    "build_docker",
    "convert_input_example_to_serving_input",
    "evaluate",
    "get_model_info",
    "infer_pip_requirements",
    "infer_signature",
    "list_evaluators",
    "make_metric",
    "predict",
    "read_input_example",
    "set_model",
    "set_signature",
    "signature",
    "update_model_requirements",
    "validate_schema",
    "validate_serving_input",
]
