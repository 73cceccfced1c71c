"""Logging a model, as every flavor's ``log_model`` does it: the flavors' import point.

:func:`log_model` (``mltrail.models._model.log_saved_model``, which ``Model.log`` uses too)
checks the model's name and builds the ``Model`` and its ``ModelInfo``; the tracking half
(MLflow 3's logged model, linking it to the run, uploading the files to the logged model's
location, registering a version) belongs to the tracking layer
(:mod:`mltrail.tracking._log_model`), reached through :mod:`mltrail._model_tracking` so that
the flavors never import upward.
"""

from __future__ import annotations

from mltrail.models._model import log_saved_model as log_model
from mltrail.models._model import resolve_artifact_path

__all__ = ["log_model", "resolve_artifact_path"]
