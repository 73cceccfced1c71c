"""What models and flavors ask of the tracking layer above them, without importing it.

Resolving a ``runs:/`` or ``models:/`` model URI needs a tracking client, and ``log_model``
logs to a run (the active one, started when none is): that logic belongs to
:mod:`mltrail.tracking` (``_model_uris``, ``_log_model``), which sits above the models and the
flavors.  They reach it through the :class:`ModelTracking` that ``mltrail.tracking`` installs
here when it is imported (``import mltrail`` imports it), so that every import points down.

This module is core: it holds the interface and the installed implementation, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

__all__ = [
    "LogModelRequest",
    "LoggedModelResult",
    "ModelTracking",
    "TaggedModel",
    "install_model_tracking",
    "model_tracking",
]


class TaggedModel(Protocol):
    """A saved model as the run's ``mlflow.log-model.history`` tag records it."""

    def get_tags_dict(self) -> dict[str, Any]: ...


M = TypeVar("M", bound=TaggedModel)


@dataclass(frozen=True)
class LogModelRequest:
    """What a flavor's ``log_model`` asks for, beside the model's files (MLflow 3's arguments).

    *name* is the logged model's name (already checked); *run_id* the run to link it to (the
    active run when None, or none at all); *params* and *tags* go on the logged model; *step*
    is the run step its output is recorded at; *model_id* names an existing logged model
    (made by ``initialize_logged_model``) to store the files in instead of creating one;
    *run_params* are logged to the run once the model is stored (its ``model_config``, as
    MLflow does).
    """

    name: str
    registered_model_name: str | None = None
    run_id: str | None = None
    params: Mapping[str, Any] | None = None
    tags: Mapping[str, Any] | None = None
    model_type: str | None = None
    step: int = 0
    model_id: str | None = None
    run_params: Mapping[str, str] | None = None


@dataclass(frozen=True)
class LoggedModelResult(Generic[M]):
    """What logging produced: the saved model, its run (None when no run is active), the
    logged model (``mltrail.entities.LoggedModel`` as created) and the registered version."""

    model: M
    run_id: str | None
    logged_model: Any
    registered_version: int | None


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
        self, save: Callable[[str, dict[str, Any]], M], request: LogModelRequest
    ) -> LoggedModelResult[M]:
        """Log a model as MLflow 3 does: create (or take) the logged model, link it to the run
        (the active one when *request.run_id* is None; none when no run is active), save with
        ``save(local_dir, model_fields)`` into a private directory (*model_fields* are the
        ``Model`` fields logging sets: ``artifact_path``, ``run_id``, ``model_uuid``,
        ``model_id``), upload the files to the logged model's location, mark it READY (FAILED
        when saving fails) and register it when a registered model name is given."""
        ...

    def log_artifacts(self, local_dir: str, artifact_path: str, run_id: str | None) -> str:
        """Log the files of *local_dir* below *artifact_path* of the run (the active one,
        started if none, when *run_id* is None); returns the URI of *artifact_path* there."""
        ...

    def autolog_suspended(self) -> AbstractContextManager[None]:
        """A block in which no autologging integration logs (a flavor calling the model
        itself, as ``mltrail.shap.log_explanation`` does, records nothing more)."""
        ...

    def autolog(self, integration: str, options: dict[str, Any]) -> None:
        """Configure autologging *integration* (``"sklearn"``, ...) with a flavor's
        ``autolog(...)`` arguments, patching or unpatching its framework."""
        ...

    def autolog_member(self, integration: str, name: str) -> Any:
        """A public object autologging *integration* defines on its framework (a callback
        class such as ``mltrail.keras.MlflowCallback``; loading it imports the framework)."""
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
