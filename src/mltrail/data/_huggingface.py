"""Datasets of Hugging Face ``datasets.Dataset`` objects: ``mltrail.data.from_huggingface``.

The name, digest, source, schema and profile are MLflow's: the digest and the schema are
computed from the first 10,000 rows (as a pandas DataFrame) the way MLflow computes them, so
MLflow and mltrail record the same dataset for the same data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._optional import require
from mltrail.data._dataset import Dataset
from mltrail.data._digest import mlflow_frame_digest
from mltrail.data._sources import (
    CodeDatasetSource,
    DatasetSource,
    HuggingFaceDatasetSource,
    resolve_source,
)
from mltrail.models._infer import infer_schema

__all__ = ["HuggingFaceDataset", "from_huggingface"]

_log = logging.getLogger(__name__)
_SAMPLE_ROWS = 10_000  # the rows the digest and the schema are computed from, as in MLflow


class HuggingFaceDataset(Dataset):
    """A ``datasets.Dataset`` with its source and optional target column."""

    def __init__(
        self,
        ds: Any,
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
    ) -> None:
        _check_dataset(ds)
        if targets is not None and targets not in ds.column_names:
            raise InvalidArgument(
                f"Invalid targets {targets!r}: the Hugging Face dataset has no such column "
                f"(its columns: {ds.column_names})"
            )
        self._ds = ds
        self._targets = targets
        super().__init__(source, name, digest)

    def _head(self) -> Any:
        """The first rows as a DataFrame (MLflow's sample: one batch of ``to_pandas``)."""
        return next(iter(self._ds.to_pandas(batch_size=_SAMPLE_ROWS, batched=True)))

    def _compute_digest(self) -> str:
        return mlflow_frame_digest(self._head())

    def _compute_schema(self) -> dict[str, Any] | None:
        try:
            schema = infer_schema(self._head())
        except InvalidArgument as exc:  # a column of a type no schema has: recorded without
            _log.warning("No schema for the Hugging Face dataset %r: %s", self.name, exc)
            return None
        return {"mlflow_colspec": schema.to_dict()}

    @property
    def ds(self) -> Any:
        """The ``datasets.Dataset``."""
        return self._ds

    @property
    def targets(self) -> str | None:
        """The name of the target column, if any."""
        return self._targets

    @property
    def profile(self) -> dict[str, Any]:
        """The row count and the sizes ``datasets`` reports (None for an in-memory dataset)."""
        return {
            "num_rows": self._ds.num_rows,
            "dataset_size": self._ds.dataset_size,
            "size_in_bytes": self._ds.size_in_bytes,
        }

    def to_pyfunc(self) -> tuple[Any, Any]:
        """The data as (inputs, outputs) DataFrame and Series; outputs is None without targets."""
        df = self._ds.to_pandas()
        if self._targets is None:
            return df, None
        return df.drop(columns=self._targets), df[self._targets]


def _check_dataset(ds: Any) -> None:
    datasets = require("datasets")
    if not isinstance(ds, datasets.Dataset):
        raise InvalidArgument(
            f"Invalid ds of type {type(ds).__name__}: expected a datasets.Dataset (select one "
            "split of a DatasetDict)"
        )


def from_huggingface(
    ds: Any,
    path: str | None = None,
    targets: str | None = None,
    data_dir: str | None = None,
    data_files: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
    revision: Any = None,
    name: str | None = None,
    digest: str | None = None,
    trust_remote_code: bool | None = None,
    source: str | DatasetSource | None = None,
) -> HuggingFaceDataset:
    """A dataset of the Hugging Face ``datasets.Dataset`` *ds* to record with ``log_input``.

    The source is *source* (a path, URI or DatasetSource) when given; else, with *path* (the
    ``datasets.load_dataset`` path, e.g. a Hub repository), a :class:`HuggingFaceDatasetSource`
    that reloads it with *data_dir*, *data_files*, *revision*, *trust_remote_code* and the
    dataset's own configuration name and split; else the running code.  *targets* names a
    column; *name* defaults to ``"dataset"`` and *digest* to MLflow's digest of the data.
    """
    _check_dataset(ds)
    resolved: DatasetSource
    if source is not None:
        if path is not None:
            _log.warning("Both source and path are given: the dataset's source is source")
        resolved = resolve_source(source)
    elif path is not None:
        resolved = HuggingFaceDatasetSource(
            path=path,
            config_name=ds.config_name,
            data_dir=data_dir,
            data_files=data_files,
            split=ds.split,
            revision=revision,
            trust_remote_code=trust_remote_code,
        )
    else:
        resolved = CodeDatasetSource.from_current_code()
    return HuggingFaceDataset(ds=ds, source=resolved, targets=targets, name=name, digest=digest)
