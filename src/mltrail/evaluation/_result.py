"""What ``evaluate`` returns: :class:`EvaluationResult` and its artifacts.

Each artifact has the ``uri`` it was logged at and its ``content``: a PIL image for a plot
(Pillow is in the ``plots`` extra), a pandas DataFrame for a CSV file, the parsed JSON for a
JSON file.  Content is decoded on first access, from the bytes ``evaluate`` wrote, or
downloaded from ``uri``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import posixpath
import tempfile
import urllib.parse
from typing import TYPE_CHECKING, Any, ClassVar

from mltrail._exceptions import InvalidArgument, MltrailError
from mltrail._optional import require
from mltrail.evaluation._tables import load_table
from mltrail.tracking._artifact_helpers import download_artifacts
from mltrail.tracking._fluent import active_run

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "KIND_BY_EXTENSION",
    "CsvEvaluationArtifact",
    "EvaluationArtifact",
    "EvaluationResult",
    "ImageEvaluationArtifact",
    "JsonEvaluationArtifact",
    "NumpyEvaluationArtifact",
    "ParquetEvaluationArtifact",
    "TextEvaluationArtifact",
]

_logger = logging.getLogger("mltrail")
#: Written by save() only for a result with a baseline (MLflow 2's baseline_model).
_BASELINE_FILE = "baseline_model_metrics.json"


class EvaluationArtifact:
    """An artifact ``evaluate`` logged: its ``uri`` and its ``content``."""

    #: The file extension of this kind of artifact.
    extension: ClassVar[str] = ""

    def __init__(self, uri: str, content: Any = None, *, data: bytes | None = None) -> None:
        self._uri = uri
        self._content = content
        self._data = data

    def _decode(self, data: bytes) -> Any:
        raise NotImplementedError  # each kind decodes its own format

    def _bytes(self) -> bytes:
        if self._data is None:
            with tempfile.TemporaryDirectory(prefix="mltrail-artifact-") as tmp:
                local = download_artifacts(artifact_uri=self._uri, dst_path=tmp)
                with open(local, "rb") as f:
                    self._data = f.read()
        return self._data

    @property
    def content(self) -> Any:
        """The artifact's content (decoded on first access)."""
        if self._content is None:
            self._content = self._decode(self._bytes())
        return self._content

    @property
    def uri(self) -> str:
        """Where the artifact was logged."""
        return self._uri

    def _save(self, path: str) -> None:
        with open(path, "wb") as f:
            f.write(self._bytes())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(uri='{self.uri}')"


class ImageEvaluationArtifact(EvaluationArtifact):
    """A PNG plot; ``content`` is a ``PIL.Image.Image``."""

    extension = ".png"

    def _decode(self, data: bytes) -> Any:
        image_module = require("PIL.Image")
        image = image_module.open(io.BytesIO(data))
        image.load()
        return image


class CsvEvaluationArtifact(EvaluationArtifact):
    """A CSV table; ``content`` is a pandas DataFrame."""

    extension = ".csv"

    def _decode(self, data: bytes) -> pd.DataFrame:
        import pandas as pd

        return pd.read_csv(io.BytesIO(data))


class JsonEvaluationArtifact(EvaluationArtifact):
    """A JSON file; ``content`` is the parsed JSON."""

    extension = ".json"

    def _decode(self, data: bytes) -> Any:
        return json.loads(data)


class NumpyEvaluationArtifact(EvaluationArtifact):
    """A ``.npy`` array; ``content`` is a NumPy array (never unpickled)."""

    extension = ".npy"

    def _decode(self, data: bytes) -> Any:
        import numpy as np

        return np.load(io.BytesIO(data), allow_pickle=False)


class ParquetEvaluationArtifact(EvaluationArtifact):
    """A Parquet table; ``content`` is a pandas DataFrame."""

    extension = ".parquet"

    def _decode(self, data: bytes) -> pd.DataFrame:
        import pandas as pd

        require("pyarrow")
        return pd.read_parquet(io.BytesIO(data))


class TextEvaluationArtifact(EvaluationArtifact):
    """A text file; ``content`` is its text."""

    extension = ".txt"

    def _decode(self, data: bytes) -> str:
        return data.decode("utf-8")


_KINDS: dict[str, type[EvaluationArtifact]] = {
    cls.__name__: cls
    for cls in (
        ImageEvaluationArtifact,
        CsvEvaluationArtifact,
        JsonEvaluationArtifact,
        NumpyEvaluationArtifact,
        ParquetEvaluationArtifact,
        TextEvaluationArtifact,
    )
}

