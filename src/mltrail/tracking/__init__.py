"""Tracking: the fluent API, MlflowClient and the tracking URI.

Importing it installs the services models and flavors use to resolve model URIs and log
models (:mod:`mltrail._model_tracking`): they sit below this layer and do not import it.
"""

from mltrail._model_tracking import install_model_tracking as _install_model_tracking
from mltrail.tracking._active import ActiveRun
from mltrail.tracking._backends import close_backends
from mltrail.tracking._client import MlflowClient
from mltrail.tracking._fluent_registry import get_registry_uri, set_registry_uri
from mltrail.tracking._for_models import TrackingForModels as _TrackingForModels
from mltrail.tracking._uri import get_tracking_uri, is_tracking_uri_set, set_tracking_uri

_install_model_tracking(_TrackingForModels())

__all__ = [
    "ActiveRun",
    "MlflowClient",
    "close_backends",
    "get_registry_uri",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "set_registry_uri",
    "set_tracking_uri",
]
