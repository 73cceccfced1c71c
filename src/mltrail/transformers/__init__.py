"""The transformers flavor (``mltrail.transformers.log_model(pipeline, name="model")``):
Hugging Face pipelines on PyTorch, in MLflow's layout.

transformers and torch are imported when a model is saved or loaded, not with this package.
"""

from mltrail.transformers._autolog import autolog
from mltrail.transformers._flavor import (
    FLAVOR_NAME,
    _load_pyfunc,  # noqa: F401 - the python_function loader of "mlflow.transformers"
    get_default_conda_env,
    get_default_pip_requirements,
    is_gpu_available,
    load_model,
    log_model,
    save_model,
)
from mltrail.transformers._peft import (
    get_model_with_peft_adapter,
    get_peft_base_model,
    is_peft_model,
)
from mltrail.transformers._persist import persist_pretrained_model
from mltrail.transformers._signature import (
    format_input_example_for_special_cases,
    generate_signature_output,
    infer_or_get_default_signature,
)

__all__ = [
    "FLAVOR_NAME",
    "autolog",
    "format_input_example_for_special_cases",
    "generate_signature_output",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "get_model_with_peft_adapter",
    "get_peft_base_model",
    "infer_or_get_default_signature",
    "is_gpu_available",
    "is_peft_model",
    "load_model",
    "log_model",
    "persist_pretrained_model",
    "save_model",
]
