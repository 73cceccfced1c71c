"""Tracking entities with MLflow's names and attributes."""

from mltrail.entities._dataset import Dataset, DatasetInput, InputTag
from mltrail.entities._enums import LifecycleStage, RunStatus, SourceType, ViewType
from mltrail.entities._experiment import Experiment
from mltrail.entities._metric import ExperimentTag, Metric, Param, RunTag
from mltrail.entities._registry import (
    ModelVersion,
    ModelVersionStatus,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from mltrail.entities._run import Run, RunData, RunInfo, RunInputs

__all__ = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "ExperimentTag",
    "InputTag",
    "LifecycleStage",
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
    "RunStatus",
    "RunTag",
    "SourceType",
    "ViewType",
]
