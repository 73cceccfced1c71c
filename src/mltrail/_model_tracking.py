"""What models and flavors ask of the tracking layer above them, without importing it.

Resolving a ``runs:/`` or ``models:/`` model URI needs a tracking client, and ``log_model``
logs to a run (the active one, started when none is): that logic belongs to
:mod:`mltrail.tracking` (``_model_uris``, ``_log_model``), which sits above the models and the
flavors.  They reach it through the :class:`ModelTracking` that ``mltrail.tracking`` installs
here when it is imported (``import mltrail`` imports it), so that every import points down.

This module is core: it holds the interface and the installed implementation, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

__all__ = ["ModelTracking", "TaggedModel", "install_model_tracking", "model_tracking"]


class TaggedModel(Protocol):
    """A saved model as the run's ``mlflow.log-model.history`` tag records it."""

    def get_tags_dict(self) -> dict[str, Any]: ...


M = TypeVar("M", bound=TaggedModel)


class ModelTracking(Protocol):
    """The tracking services the models layer uses."""

    def tracking_uri(self) -> str:
        """The tracking URI in use (``mlflow-artifacts:`` URIs resolve against it)."""
        ...

    def models_uri_location(self, uri: str) -> str:
        """Where the files of a ``models:/`` URI are: a version's source in the registry in
        use, or a logged model's location (``models:/<model_id>``)."""
        ...

    def runs_uri_location(self, uri: str) -> tuple[str, str]:
        """(root, path below it) of a ``runs:/<run_id>/<path>`` URI naming a model: the run's
        artifacts, or the files of the logged model of the run the path names."""
        ...

    def log_model(
        self,
        save: Callable[[str, str], M],
        artifact_path: str,
        *,
        registered_model_name: str | None,
        run_id: str | None,
    ) -> tuple[M, str, int | None]:
        """Save with ``save(local_dir, run_id)`` into a private directory, log it below
        *artifact_path* of the run (the active one, started if none, when *run_id* is None),
        record it in the run's model history and register it when *registered_model_name* is
        given: ``(the saved model, the run id, the registered version or None)``."""
        ...

    def log_artifacts(self, local_dir: str, artifact_path: str, run_id: str | None) -> None:
        """Log the files of *local_dir* below *artifact_path* of the run (as ``log_model``)."""
        ...

    def autolog(self, integration: str, options: dict[str, Any]) -> None:
        """Configure autologging *integration* (``"sklearn"``, ...) with a flavor's
        ``autolog(...)`` arguments, patching or unpatching its framework."""
        ...


_installed: ModelTracking | None = None


def install_model_tracking(tracking: ModelTracking) -> None:
    """Install the tracking layer's services (done by ``mltrail.tracking`` on import)."""
    global _installed
    _installed = tracking


def model_tracking() -> ModelTracking:
    """The installed tracking services."""
    if _installed is None:  # pragma: no cover - import mltrail always installs them
        raise RuntimeError("mltrail.tracking is not imported: import mltrail first")
    return _installed
