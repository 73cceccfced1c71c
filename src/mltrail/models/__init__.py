"""Models: the ``MLmodel`` format, signatures, input examples and environments.

A model directory is MLflow's: ``MLmodel`` (flavors, signature, input example info),
``requirements.txt``, ``python_env.yaml``, ``conda.yaml``, ``input_example.json``,
``serving_input_example.json`` and the flavor's own files.  Flavors live in
``mltrail.<flavor>`` (``sklearn``, ``xgboost``, ``lightgbm``, ``pytorch``, ``onnx``,
``pyfunc``); every one of them also loads as a generic Python function through
:func:`mltrail.pyfunc.load_model`.

Importing this package loads the standard library only; numpy, pandas and YAML are imported
when data is inspected or a file is read or written.
"""

from mltrail.models import signature
from mltrail.models._example import read_input_example
from mltrail.models._model import Model, ModelInfo
from mltrail.models._schema import ColSpec, DataType, ParamSchema, ParamSpec, Schema, TensorSpec
from mltrail.models._signature import ModelSignature, infer_signature

__all__ = [
    "ColSpec",
    "DataType",
    "Model",
    "ModelInfo",
    "ModelSignature",
    "ParamSchema",
    "ParamSpec",
    "Schema",
    "TensorSpec",
    "infer_signature",
    "read_input_example",
    "signature",
]
