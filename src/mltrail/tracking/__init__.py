"""Tracking: the fluent API, MlflowClient and the tracking URI."""

from mltrail.tracking._active import ActiveRun
from mltrail.tracking._backends import close_backends
from mltrail.tracking._client import MlflowClient
from mltrail.tracking._uri import get_tracking_uri, is_tracking_uri_set, set_tracking_uri

__all__ = [
    "ActiveRun",
    "MlflowClient",
    "close_backends",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "set_tracking_uri",
]
