"""ModelSignature: a model's input schema, output schema and inference params."""

from __future__ import annotations

import json
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.models._infer import infer_param_schema, infer_schema
from mltrail.models._schema import ParamSchema, Schema

__all__ = ["ModelSignature", "infer_signature"]


class ModelSignature:
    """What a model takes and returns.  Stored in ``MLmodel`` as JSON strings (MLflow's form)."""

    def __init__(
        self,
        inputs: Schema | None = None,
        outputs: Schema | None = None,
        params: ParamSchema | None = None,
    ) -> None:
        for what, value, cls in (
            ("inputs", inputs, Schema),
            ("outputs", outputs, Schema),
            ("params", params, ParamSchema),
        ):
            if value is not None and not isinstance(value, cls):
                raise InvalidArgument(
                    f"Invalid signature {what}: expected a {cls.__name__}, "
                    f"got {type(value).__name__}"
                )
        if inputs is None and outputs is None and params is None:
            raise InvalidArgument("A signature needs at least one of inputs, outputs and params")
        self.inputs = inputs
        self.outputs = outputs
        self.params = params
        #: MLflow's ``TypeFromExample`` mark: the loaded model hands ``predict`` its input in
        #: the input example's form (a list, a Series) rather than as a DataFrame.
        self._is_type_hint_from_example = False

    def to_dict(self) -> dict[str, str | None]:
        """``{"inputs": json, "outputs": json, "params": json}``, None for a missing part."""
        return {
            "inputs": self.inputs.to_json() if self.inputs is not None else None,
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": self.params.to_json() if self.params is not None else None,
        }

    @classmethod
    def from_dict(cls, signature_dict: dict[str, Any]) -> ModelSignature:
        if not isinstance(signature_dict, dict):
            raise InvalidArgument(f"Invalid signature {signature_dict!r}: expected a mapping")

        def part(key: str, parse: Any) -> Any:
            value = signature_dict.get(key)
            return None if value in (None, "", "null") else parse(value)

        return cls(
            part("inputs", Schema.from_json),
            part("outputs", Schema.from_json),
            part("params", ParamSchema.from_json),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelSignature) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def __repr__(self) -> str:
        lines = [
            "inputs: ",
            f"  {self.inputs!r}",
            "outputs: ",
            f"  {self.outputs!r}",
            "params: ",
            f"  {self.params!r}",
        ]
        return "\n".join(lines) + "\n"


def infer_signature(
    model_input: Any = None,
    model_output: Any = None,
    params: dict[str, Any] | None = None,
) -> ModelSignature:
    """The signature of a model from an example of its input, its output and its params.

    Inputs and outputs may be pandas DataFrames or Series, numpy arrays, dicts of arrays or of
    scalars, lists (of scalars or of records) and scalars; *params* maps names to default
    values (bool, int, float, str, bytes, datetime or lists of them).
    """
    inputs = infer_schema(model_input) if model_input is not None else None
    outputs = infer_schema(model_output) if model_output is not None else None
    param_schema = infer_param_schema(params) if params else None
    return ModelSignature(inputs, outputs, param_schema)
