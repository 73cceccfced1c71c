"""What an import source yields, and the interface every source implements.

A source (an MLflow database, an ``mlruns`` folder, an MLflow tracking server, a TensorBoard
log folder, another mltrail store) is read in two passes, so that a repeated import reads
little more than the source's index:

1. :meth:`Source.experiments` and :meth:`Source.run_headers` list what exists, each run with
   a *fingerprint*: a short string that changes whenever anything stored for that run changes
   (its info, params, tags, metric points, inputs, outputs; artifacts are fingerprinted
   separately by the importer from their listing).  The importer compares the fingerprints
   with its ledger in the destination and asks for the contents of new or changed runs only.
2. :meth:`Source.run_contents` reads those runs in chunks; metric points come as columns
   (:class:`MetricColumns`), never as one object per point.

Ids are the source's own (experiment ids as decimal strings, run ids as 32 hex digits, logged
model ids ``m-...``).  Artifact locations are the source's URIs; :meth:`Source.open_artifacts`
gives a repository that reads them (the importer copies from it, file by file, streamed).
Every source is read-only: nothing here writes to it.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from mltrail.artifacts import ArtifactRepository
from mltrail.entities import (
    DatasetInput,
    Experiment,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    RunInfo,
)

__all__ = [
    "MetricColumns",
    "RegisteredModelRecord",
    "RunContents",
    "RunHeader",
    "Source",
    "SourceCounts",
]


@dataclass(frozen=True, slots=True)
class RunHeader:
    """A run as listed by the first pass: its info and a fingerprint of everything stored."""

    info: RunInfo
    fingerprint: str


@dataclass(slots=True)
class MetricColumns:
    """A run's metric points, one list per column, all equally long.

    Values are floats (NaN and the infinities kept as such), timestamps milliseconds since
    the epoch, steps integers.  ``model_ids``/``dataset_names``/``dataset_digests`` are None
    when the source records no such link (MLflow before 3.0, TensorBoard), else a column of
    optional strings as long as the others.
    """

    keys: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    timestamps: list[int] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    model_ids: list[str | None] | None = None
    dataset_names: list[str | None] | None = None
    dataset_digests: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.keys)


@dataclass(slots=True)
class RunContents:
    """Everything stored for one run but its artifacts."""

    header: RunHeader
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: MetricColumns = field(default_factory=MetricColumns)
    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_input_ids: list[str] = field(default_factory=list)  # logged models the run used
    model_output_ids: list[tuple[str, int]] = field(default_factory=list)  # (model id, step)


@dataclass(slots=True)
class RegisteredModelRecord:
    """A registered model with every version (version numbers kept) and its aliases."""

    model: RegisteredModel
    versions: list[ModelVersion] = field(default_factory=list)
    aliases: dict[str, int] = field(default_factory=dict)
    fingerprint: str = ""


@dataclass(slots=True)
class SourceCounts:
    """What a store holds, for the summary table printed after an import (and by --dry-run).

    ``artifacts`` counts files; None where counting would mean reading every artifact
    listing of a remote store and the caller did not ask for it.
    """

    experiments: int = 0
    runs: int = 0
    params: int = 0
    tags: int = 0
    metric_points: int = 0
    artifacts: int | None = None
    logged_models: int = 0
    registered_models: int = 0
    model_versions: int = 0


class Source(abc.ABC):
    """A read-only store to import from.

    ``key`` names the source in the destination's ledger (a normalised URI or absolute path,
    no password), so that importing the same source again finds what it imported before.
    """

    key: str
    description: str  # for messages: "MLflow 2.9 database sqlite:///mlflow.db"

    @abc.abstractmethod
    def experiments(self, names: Sequence[str] | None = None) -> list[Experiment]:
        """Every experiment (active and deleted), or those named; tags included."""

    @abc.abstractmethod
    def run_headers(self, experiment_ids: Sequence[str]) -> Iterator[RunHeader]:
        """Every run of these experiments (active and deleted), parents before children."""

    @abc.abstractmethod
    def run_contents(self, headers: Sequence[RunHeader]) -> Iterator[RunContents]:
        """The contents of these runs (a chunk of a few hundred at most), in any order."""

    @abc.abstractmethod
    def logged_models(self, experiment_ids: Sequence[str]) -> Iterator[LoggedModel]:
        """MLflow 3's logged models of these experiments, params, tags and metrics included
        (nothing for a source that has none)."""

    @abc.abstractmethod
    def registered_models(self) -> Iterator[RegisteredModelRecord]:
        """Every registered model with its versions and aliases (nothing if none)."""

    @abc.abstractmethod
    def open_artifacts(self, artifact_uri: str) -> ArtifactRepository | None:
        """A repository reading the artifacts stored at *artifact_uri* (a run's or a logged
        model's location as the source records it), or None if the source keeps none there."""

    @abc.abstractmethod
    def counts(self, experiment_ids: Sequence[str]) -> SourceCounts:
        """What the source holds in these experiments (registered models: all of them)."""

    def close(self) -> None:  # noqa: B027 - a source holding nothing has nothing to close
        """Release connections and temporary files (override when holding any)."""