#: A file's extension to the kind of artifact it is (MLflow's table).
KIND_BY_EXTENSION: dict[str, type[EvaluationArtifact]] = {
    ".png": ImageEvaluationArtifact,
    ".jpg": ImageEvaluationArtifact,
    ".jpeg": ImageEvaluationArtifact,
    ".json": JsonEvaluationArtifact,
    ".npy": NumpyEvaluationArtifact,
    ".csv": CsvEvaluationArtifact,
    ".parquet": ParquetEvaluationArtifact,
    ".txt": TextEvaluationArtifact,
}


def _file_name(uri: str) -> str:
    return posixpath.basename(urllib.parse.urlparse(uri).path)


class EvaluationResult:
    """Metrics (name to number) and artifacts (name to :class:`EvaluationArtifact`) of one
    ``evaluate`` call, and the run they were logged to."""

    def __init__(
        self,
        metrics: dict[str, Any],
        artifacts: dict[str, EvaluationArtifact],
        run_id: str | None = None,
        baseline_model_metrics: dict[str, Any] | None = None,
    ) -> None:
        self._metrics = metrics
        self._artifacts = artifacts
        self._baseline_model_metrics = baseline_model_metrics
        if run_id is None:  # MLflow's default: the active run, if any
            active = active_run()
            run_id = active.info.run_id if active is not None else None
        self._run_id = run_id

    @property
    def metrics(self) -> dict[str, Any]:
        """Metric names to their values, as logged."""
        return self._metrics

    @property
    def artifacts(self) -> dict[str, EvaluationArtifact]:
        """Artifact names (``roc_curve_plot``, ``confusion_matrix``, ...) to artifacts."""
        return self._artifacts

    @property
    def baseline_model_metrics(self) -> dict[str, Any] | None:
        """The baseline model's metrics (MLflow 2's ``baseline_model``), or None."""
        return self._baseline_model_metrics

    @property
    def run_id(self) -> str | None:
        """The run the results were logged to."""
        return self._run_id

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The artifacts that are tables of the run (``eval_results_table``), as DataFrames."""
        tables: dict[str, pd.DataFrame] = {}
        if self._run_id is None:
            _logger.warning("Cannot load evaluation tables: the result has no run_id")
            return tables
        for name, artifact in self._artifacts.items():
            if not isinstance(artifact, JsonEvaluationArtifact):
                continue
            try:
                tables[name] = load_table(_file_name(artifact.uri), run_ids=[self._run_id])
            except MltrailError:  # a JSON artifact that is not a table of the run
                continue
        return tables

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the metrics, the artifacts' URIs and kinds, and their files below *path*."""
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "metrics.json"), "w", encoding="utf-8") as f:
            json.dump({k: _plain(v) for k, v in self._metrics.items()}, f)
        if self._baseline_model_metrics is not None:
            with open(os.path.join(path, _BASELINE_FILE), "w", encoding="utf-8") as f:
                json.dump({k: _plain(v) for k, v in self._baseline_model_metrics.items()}, f)
        meta = {
            name: {"uri": a.uri, "class_name": type(a).__name__}
            for name, a in self._artifacts.items()
        }
        with open(os.path.join(path, "artifacts_metadata.json"), "w", encoding="utf-8") as f:
            json.dump(meta, f)
        folder = os.path.join(path, "artifacts")
        os.makedirs(folder, exist_ok=True)
        for artifact in self._artifacts.values():
            artifact._save(os.path.join(folder, _file_name(artifact.uri)))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EvaluationResult:
        """An :class:`EvaluationResult` written by :meth:`save`."""
        with open(os.path.join(path, "metrics.json"), encoding="utf-8") as f:
            metrics = json.load(f)
        with open(os.path.join(path, "artifacts_metadata.json"), encoding="utf-8") as f:
            meta = json.load(f)
        artifacts: dict[str, EvaluationArtifact] = {}
        for name, entry in meta.items():
            kind_name = str(entry["class_name"]).rpartition(".")[2]
            kind = _KINDS.get(kind_name)
            if kind is None:
                raise InvalidArgument(
                    f"Invalid artifacts_metadata.json: unknown artifact class {kind_name!r} "
                    f"(known: {', '.join(sorted(_KINDS))})"
                )
            uri = str(entry["uri"])
            with open(os.path.join(path, "artifacts", _file_name(uri)), "rb") as f:
                artifacts[name] = kind(uri, data=f.read())
        baseline = None
        if os.path.exists(os.path.join(path, _BASELINE_FILE)):
            with open(os.path.join(path, _BASELINE_FILE), encoding="utf-8") as f:
                baseline = json.load(f)
        return cls(metrics, artifacts, baseline_model_metrics=baseline)

    def __repr__(self) -> str:
        return f"EvaluationResult(run_id={self._run_id!r}, metrics={self._metrics!r})"


def _plain(value: Any) -> Any:
    """A JSON-ready number (NumPy scalars become Python numbers)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value
