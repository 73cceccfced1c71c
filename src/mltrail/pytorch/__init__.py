"""The PyTorch flavor (``mltrail.pytorch.log_model(module, artifact_path="model")``).

torch is imported when a model is saved or loaded, not with this package.
"""

from typing import Any

from mltrail.pytorch._autolog import autolog, checkpoint_callback_class, load_checkpoint
from mltrail.pytorch._flavor import (
    FLAVOR_NAME,
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_PT2,
    _load_pyfunc,  # noqa: F401 - the python_function loader of "mlflow.pytorch"
    get_default_conda_env,
    get_default_pip_requirements,
    load_model,
    load_state_dict,
    log_model,
    log_state_dict,
    save_model,
    save_state_dict,
)

__all__ = [
    "FLAVOR_NAME",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_PT2",
    "MlflowModelCheckpointCallback",
    "autolog",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_checkpoint",
    "load_model",
    "load_state_dict",
    "log_model",
    "log_state_dict",
    "save_model",
    "save_state_dict",
]


def __getattr__(name: str) -> Any:
    # A Lightning Callback: Lightning is imported when it is first asked for.
    if name == "MlflowModelCheckpointCallback":
        return checkpoint_callback_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
