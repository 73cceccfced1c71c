"""Tracking and registry entities with MLflow's names and attributes.

The registry's entities load on first use, so that ``import mltrail`` does not pay for them.
"""

from typing import TYPE_CHECKING, Any

from mltrail.entities._dataset import Dataset, DatasetInput, DatasetSummary, InputTag
from mltrail.entities._enums import LifecycleStage, RunStatus, SourceType, ViewType
from mltrail.entities._experiment import Experiment
from mltrail.entities._file_info import FileInfo
from mltrail.entities._logged_model import (
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
)
from mltrail.entities._metric import ExperimentTag, Metric, Param, RunTag
from mltrail.entities._run import Run, RunData, RunInfo, RunInputs, RunOutputs
from mltrail.entities._workspace import TraceArchivalConfig, Workspace, WorkspaceDeletionMode

__all__ = [
    "Dataset",
    "DatasetInput",
    "DatasetSummary",
    "Experiment",
    "ExperimentTag",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelOutput",
    "LoggedModelParameter",
    "LoggedModelStatus",
    "LoggedModelTag",
    "Metric",
    "ModelVersion",
    "ModelVersionStatus",
    "ModelVersionTag",
    "Param",
    "RegisteredModel",
    "RegisteredModelAlias",
    "RegisteredModelTag",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "SourceType",
    "TraceArchivalConfig",
    "ViewType",
    "Webhook",
    "WebhookEvent",
    "WebhookStatus",
    "WebhookTestResult",
    "Workspace",
    "WorkspaceDeletionMode",
]

_WEBHOOK_NAMES = frozenset({"Webhook", "WebhookEvent", "WebhookStatus", "WebhookTestResult"})
_REGISTRY_NAMES = frozenset(
    {
        "ModelVersion",
        "ModelVersionStatus",
        "ModelVersionTag",
        "RegisteredModel",
        "RegisteredModelAlias",
        "RegisteredModelTag",
    }
)

if TYPE_CHECKING:
    from mltrail.entities._registry import (
        ModelVersion,
        ModelVersionStatus,
        ModelVersionTag,
        RegisteredModel,
        RegisteredModelAlias,
        RegisteredModelTag,
    )
    from mltrail.entities._webhook import Webhook, WebhookEvent, WebhookStatus, WebhookTestResult


def __getattr__(name: str) -> Any:
    if name in _REGISTRY_NAMES:
        from mltrail.entities import _registry

        value = getattr(_registry, name)
        globals()[name] = value
        return value
    if name in _WEBHOOK_NAMES:
        from mltrail.entities import _webhook

        value = getattr(_webhook, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _REGISTRY_NAMES | _WEBHOOK_NAMES)
