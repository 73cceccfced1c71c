"""mltrail: the machine-learning lifecycle, compatible with MLflow's API.

``import mltrail as mlflow`` runs MLflow tracking scripts unchanged.  Importing mltrail is
light: no SQLAlchemy, pandas, numpy or server code loads until it is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import MltrailError as _MltrailError
from mltrail._version import __version__
from mltrail.entities import ViewType
from mltrail.tracking._active import ActiveRun
from mltrail.tracking._client import MlflowClient
from mltrail.tracking._fluent import (
    active_run,
    delete_run,
    delete_tag,
    end_run,
    flush,
    flush_artifact_async_logging,
    flush_async_logging,
    get_artifact_uri,
    get_parent_run,
    get_run,
    last_active_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_input,
    log_inputs,
    log_metric,
    log_metrics,
    log_outputs,
    log_param,
    log_params,
    log_stream,
    log_text,
    restore_run,
    set_tag,
    set_tags,
    start_run,
)
from mltrail.tracking._fluent_experiments import (
    create_experiment,
    delete_experiment,
    delete_experiment_tag,
    get_experiment,
    get_experiment_by_name,
    list_experiments,
    rename_experiment,
    restore_experiment,
    search_experiments,
    search_runs,
    set_experiment,
    set_experiment_tag,
    set_experiment_tags,
)
from mltrail.tracking._fluent_logged_models import (
    delete_logged_model_tag,
    finalize_logged_model,
    get_logged_model,
    initialize_logged_model,
    last_logged_model,
    log_model_params,
    search_logged_models,
    set_logged_model_tags,
)
from mltrail.tracking._fluent_registry import (
    get_registry_uri,
    register_model,
    search_model_versions,
    search_registered_models,
    set_model_version_tag,
    set_registry_uri,
)
from mltrail.tracking._fluent_workspaces import (
    create_workspace,
    delete_workspace,
    get_workspace,
    list_workspaces,
    set_workspace,
    update_workspace,
)
from mltrail.tracking._system_metrics import (
    disable_system_metrics_logging,
    enable_system_metrics_logging,
    set_system_metrics_node_id,
    set_system_metrics_samples_before_logging,
    set_system_metrics_sampling_interval,
)
from mltrail.tracking._uri import get_tracking_uri, is_tracking_uri_set, set_tracking_uri
from mltrail.tracking.autolog import autolog

if TYPE_CHECKING:
    from mltrail import data as data
    from mltrail import entities as entities
    from mltrail import evaluation as evaluation
    from mltrail import exceptions as exceptions
    from mltrail import metrics as metrics
    from mltrail import models as models
    from mltrail import projects as projects
    from mltrail import pyfunc as pyfunc
    from mltrail import sklearn as sklearn
    from mltrail import tracking as tracking
    from mltrail._doctor import doctor as doctor
    from mltrail.artifacts._image import Image as Image
    from mltrail.evaluation import evaluate as evaluate
    from mltrail.evaluation import load_table as load_table
    from mltrail.evaluation import log_table as log_table
    from mltrail.evaluation import validate_evaluation_results as validate_evaluation_results
    from mltrail.projects import run as run

Client = MlflowClient
MlflowException = _MltrailError

# Submodules loaded on first attribute access (mltrail.data, mltrail.entities, ...).
_LAZY_SUBMODULES = frozenset(
    {"artifacts", "client", "data", "entities", "exceptions", "projects", "store", "tracking"}
    # Model evaluation (NumPy, pandas, scikit-learn, Pillow load when an evaluation runs).
    | {"evaluation", "metrics"}
    # Models and their flavors: each imports its framework only when a model is saved/loaded.
    | {"catboost", "keras", "lightgbm", "models", "onnx", "pyfunc", "pytorch", "sklearn"}
    | {"shap", "statsmodels", "transformers", "xgboost"}
)


# Public functions loaded on first use, by the module they live in (MLflow's mlflow.run,
# mlflow.evaluate, ...).
_LAZY_FUNCTIONS = {
    "run": "mltrail.projects",
    "doctor": "mltrail._doctor",
    "Image": "mltrail.artifacts._image",
    "evaluate": "mltrail.evaluation",
    "load_table": "mltrail.evaluation",
    "log_table": "mltrail.evaluation",
    "validate_evaluation_results": "mltrail.evaluation",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return import_module(f"mltrail.{name}")
    if name in _LAZY_FUNCTIONS:
        return getattr(import_module(_LAZY_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'mltrail' has no attribute '{name}'")


__all__ = [
    "ActiveRun",
    "Client",
    "Image",
    "MlflowClient",
    "MlflowException",
    "ViewType",
    "__version__",
    "active_run",
    "autolog",
    "create_experiment",
    "create_workspace",
    "delete_experiment",
    "delete_experiment_tag",
    "delete_logged_model_tag",
    "delete_run",
    "delete_tag",
    "delete_workspace",
    "disable_system_metrics_logging",
    "doctor",
    "enable_system_metrics_logging",
    "end_run",
    "evaluate",
    "finalize_logged_model",
    "flush",
    "flush_artifact_async_logging",
    "flush_async_logging",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_logged_model",
    "get_parent_run",
    "get_registry_uri",
    "get_run",
    "get_tracking_uri",
    "get_workspace",
    "initialize_logged_model",
    "is_tracking_uri_set",
    "last_active_run",
    "last_logged_model",
    "list_experiments",
    "list_workspaces",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_model_params",
    "log_outputs",
    "log_param",
    "log_params",
    "log_stream",
    "log_table",
    "log_text",
    "register_model",
    "rename_experiment",
    "restore_experiment",
    "restore_run",
    "run",
    "search_experiments",
    "search_logged_models",
    "search_model_versions",
    "search_registered_models",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_logged_model_tags",
    "set_model_version_tag",
    "set_registry_uri",
    "set_system_metrics_node_id",
    "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "set_workspace",
    "start_run",
    "update_workspace",
    "validate_evaluation_results",
]
