"""update_signature_for_type_hint_from_example under either library.

Run by tests/models/test_example_form.py through tests/_differential.py as
``python _example_form_scenario.py <mlflow|mltrail> <tracking uri> <summary.json>``: for
inputs of several forms, a signature inferred from the example is marked (or not), a model
saved with it, and what ``MLmodel`` records and what the loaded model's ``predict`` receives
(its type and value) are written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

LIBRARY, TRACKING_URI, OUT = sys.argv[1:4]
if LIBRARY == "mltrail":
    import mltrail as mlflow
else:
    import mlflow  # type: ignore[no-redef]


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        value = model_input
        if isinstance(model_input, pd.DataFrame):
            value = model_input.to_dict(orient="list")
        return [type(model_input).__name__, json.dumps(value, default=str)]


CASES = {
    "list": (["a", "b"], ["x", "y", "z"]),
    "records": ([{"a": 1, "b": "x"}], [{"a": 2, "b": "y"}, {"a": 3, "b": "z"}]),
    "frame": (pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [3, 4]})),
    "dict_not_marked": ({"a": 1}, {"a": 2}),
}


def main() -> None:
    out: dict[str, Any] = {}
    for name, (example, data) in CASES.items():
        signature = mlflow.models.infer_signature(example)
        mlflow.pyfunc.update_signature_for_type_hint_from_example(example, signature)
        mlflow.pyfunc.save_model(
            name,
            python_model=Echo(),
            signature=signature,
            input_example=example,
            pip_requirements=["cloudpickle"],
        )
        mlmodel = yaml.safe_load(Path(name, "MLmodel").read_text())
        out[name] = {
            "marked": bool(mlmodel.get("type_hint_from_example")),
            "received": mlflow.pyfunc.load_model(name).predict(data),
        }
    # Marked, but saved without an example: nothing to take the form from.
    signature = mlflow.models.infer_signature(["a"])
    mlflow.pyfunc.update_signature_for_type_hint_from_example(["a"], signature)
    mlflow.pyfunc.save_model(
        "no_example", python_model=Echo(), signature=signature, pip_requirements=["cloudpickle"]
    )
    out["no_example"] = mlflow.pyfunc.load_model("no_example").predict(["q"])
    Path(OUT).write_text(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
