"""Models: the ``MLmodel`` format, signatures, input examples and environments.

A model directory is MLflow's: ``MLmodel`` (flavors, signature, input example info),
``requirements.txt``, ``python_env.yaml``, ``conda.yaml``, ``input_example.json``,
``serving_input_example.json`` and the flavor's own files.  Flavors live in
``mltrail.<flavor>`` (``sklearn``, ``xgboost``, ``lightgbm``, ``catboost``, ``pytorch``,
``onnx``, ``pyfunc``); every one of them also loads as a generic Python function through
:func:`mltrail.pyfunc.load_model`.

Importing this package loads the standard library only; numpy, pandas and YAML are imported
when data is inspected or a file is read or written.

MLflow's evaluation names (``evaluate``, ``make_metric``, ``MetricThreshold``, ...) live in
:mod:`mltrail.evaluation`, above this layer (they log to runs), and are re-exported here on
first use.
"""

import importlib
from typing import Any

from mltrail.models import signature
from mltrail.models._example import read_input_example
from mltrail.models._info import (
    convert_input_example_to_serving_input,
    get_model_info,
    set_signature,
    validate_schema,
)
from mltrail.models._model import Model, ModelInfo
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
    }
)


def __getattr__(name: str) -> Any:
    if name in _EVALUATION_NAMES:
        from mltrail import evaluation

        if name == "evaluation":  # MLflow's module path, a facade over mltrail.evaluation
            return importlib.import_module(f"{__name__}.evaluation")
        value = getattr(evaluation, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _EVALUATION_NAMES)


__all__ = [
    "ColSpec",
    "DataType",
    "EvaluationArtifact",
    "EvaluationMetric",
    "EvaluationResult",
    "MetricThreshold",
    "Model",
    "ModelInfo",
    "ModelSignature",
    "ParamSchema",
    "ParamSpec",
    "Schema",
    "TensorSpec",
    "convert_input_example_to_serving_input",
    "evaluate",
    "get_model_info",
    "infer_signature",
    "list_evaluators",
    "make_metric",
    "read_input_example",
    "set_signature",
    "signature",
    "validate_schema",
]
