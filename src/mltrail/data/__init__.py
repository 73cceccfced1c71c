"""Datasets a run records with ``log_input``: MLflow's ``mlflow.data`` API.

``from_pandas(df)``, ``from_numpy(features)`` and ``from_huggingface(ds)`` describe data by name,
a short digest, where it came from (its source), a schema and a profile. Importing this package
does not import pandas, NumPy or ``datasets``; they are used only once a dataset is built from
their objects.
"""

from __future__ import annotations

from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.data._dataset import Dataset
from mltrail.data._huggingface import HuggingFaceDataset, from_huggingface
from mltrail.data._numpy import NumpyDataset, from_numpy
from mltrail.data._pandas import PandasDataset, from_pandas
from mltrail.data._sources import (
    ArtifactDatasetSource,
    CodeDatasetSource,
    DatasetSource,
    HTTPDatasetSource,
    HuggingFaceDatasetSource,
    LocalArtifactDatasetSource,
    source_from_json,
)
from mltrail.entities import Dataset as DatasetEntity
from mltrail.entities import DatasetInput

__all__ = [
    "ArtifactDatasetSource",
    "CodeDatasetSource",
    "Dataset",
    "DatasetSource",
    "HTTPDatasetSource",
    "HuggingFaceDataset",
    "HuggingFaceDatasetSource",
    "LocalArtifactDatasetSource",
    "NumpyDataset",
    "PandasDataset",
    "from_huggingface",
    "from_numpy",
    "from_pandas",
    "get_source",
]


def get_source(dataset: Any) -> DatasetSource:
    """The source of a dataset, of a recorded dataset entity, or of a run's DatasetInput."""
    if isinstance(dataset, Dataset):
        return dataset.source

    if isinstance(dataset, DatasetInput):
        dataset = dataset.dataset
    if isinstance(dataset, DatasetEntity):
        return source_from_json(dataset.source_type, dataset.source)
    raise InvalidArgument(
        f"Invalid dataset of type {type(dataset).__name__}: expected a mltrail.data Dataset, "
        "a Dataset entity or a DatasetInput"
    )
