"""MLflow's model helpers that read or amend a saved model: ``get_model_info``,
``set_signature``, ``validate_schema`` and ``convert_input_example_to_serving_input``."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.models._enforce import enforce_schema
from mltrail.models._example import serving_input
from mltrail.models._model import MLMODEL_FILE_NAME, Model, ModelInfo
from mltrail.models._schema import Schema
from mltrail.models._signature import ModelSignature
from mltrail.models._uri import upload_model_file

__all__ = [
    "convert_input_example_to_serving_input",
    "get_model_info",
    "set_signature",
    "validate_schema",
]


def get_model_info(model_uri: str) -> ModelInfo:
    """What the ``MLmodel`` at *model_uri* says (a local path or any model URI), as the
    ``ModelInfo`` that ``log_model`` returned."""
    return dataclasses.replace(Model.load(model_uri).get_model_info(), model_uri=model_uri)


def set_signature(model_uri: str, signature: ModelSignature) -> None:
    """Replace the signature in the ``MLmodel`` of the model at *model_uri* (a local directory,
    ``runs:/<run_id>/<path>`` or an artifact location; not a registered version)."""
    if not isinstance(signature, ModelSignature):
        raise InvalidArgument(
            f"Invalid signature {type(signature).__name__}: must be a ModelSignature "
            "(mltrail.models.infer_signature or ModelSignature(inputs, outputs))"
        )
    model = Model.load(model_uri)
    model.signature = signature
    with tempfile.TemporaryDirectory(prefix="mltrail-signature-") as tmp:
        local = os.path.join(tmp, MLMODEL_FILE_NAME)
        model.save(local)
        upload_model_file(model_uri, local)


def validate_schema(data: Any, expected_schema: Schema) -> None:
    """Raise InvalidArgument (naming the column and the rule) when *data* does not conform to
    *expected_schema*, as a model with that input schema would at ``predict``."""
    if not isinstance(expected_schema, Schema):
        raise InvalidArgument(
            f"Invalid expected_schema {type(expected_schema).__name__}: must be a Schema"
        )
    enforce_schema(data, expected_schema)


def convert_input_example_to_serving_input(input_example: Any) -> str | None:
    """The JSON a model server takes for *input_example* (``{"dataframe_split": ...}``,
    ``{"inputs": ...}``, with ``"params"`` for an ``(input, params)`` example); None for
    None."""
    if input_example is None:
        return None
    return json.dumps(serving_input(input_example))
