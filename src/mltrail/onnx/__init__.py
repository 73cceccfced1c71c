"""The ONNX flavor (``mltrail.onnx.log_model(onnx_model, artifact_path="model")``).

onnx and onnxruntime are imported when a model is saved or loaded, not with this package.
"""

from mltrail.onnx._flavor import (
    FLAVOR_NAME,
    ONNX_EXECUTION_PROVIDERS,
    _load_pyfunc,  # noqa: F401 - the python_function loader of "mlflow.onnx"
    get_default_conda_env,
    get_default_pip_requirements,
    load_model,
    log_model,
    save_model,
)

__all__ = [
    "FLAVOR_NAME",
    "ONNX_EXECUTION_PROVIDERS",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]
