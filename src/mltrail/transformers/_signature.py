"""Signatures of transformers pipelines, as MLflow infers them.

With an input example, the pipeline predicts on it through the python_function wrapper and
the signature is inferred from the example, the prediction and the example's params; without
one (or when that prediction fails), each task has MLflow's default signature.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from mltrail._exceptions import InvalidArgument, MltrailError
from mltrail._optional import require
from mltrail.models._example import split_example
from mltrail.models._schema import ColSpec, DataType, Schema, TensorSpec
from mltrail.models._signature import ModelSignature, infer_signature
from mltrail.transformers._pyfunc import TransformersPyfunc

__all__ = [
    "default_signature",
    "format_input_example_for_special_cases",
    "generate_signature_output",
    "infer_or_get_default_signature",
]

_log = logging.getLogger(__name__)


def _strings_to_strings() -> ModelSignature:
    return ModelSignature(Schema([ColSpec(DataType.string)]), Schema([ColSpec(DataType.string)]))


def _classification() -> ModelSignature:
    return ModelSignature(
        Schema([ColSpec(DataType.string)]),
        Schema([ColSpec(DataType.string, "label"), ColSpec(DataType.double, "score")]),
    )


def _named(inputs: list[tuple[str, DataType]], outputs: Schema) -> ModelSignature:
    return ModelSignature(Schema([ColSpec(dtype, name) for name, dtype in inputs]), outputs)


def default_signature(task: str | None) -> ModelSignature | None:
    """MLflow's default signature of *task*, or None for a task it has none for."""
    import numpy as np

    string, double, binary = DataType.string, DataType.double, DataType.binary
    if task and task.startswith("translation_"):
        task = "translation"
    if task in (
        "token-classification",
        "translation",
        "text-generation",
        "text2text-generation",
        "conversational",
        "fill-mask",
        "summarization",
    ):
        return _strings_to_strings()
    if task in ("text-classification", "image-classification"):
        return _classification()
    if task == "zero-shot-classification":
        outputs = Schema(
            [ColSpec(string, "sequence"), ColSpec(string, "labels"), ColSpec(double, "scores")]
        )
        inputs = [("sequences", string), ("candidate_labels", string)]
        return _named([*inputs, ("hypothesis_template", string)], outputs)
    if task == "automatic-speech-recognition":
        return ModelSignature(Schema([ColSpec(binary)]), Schema([ColSpec(string)]))
    if task == "audio-classification":
        outputs = Schema([ColSpec(double, "score"), ColSpec(string, "label")])
        return ModelSignature(Schema([ColSpec(binary)]), outputs)
    if task == "table-question-answering":
        return _named([("query", string), ("table", string)], Schema([ColSpec(string)]))
    if task == "question-answering":
        return _named([("question", string), ("context", string)], Schema([ColSpec(string)]))
    if task == "feature-extraction":
        outputs = Schema([TensorSpec(np.dtype("float64"), (-1,), "double")])
        return ModelSignature(Schema([ColSpec(string)]), outputs)
    return None


def format_input_example_for_special_cases(input_example: Any, pipeline: Any) -> Any:
    """The example as the python_function sees it: a zero-shot classification example's
    list of candidate labels is JSON-encoded (a string column)."""
    data, params = split_example(input_example)
    if (
        getattr(pipeline, "task", None) == "zero-shot-classification"
        and isinstance(data, dict)
        and isinstance(data.get("candidate_labels"), list)
    ):
        data = {**data, "candidate_labels": json.dumps(data["candidate_labels"])}
    return data if params is None else (data, params)


def generate_signature_output(
    pipeline: Any,
    data: Any,
    model_config: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    flavor_config: dict[str, Any] | None = None,
) -> Any:
    """The python_function output of *pipeline* on *data* (the output half of a signature)."""
    transformers = require("transformers")
    if not isinstance(pipeline, transformers.Pipeline):
        raise InvalidArgument(
            f"Invalid pipeline of type {type(pipeline).__name__}: expected a transformers "
            "Pipeline (not a model or a dict of components)"
        )
    wrapper = TransformersPyfunc(pipeline, flavor_config, model_config)
    return wrapper.predict(data, params=params)


def infer_or_get_default_signature(
    pipeline: Any,
    example: Any = None,
    model_config: dict[str, Any] | None = None,
    flavor_config: dict[str, Any] | None = None,
) -> ModelSignature | None:
    """The signature inferred from *example* and the pipeline's prediction on it, else the
    task's default (None, with a warning, for a task that has none)."""
    if example is not None:
        data, params = split_example(format_input_example_for_special_cases(example, pipeline))
        try:
            output = generate_signature_output(pipeline, data, model_config, params, flavor_config)
            return infer_signature(data, output, params)
        except (MltrailError, ValueError, TypeError, KeyError, IndexError, RuntimeError) as exc:
            _log.warning(
                "Could not infer the signature from the input example (%s); using the "
                "default signature of the pipeline's task",
                exc,
            )
    task = getattr(pipeline, "task", None)
    signature = default_signature(task)
    if signature is None:
        _log.warning(
            "No default signature for task %r: pass an input_example or a signature to record one",
            task,
        )
    return signature
