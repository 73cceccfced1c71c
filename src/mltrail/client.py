"""``mltrail.client.MlflowClient``, as ``mlflow.client.MlflowClient``."""

from mltrail.tracking._client import MlflowClient

__all__ = ["MlflowClient"]
