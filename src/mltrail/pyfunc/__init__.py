"""The generic Python function flavor: every model loads as ``load_model(uri).predict(data)``.

Custom models subclass :class:`PythonModel` (or are plain functions) and are saved with
:func:`save_model` / :func:`log_model`; models of any flavor load with :func:`load_model`
into a :class:`PyFuncModel` whose ``predict`` checks input against the model's signature.
"""

from mltrail.pyfunc._dependencies import EnvType, get_model_dependencies
from mltrail.pyfunc._example_format import update_signature_for_type_hint_from_example
from mltrail.pyfunc._load import FLAVOR_NAME, PyFuncModel, add_to_model, load_model, load_pyfunc
from mltrail.pyfunc._python_model import PythonModel, PythonModelContext
from mltrail.pyfunc._save import (
    get_default_conda_env,
    get_default_pip_requirements,
    log_model,
    save_model,
)

__all__ = [
    "FLAVOR_NAME",
    "EnvType",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "add_to_model",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "get_model_dependencies",
    "load_model",
    "load_pyfunc",
    "log_model",
    "save_model",
    "update_signature_for_type_hint_from_example",
]
