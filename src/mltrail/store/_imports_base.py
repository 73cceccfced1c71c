"""The store interface that imports write through (``mltrail import ...``).

An import copies another store's history into this backend with the ids kept (experiment
ids, run ids, logged model ids, version numbers), which no ordinary store method allows, and
remembers what it copied in a *ledger*: one row per (source, kind, entity) with the
fingerprint the entity had when it was copied, so that importing the same source again
writes only what is new or changed.

Every write method is all-or-nothing and writes its ledger rows in the same transaction as
the data: an import killed at any point leaves each call either entirely done (and
recorded) or not done at all, so starting it again completes it with nothing doubled.

The SQL backend implements this part; a tracking server's REST API has no such operations,
so the REST backend's part raises ``NotImplementedYet`` (import into the server's database
URI instead).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mltrail._exceptions import NotImplementedYet
from mltrail.entities import DatasetInput, Experiment, LoggedModel, RunInfo

if TYPE_CHECKING:  # the registry's entities load on first use, off `import mltrail`
    from mltrail.entities import ModelVersion, RegisteredModel

__all__ = [
    "ImportStore",
    "ImportedCounts",
    "ImportedExperiment",
    "ImportedRegisteredModel",
    "ImportedRun",
    "LedgerEntry",
    "LedgerKind",
    "MetricPoints",
    "UnsupportedImports",
]


class LedgerKind:
    """The kinds of entity the ledger records."""

    EXPERIMENT = "experiment"
    RUN = "run"
    LOGGED_MODEL = "logged_model"
    REGISTERED_MODEL = "registered_model"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What the ledger remembers of one imported entity.

    ``target`` is what the entity became in this store where that is not its own key: an
    experiment's id here, a registered model's name here; for a run or a logged model, the
    number of artifact files copied for it (None when artifacts were not copied).
    """

    fingerprint: str
    target: str | None = None
    #: False for a run or logged model deleted for good in this store since it was imported
    present: bool = True


@dataclass(frozen=True, slots=True)
class ImportedExperiment:
    """An experiment as it is to be stored: ``experiment`` carries this store's id and name
    (tags, lifecycle and times as the source had them); ``source_id`` is its id there."""

    experiment: Experiment
    source_id: str
    fingerprint: str


@dataclass(slots=True)
class ImportedRun:
    """A run as it is to be stored, its id kept: ``info.experiment_id`` is this store's
    experiment and ``info.artifact_uri`` the run's artifact location here.

    Metric points are columns in logging order (``metric_keys[i]`` with ``metric_values[i]``,
    ...); NaN and the infinities are stored exactly.  ``model_input_ids`` and
    ``model_output_ids`` link the run to logged models already in this store (links to
    models this store does not have are left out).
    """

    info: RunInfo
    fingerprint: str
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    metric_keys: Sequence[str] = ()
    metric_values: Sequence[float] = ()
    metric_timestamps: Sequence[int] = ()
    metric_steps: Sequence[int] = ()
    dataset_inputs: Sequence[DatasetInput] = ()
    model_input_ids: Sequence[str] = ()
    model_output_ids: Sequence[tuple[str, int]] = ()
    artifact_files: int | None = None


@dataclass(slots=True)
class MetricPoints:
    """A run's metric points, one list per column (``keys[i]`` with ``values[i]``, ...)."""

    keys: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    timestamps: list[int] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)


@dataclass(slots=True)
class ImportedRegisteredModel:
    """A registered model with every version (numbers kept) and its aliases, under the name
    it is to have here (``model.name``); ``source_name`` is its name in the source."""

    model: RegisteredModel
    versions: Sequence[ModelVersion]
    aliases: Mapping[str, int]
    source_name: str
    fingerprint: str


@dataclass(slots=True)
class ImportedCounts:
    """What this store holds in some experiments (and some registered models)."""

    experiments: int = 0
    runs: int = 0
    params: int = 0
    tags: int = 0
    metric_points: int = 0
    logged_models: int = 0
    registered_models: int = 0
    model_versions: int = 0


class ImportStore(abc.ABC):
    """Writes with ids kept, and the ledger of what was imported from where.

    ``source_key`` names the source (at most 255 characters are kept; a longer key is
    stored by its digest).
    """

    @abc.abstractmethod
    def ledger(self, source_key: str, kind: str) -> dict[str, LedgerEntry]:
        """Every ledger entry of this source and kind (see :class:`LedgerKind`), by the
        entity's key in the source."""

    @abc.abstractmethod
    def write_experiments(self, source_key: str, experiments: Sequence[ImportedExperiment]) -> None:
        """Create or update these experiments with their ids, names, tags (replacing the
        stored ones), lifecycle and times; record them in the ledger.  One transaction."""

    @abc.abstractmethod
    def write_logged_models(
        self, source_key: str, models: Sequence[tuple[LoggedModel, str]]
    ) -> None:
        """Create or update these logged models (``(model, fingerprint)``, ids kept, the
        experiment id and artifact location already this store's) with their params, tags
        and metrics replacing the stored ones; record them in the ledger.  One transaction;
        their runs' links to them are kept."""

    @abc.abstractmethod
    def write_runs(self, source_key: str, runs: Sequence[ImportedRun]) -> int:
        """Replace these runs (ids kept) with everything given, creating the missing ones,
        and record them in the ledger, in one transaction; return the rows written."""

    @abc.abstractmethod
    def write_registered_model(self, source_key: str, model: ImportedRegisteredModel) -> None:
        """Replace the registered model of that name with this one (versions, their tags and
        stages, aliases, description, tags, times), without webhook events; record it in the
        ledger.  One transaction.  Each version's storage location is resolved from its
        source as registering it would, and is the source itself where that fails."""

    @abc.abstractmethod
    def counts(
        self, experiment_ids: Sequence[str], registered_model_names: Sequence[str]
    ) -> ImportedCounts:
        """What this store holds in these experiments and registered models."""

    @abc.abstractmethod
    def metric_points(self, run_ids: Sequence[str]) -> dict[str, MetricPoints]:
        """Every metric point of these runs, as columns by run id (each series in logging
        order): what this store, read as an import source, gives for the runs' contents
        (runs without points are left out)."""

    @abc.abstractmethod
    def series_counts(self, run_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        """The number of points of every metric series of these runs, by (run id, key):
        what this store, read as an import source, puts in its runs' fingerprints (a
        point appended anywhere in a series changes its count)."""


class UnsupportedImports(ImportStore):
    """The part of a backend that cannot be imported into: every method raises
    ``NotImplementedYet`` with *reason* (which says what to do instead)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def _refuse(self) -> NotImplementedYet:
        return NotImplementedYet(self.reason)

    def ledger(self, source_key: str, kind: str) -> dict[str, LedgerEntry]:
        raise self._refuse()

    def write_experiments(self, source_key: str, experiments: Sequence[ImportedExperiment]) -> None:
        raise self._refuse()

    def write_logged_models(
        self, source_key: str, models: Sequence[tuple[LoggedModel, str]]
    ) -> None:
        raise self._refuse()

    def write_runs(self, source_key: str, runs: Sequence[ImportedRun]) -> int:
        raise self._refuse()

    def write_registered_model(self, source_key: str, model: ImportedRegisteredModel) -> None:
        raise self._refuse()

    def counts(
        self, experiment_ids: Sequence[str], registered_model_names: Sequence[str]
    ) -> ImportedCounts:
        raise self._refuse()

    def metric_points(self, run_ids: Sequence[str]) -> dict[str, MetricPoints]:
        raise self._refuse()

    def series_counts(self, run_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        raise self._refuse()
