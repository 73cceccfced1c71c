"""The tracking services models and flavors use, installed into :mod:`mltrail._model_tracking`.

``mltrail.tracking`` installs :class:`TrackingForModels` when it is imported.  Resolving a model
URI loads the registry, its entities and the artifact path rules (``hashlib``, ``secrets``,
``unicodedata``), which ``import mltrail`` does not load: :mod:`mltrail.tracking._model_uris`
is imported when a ``runs:/`` or ``models:/`` URI is first resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from mltrail._model_tracking import LoggedModelResult, LogModelRequest, TaggedModel
from mltrail.tracking import _log_model, autolog
from mltrail.tracking._uri import get_tracking_uri
from mltrail.tracking.autolog._config import suspended

__all__ = ["TrackingForModels"]

M = TypeVar("M", bound=TaggedModel)


class TrackingForModels:
    """:class:`mltrail._model_tracking.ModelTracking` over the process's tracking state."""

    def tracking_uri(self) -> str:
        return get_tracking_uri()

    def models_uri_location(self, uri: str) -> str:
        from mltrail.tracking import _model_uris

        return _model_uris.models_uri_location(uri)

    def runs_uri_location(self, uri: str) -> tuple[str, str]:
        from mltrail.tracking import _model_uris

        return _model_uris.runs_uri_location(uri)

    def log_model(
        self, save: Callable[[str, dict[str, Any]], M], request: LogModelRequest
    ) -> LoggedModelResult[M]:
        return _log_model.log_model(save, request)

    def log_artifacts(self, local_dir: str, artifact_path: str, run_id: str | None) -> str:
        return _log_model.log_files(local_dir, artifact_path, run_id)

    def autolog_suspended(self) -> AbstractContextManager[None]:
        return suspended(autolog.INTEGRATIONS)

    def autolog(self, integration: str, options: dict[str, Any]) -> None:
        autolog.enable(integration, options)

    def autolog_member(self, integration: str, name: str) -> Any:
        return autolog.member(integration, name)
