"""The autologging recordings under MLflow, without its requirement inference.

MLflow infers each logged model's pip requirements by loading the model again in a subprocess
that imports MLflow and the framework (about 2 s a model: 12 of the 21 s of the scikit-learn
recording).  The differential tests compare a model's file names, never the requirements it
lists, so the recording scripts skip that subprocess: the model lists the requirements MLflow
writes when it finds no imported module, and the same files are written.
"""

from __future__ import annotations

from typing import Any


def skip_requirement_inference() -> None:
    from mlflow.utils import requirements_utils

    def no_modules(model_uri: str, flavor: str, *args: Any, **kwargs: Any) -> list[str]:
        return []

    requirements_utils._capture_imported_modules = no_modules
