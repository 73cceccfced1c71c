"""The import engine: everything a :class:`~mltrail.importers.Source` holds, into a backend.

:func:`run_import` is what every ``mltrail import ...`` command calls.  It works in passes:

1. **Plan** (nothing written): the source's experiments (narrowed by
   :attr:`ImportOptions.experiments`), where each goes (:mod:`mltrail.importers._plan`), its
   run headers, its logged models and registered models, and every conflict.  A conflict
   stops the import here, before anything is written (``ImportConflict`` lists them all).
2. **Compare**: each entity's fingerprint (for a run, the source's fingerprint of its
   contents plus a digest of its artifact listing) with the destination's ledger; equal ones
   are skipped, so a repeated import reads the source's index and writes nothing.
3. **Write**: experiments; logged models (artifacts first); runs in chunks, each chunk's
   artifacts copied first and then its rows and ledger entries written in one transaction;
   registered models, their versions' sources moved to the copied artifacts.  An import killed
   at any point and started again redoes at most the chunk it was in.
4. **Count**: what the source held and what the destination holds now (:class:`ImportReport`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.artifacts import get_artifact_repository
from mltrail.entities import Experiment, LoggedModel, ViewType
from mltrail.importers._artifact_copy import EMPTY, Listing, copy_tree, list_tree
from mltrail.importers._fingerprint import digest, digest_text
from mltrail.importers._plan import (
    Conflict,
    ExperimentPlan,
    ImportConflict,
    plan_experiments,
    plan_registered_model_names,
    select_experiments,
)
from mltrail.importers._records import (
    RegisteredModelRecord,
    RunContents,
    RunHeader,
    Source,
    SourceCounts,
)
from mltrail.store import Backend, open_backend
from mltrail.store._imports_base import (
    ImportedExperiment,
    ImportedRegisteredModel,
    ImportedRun,
    LedgerEntry,
    LedgerKind,
)

__all__ = [
    "COUNT_FIELDS",
    "POINTS_PER_WRITE",
    "ImportOptions",
    "ImportReport",
    "NoProgress",
    "Progress",
    "run_import",
]

T = TypeVar("T")

#: The most metric points of a chunk held in memory and written in one transaction.
POINTS_PER_WRITE = 2_000_000

#: The rows of the summary table: (SourceCounts field, label).
COUNT_FIELDS: tuple[tuple[str, str], ...] = (
    ("experiments", "experiments"),
    ("runs", "runs"),
    ("params", "params"),
    ("tags", "tags"),
    ("metric_points", "metric points"),
    ("artifacts", "artifacts"),
    ("logged_models", "logged models"),
    ("registered_models", "registered models"),
    ("model_versions", "model versions"),
)


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How to import.

    - ``experiments``: names or ids of the source experiments to import (all when empty);
      registered models then come only when one of their versions belongs to an imported
      run or logged model.
    - ``dry_run``: plan, compare and count, write nothing (the destination is not even
      created).
    - ``keep_artifact_locations``: runs and logged models keep their artifact URIs as the
      source has them (an S3 bucket the team already has, say) instead of having their
      artifacts copied into the destination's artifact store.
    - ``experiment_prefix`` / ``model_prefix``: prepended to the names of the imported
      experiments / registered models (resolves name conflicts).
    - ``new_experiment_ids``: imported experiments whose id is taken in the destination by
      another experiment get new ids (resolves id conflicts; a repeated import finds them).
    - ``artifact_root``: the destination's default artifact root (where copied artifacts
      go; default: the destination's own, beside an SQLite file).
    - ``chunk_size``: runs written per transaction; ``workers``: threads listing and
      copying artifacts.
    """

    experiments: tuple[str, ...] = ()
    dry_run: bool = False
    keep_artifact_locations: bool = False
    experiment_prefix: str = ""
    model_prefix: str = ""
    new_experiment_ids: bool = False
    artifact_root: str | None = None
    chunk_size: int = 200
    workers: int = 4

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise InvalidArgument(f"Invalid chunk_size {self.chunk_size}: must be at least 1")
        if self.workers < 1:
            raise InvalidArgument(f"Invalid workers {self.workers}: must be at least 1")


class Progress(Protocol):
    """Where the engine reports its progress: one phase at a time."""

    def begin(self, label: str, total: int | None) -> None:
        """A phase starts; *total* items (None when unknown)."""

    def advance(self, count: int = 1) -> None:
        """*count* more items of the current phase are done."""

    def end(self) -> None:
        """The current phase is over."""


class NoProgress:
    """Progress that goes nowhere."""

    def begin(self, label: str, total: int | None) -> None:
        """Nothing to show."""

    def advance(self, count: int = 1) -> None:
        """Nothing to show."""

    def end(self) -> None:
        """Nothing to show."""


@dataclass(slots=True)
class ImportReport:
    """What an import found and did (or, with ``dry_run``, would do).

    ``source`` counts what the source holds in the imported experiments (and the imported
    registered models), ``destination`` what the destination holds in the experiments they
    went to after the import (before it, for a dry run).  Artifacts are the files the import
    listed in the source, and the files it copied into the destination (with
    ``keep_artifact_locations``, the same files).
    """

    source_description: str
    destination_uri: str
    source: SourceCounts
    destination: SourceCounts
    dry_run: bool = False
    experiments_written: int = 0
    runs_written: int = 0
    runs_unchanged: int = 0
    logged_models_written: int = 0
    registered_models_written: int = 0
    artifact_files_copied: int = 0
    artifact_bytes_copied: int = 0
    rows_written: int = 0
    conflicts: list[Conflict] = field(default_factory=list)

    def differences(self) -> list[tuple[str, int | None, int | None]]:
        """The rows of the table whose two sides differ: (label, source, destination)."""
        out = []
        for name, label in COUNT_FIELDS:
            ours, theirs = getattr(self.source, name), getattr(self.destination, name)
            if ours != theirs:
                out.append((label, ours, theirs))
        return out

    @property
    def equal(self) -> bool:
        return not self.differences()


def run_import(
    source: Source,
    destination_uri: str,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import everything *source* holds into the tracking backend at *destination_uri*.

    The destination must be a database URI (a tracking server cannot be imported into);
    the caller keeps and closes *source*.  Raises ``ImportConflict`` (nothing written)
    when the import would overwrite other data (see :mod:`mltrail.importers._plan`).
    """
    options = options or ImportOptions()
    progress = progress or NoProgress()
    backend = None
    if not (options.dry_run and _is_missing_sqlite(destination_uri)):
        backend = open_backend(destination_uri, options.artifact_root)
    try:
        return _Import(source, backend, destination_uri, options, progress).run()
    finally:
        if backend is not None:
            backend.close()


def _is_missing_sqlite(uri: str) -> bool:
    """An ``sqlite:`` URI whose file does not exist yet (a dry run must not create it)."""
    if not uri.startswith("sqlite:"):
        return False
    path = unquote(urlsplit(uri).path)
    if uri.startswith("sqlite:////"):
        path = "/" + path.lstrip("/")
    elif uri.startswith("sqlite:///"):
        path = path[1:]
    return bool(path) and path != ":memory:" and not os.path.exists(path)


def _join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def _artifact_part(entry: LedgerEntry | None) -> str | None:
    if entry is None or "|" not in entry.fingerprint:
        return None
    return entry.fingerprint.split("|", 1)[1]


@dataclass(slots=True)
class _RunPlan:
    header: RunHeader
    target_experiment: str
    target_uri: str
    listing: Listing | None
    ledger_fingerprint: str
    copy: bool


class _Import:
    """One import: the state its passes share."""

    def __init__(
        self,
        source: Source,
        backend: Backend | None,
        destination_uri: str,
        options: ImportOptions,
        progress: Progress,
    ) -> None:
        self.source = source
        self.backend = backend
        self.options = options
        self.progress = progress
        self.copy = not options.keep_artifact_locations
        self.key = source.key
        self.report = ImportReport(
            source.description, _redact(destination_uri), SourceCounts(), SourceCounts()
        )
        self.report.dry_run = options.dry_run
        self.moved: dict[str, str] = {}  # source artifact location -> destination's
        self.listed_files = 0  # artifact files listed in the source
        self.artifact_root = "" if backend is None else backend.artifact_root
        # Set by the planning passes:
        self.changed_runs: list[_RunPlan] = []  # new or changed since the last import
        self.recreated_models: list[LoggedModel] = []  # imported, then deleted here for good
        self.model_ledger: dict[str, LedgerEntry] = {}
        self.existing_models: set[str] = set()  # registered model names already here

    # -- helpers ------------------------------------------------------------------------------
    def _ledger(self, kind: str) -> dict[str, LedgerEntry]:
        return {} if self.backend is None else self.backend.imports.ledger(self.key, kind)

    def _parallel(self, fn: Callable[[Any], T], items: Sequence[Any], label: str) -> list[T]:
        """*fn* over *items* on the worker threads, in order, with a progress phase."""
        if not items:
            return []
        self.progress.begin(label, len(items))
        try:
            with ThreadPoolExecutor(self.options.workers) as pool:
                out = []
                for result in pool.map(fn, items):
                    out.append(result)
                    self.progress.advance()
                return out
        finally:
            self.progress.end()

    def _listing(self, location: str) -> Listing:
        if not location:
            return EMPTY
        return list_tree(self.source.open_artifacts(location))

    def _copy(self, item: tuple[str, str, Listing]) -> tuple[int, int]:
        location, target, listing = item
        repo = self.source.open_artifacts(location)
        if repo is None:
            return 0, 0
        result = copy_tree(repo, listing, get_artifact_repository(target))
        return result.files, result.bytes

    def _copy_all(self, items: Sequence[tuple[str, str, Listing]], label: str) -> None:
        for files, size in self._parallel(self._copy, items, label):
            self.report.artifact_files_copied += files
            self.report.artifact_bytes_copied += size

    # -- the passes -----------------------------------------------------------------------------
    def run(self) -> ImportReport:
        # First: a destination that cannot be imported into says so before anything is read.
        self._ledger(LedgerKind.EXPERIMENT)
        plans = self._plan_experiments()
        by_source = {p.source.experiment_id: p for p in plans}
        source_ids = list(by_source)
        headers = self._headers(source_ids)
        models = list(self.source.logged_models(source_ids))
        model_plans = self._plan_models(models, by_source)
        run_plans = self._plan_runs(headers, by_source)
        records, names, model_conflicts = self._plan_registered(headers, models)
        self.report.conflicts += model_conflicts
        if self.report.conflicts and not self.options.dry_run:
            raise ImportConflict(self.report.conflicts)
        if not self.options.dry_run:
            self._write_experiments(plans)
            self._write_logged_models(model_plans)
            self._write_runs()
            self._write_registered(records, names)
        else:
            self._tally_dry_run(plans, run_plans, model_plans, records, names)
        self._count(plans, source_ids, records, names, run_plans, model_plans)
        return self.report

    def _plan_experiments(self) -> list[ExperimentPlan]:
        every = self.source.experiments(None)
        chosen = select_experiments(every, self.options.experiments)
        destination: list[Experiment] = []
        if self.backend is not None:
            destination = _all_experiments(self.backend)
        plans, conflicts = plan_experiments(
            chosen,
            destination,
            self._ledger(LedgerKind.EXPERIMENT),
            prefix=self.options.experiment_prefix,
            new_ids=self.options.new_experiment_ids,
        )
        self.report.conflicts += conflicts
        return plans

    def _target_location(self, plan: ExperimentPlan) -> str:
        if not self.copy:
            return plan.source.artifact_location
        if plan.existing_location:
            return plan.existing_location
        return _join(self.artifact_root, plan.target_id)

    def _headers(self, source_ids: Sequence[str]) -> list[RunHeader]:
        self.progress.begin("Listing runs", None)
        try:
            out = []
            for header in self.source.run_headers(source_ids):
                out.append(header)
                self.progress.advance()
            return out
        finally:
            self.progress.end()

    def _plan_runs(
        self, headers: Sequence[RunHeader], by_source: dict[str, ExperimentPlan]
    ) -> list[_RunPlan]:
        # A run deleted for good in the destination is imported again; so is every run of
        # an experiment whose logged model was (deleting a model drops its links to runs).
        relinked = {m.experiment_id for m in self.recreated_models}
        ledger = {
            run_id: entry for run_id, entry in self._ledger(LedgerKind.RUN).items() if entry.present
        }
        if relinked:
            for header in headers:
                if header.info.experiment_id in relinked:
                    ledger.pop(header.info.run_id, None)
        listings: list[Listing | None] = [None] * len(headers)
        if self.copy:
            listings = list(
                self._parallel(
                    lambda h: self._listing(h.info.artifact_uri), headers, "Listing artifacts"
                )
            )
        out = []
        for header, listing in zip(headers, listings, strict=True):
            info = header.info
            plan = by_source[info.experiment_id]
            if self.copy:
                target_uri = _join(self._target_location(plan), info.run_id, "artifacts")
                if info.artifact_uri:
                    self.moved[info.artifact_uri.rstrip("/")] = target_uri
            else:
                target_uri = info.artifact_uri
            content = digest_text(header.fingerprint, plan.target_id, target_uri)
            artifacts = (
                f"{listing.fingerprint}:{digest_text(target_uri)[:8]}"
                if listing is not None
                else "keep"
            )
            entry = ledger.get(info.run_id)
            run_fp = f"{content}|{artifacts}"
            out.append(
                _RunPlan(
                    header,
                    plan.target_id,
                    target_uri,
                    listing,
                    run_fp,
                    listing is not None and _artifact_part(entry) != artifacts,
                )
            )
            if listing is not None:
                self.listed_files += len(listing.files)
        self.changed_runs = [
            p
            for p in out
            if ledger.get(p.header.info.run_id, _NO_ENTRY).fingerprint != p.ledger_fingerprint
        ]
        self.report.runs_unchanged = len(out) - len(self.changed_runs)
        return out

    def _plan_models(
        self, models: Sequence[LoggedModel], by_source: dict[str, ExperimentPlan]
    ) -> list[tuple[LoggedModel, LoggedModel, Listing | None, str]]:
        """(source model, destination model, listing, ledger fingerprint) of every model."""
        ledger = self._ledger(LedgerKind.LOGGED_MODEL)
        self.recreated_models = [m for m in models if not ledger.get(m.model_id, _NO_ENTRY).present]
        ledger = {k: e for k, e in ledger.items() if e.present}
        listings: list[Listing | None] = [None] * len(models)
        if self.copy:
            listings = list(
                self._parallel(
                    lambda m: self._listing(m.artifact_location), models, "Listing model artifacts"
                )
            )
        out = []
        for model, listing in zip(models, listings, strict=True):
            plan = by_source.get(model.experiment_id)
            if plan is None:
                continue
            location = model.artifact_location
            if self.copy:
                location = _join(self._target_location(plan), "models", model.model_id, "artifacts")
                if model.artifact_location:
                    self.moved[model.artifact_location.rstrip("/")] = location
            target = replace(model, experiment_id=plan.target_id, artifact_location=location)
            artifacts = (
                f"{listing.fingerprint}:{digest_text(location)[:8]}"
                if listing is not None
                else "keep"
            )
            fp = f"{digest(target)}|{artifacts}"
            if listing is not None:
                self.listed_files += len(listing.files)
            out.append((model, target, listing, fp))
        self.model_ledger = ledger
        return out

    def _plan_registered(
        self, headers: Sequence[RunHeader], models: Sequence[LoggedModel]
    ) -> tuple[list[RegisteredModelRecord], dict[str, str], list[Conflict]]:
        records = list(self.source.registered_models())
        if self.options.experiments:
            run_ids = {h.info.run_id for h in headers}
            model_ids = {m.model_id for m in models}
            records = [
                r
                for r in records
                if any(v.run_id in run_ids or v.model_id in model_ids for v in r.versions)
            ]
        existing: set[str] = set()
        if self.backend is not None:
            for record in records:
                name = self.options.model_prefix + record.model.name
                try:
                    self.backend.registry.get_registered_model(name)
                except NotFound:
                    continue
                existing.add(name)
        self.existing_models = existing
        names, conflicts = plan_registered_model_names(
            [r.model.name for r in records],
            existing,
            self._ledger(LedgerKind.REGISTERED_MODEL),
            prefix=self.options.model_prefix,
        )
        return records, names, conflicts

    # -- writing ------------------------------------------------------------------------------
    def _experiment_items(self, plans: Sequence[ExperimentPlan]) -> list[ImportedExperiment]:
        """The experiments to write: new ones, and those changed since the last import."""
        ledger = self._ledger(LedgerKind.EXPERIMENT)
        items = []
        for plan in plans:
            target = replace(
                plan.source,
                experiment_id=plan.target_id,
                name=plan.target_name,
                artifact_location=self._target_location(plan),
            )
            fp = digest(target)
            entry = ledger.get(plan.source.experiment_id)
            if entry is not None and entry.fingerprint == fp and plan.exists:
                continue
            items.append(ImportedExperiment(target, plan.source.experiment_id, fp))
        return items

    def _write_experiments(self, plans: Sequence[ExperimentPlan]) -> None:
        assert self.backend is not None
        items = self._experiment_items(plans)
        self.backend.imports.write_experiments(self.key, items)
        self.report.experiments_written = len(items)

    def _write_logged_models(
        self, plans: Sequence[tuple[LoggedModel, LoggedModel, Listing | None, str]]
    ) -> None:
        assert self.backend is not None
        changed = [
            p for p in plans if self.model_ledger.get(p[0].model_id, _NO_ENTRY).fingerprint != p[3]
        ]
        if self.copy:
            copies = [
                (src.artifact_location, dst.artifact_location, listing)
                for src, dst, listing, fp in changed
                if listing is not None
                and _artifact_part(self.model_ledger.get(src.model_id)) != fp.split("|", 1)[1]
            ]
            self._copy_all(copies, "Copying model artifacts")
        for lo in range(0, len(changed), self.options.chunk_size):
            part = changed[lo : lo + self.options.chunk_size]
            self.backend.imports.write_logged_models(
                self.key, [(dst, fp) for _, dst, _, fp in part]
            )
        self.report.logged_models_written = len(changed)

    def _write_runs(self) -> None:
        """The new and changed runs, a chunk at a time: its artifacts, then its rows and
        ledger entries in one transaction."""
        todo = self.changed_runs
        self.progress.begin("Importing runs", len(todo))
        try:
            for lo in range(0, len(todo), self.options.chunk_size):
                part = todo[lo : lo + self.options.chunk_size]
                self._write_chunk(part)
                self.progress.advance(len(part))
        finally:
            self.progress.end()
        self.report.runs_written = len(todo)

    def _write_chunk(self, part: Sequence[_RunPlan]) -> None:
        """Read a chunk's contents and write them, cut where the points held in memory
        would pass :data:`POINTS_PER_WRITE` (a run of a million points is written alone)."""
        by_id = {p.header.info.run_id: p for p in part}
        pending: list[tuple[_RunPlan, RunContents]] = []
        points = 0
        for contents in self.source.run_contents([p.header for p in part]):
            plan = by_id.pop(contents.header.info.run_id, None)
            if plan is None:
                continue  # not asked for (or given twice): nothing to write
            if pending and points + len(contents.metrics) > POINTS_PER_WRITE:
                self._write_some(pending)
                pending, points = [], 0
            pending.append((plan, contents))
            points += len(contents.metrics)
        if pending:
            self._write_some(pending)
        if by_id:
            raise NotFound(
                f"The source listed run {next(iter(by_id))} but gave no contents for it "
                f"({self.source.description}): was it deleted during the import?"
            )

    def _write_some(self, pending: Sequence[tuple[_RunPlan, RunContents]]) -> None:
        """Copy these runs' artifacts, then write their rows and ledger entries in one
        transaction (a kill in between copies them again, over the same paths)."""
        assert self.backend is not None
        copies = [
            (p.header.info.artifact_uri, p.target_uri, p.listing)
            for p, _ in pending
            if p.copy and p.listing is not None
        ]
        for files, size in map(self._copy, copies) if len(copies) < 2 else self._pool_copy(copies):
            self.report.artifact_files_copied += files
            self.report.artifact_bytes_copied += size
        runs = [self._imported_run(plan, contents) for plan, contents in pending]
        self.report.rows_written += self.backend.imports.write_runs(self.key, runs)

    def _pool_copy(self, copies: Sequence[tuple[str, str, Listing]]) -> Iterable[tuple[int, int]]:
        with ThreadPoolExecutor(self.options.workers) as pool:
            return list(pool.map(self._copy, copies))

    def _imported_run(self, plan: _RunPlan, contents: RunContents) -> ImportedRun:
        metrics = contents.metrics
        info = replace(
            contents.header.info,
            experiment_id=plan.target_experiment,
            artifact_uri=plan.target_uri,
        )
        return ImportedRun(
            info=info,
            fingerprint=plan.ledger_fingerprint,
            params=contents.params,
            tags=contents.tags,
            metric_keys=metrics.keys,
            metric_values=metrics.values,
            metric_timestamps=metrics.timestamps,
            metric_steps=metrics.steps,
            dataset_inputs=contents.dataset_inputs,
            model_input_ids=contents.model_input_ids,
            model_output_ids=contents.model_output_ids,
            artifact_files=None if plan.listing is None else len(plan.listing.files),
        )

    def _registered(self, record: RegisteredModelRecord, name: str) -> ImportedRegisteredModel:
        versions = [
            replace(v, name=name, source=self._moved_source(v.source) if v.source else v.source)
            for v in record.versions
        ]
        model = replace(record.model, name=name, latest_versions=[])
        aliases = dict(record.aliases or record.model.aliases)
        fp = digest(model, versions, aliases)
        return ImportedRegisteredModel(model, versions, aliases, record.model.name, fp)

    def _moved_source(self, source: str) -> str:
        """*source* with the artifact location it points into replaced by the copy's."""
        if not self.moved:
            return source
        cut = len(source)
        while cut > 0:
            prefix = source[:cut].rstrip("/")
            if prefix in self.moved:
                return self.moved[prefix] + source[len(prefix) :]
            cut = source.rfind("/", 0, cut)
        return source

    def _model_changed(self, entry: LedgerEntry | None, item: ImportedRegisteredModel) -> bool:
        """Whether a registered model must be written: new, changed since the last import,
        imported under another name, or deleted in the destination since."""
        return (
            entry is None
            or entry.fingerprint != item.fingerprint
            or entry.target != item.model.name
            or item.model.name not in self.existing_models
        )

    def _write_registered(
        self, records: Sequence[RegisteredModelRecord], names: dict[str, str]
    ) -> None:
        assert self.backend is not None
        ledger = self._ledger(LedgerKind.REGISTERED_MODEL)
        self.progress.begin("Importing registered models", len(records))
        try:
            for record in records:
                item = self._registered(record, names[record.model.name])
                if self._model_changed(ledger.get(record.model.name), item):
                    self.backend.imports.write_registered_model(self.key, item)
                    self.report.registered_models_written += 1
                self.progress.advance()
        finally:
            self.progress.end()

    def _tally_dry_run(
        self,
        plans: Sequence[ExperimentPlan],
        run_plans: Sequence[_RunPlan],
        model_plans: Sequence[tuple[LoggedModel, LoggedModel, Listing | None, str]],
        records: Sequence[RegisteredModelRecord],
        names: dict[str, str],
    ) -> None:
        """What the import would write, counted the way it would decide."""
        self.report.experiments_written = len(self._experiment_items(plans))
        self.report.runs_written = len(self.changed_runs)
        self.report.logged_models_written = sum(
            1
            for src, _, _, fp in model_plans
            if self.model_ledger.get(src.model_id, _NO_ENTRY).fingerprint != fp
        )
        registered = self._ledger(LedgerKind.REGISTERED_MODEL)
        self.report.registered_models_written = sum(
            1
            for r in records
            if self._model_changed(
                registered.get(r.model.name), self._registered(r, names[r.model.name])
            )
        )
        self.report.artifact_files_copied = sum(
            len(p.listing.files) for p in run_plans if p.copy and p.listing is not None
        )
        self.report.artifact_bytes_copied = sum(
            p.listing.bytes for p in run_plans if p.copy and p.listing is not None
        )

    # -- counting -----------------------------------------------------------------------------
    def _count(
        self,
        plans: Sequence[ExperimentPlan],
        source_ids: Sequence[str],
        records: Sequence[RegisteredModelRecord],
        names: dict[str, str],
        run_plans: Sequence[_RunPlan],
        model_plans: Sequence[tuple[LoggedModel, LoggedModel, Listing | None, str]],
    ) -> None:
        self.progress.begin("Counting", None)
        try:
            counts = self.source.counts(source_ids)
            counts.registered_models = len(records)
            counts.model_versions = sum(len(r.versions) for r in records)
            if self.copy:
                counts.artifacts = self.listed_files
            self.report.source = counts
            if self.backend is None:
                return
            here = self.backend.imports.counts(
                [p.target_id for p in plans], [names[r.model.name] for r in records]
            )
            destination = SourceCounts(
                experiments=here.experiments,
                runs=here.runs,
                params=here.params,
                tags=here.tags,
                metric_points=here.metric_points,
                logged_models=here.logged_models,
                registered_models=here.registered_models,
                model_versions=here.model_versions,
            )
            if self.copy:
                destination.artifacts = self._copied_files(run_plans, model_plans)
            else:
                destination.artifacts = counts.artifacts
            self.report.destination = destination
        finally:
            self.progress.end()

    def _copied_files(
        self,
        run_plans: Sequence[_RunPlan],
        model_plans: Sequence[tuple[LoggedModel, LoggedModel, Listing | None, str]],
    ) -> int:
        """The artifact files the destination holds for these runs and models, as the
        ledger recorded them when they were copied (nothing for a dry run's new ones)."""
        total = 0
        runs = self._ledger(LedgerKind.RUN)
        for plan in run_plans:
            entry = runs.get(plan.header.info.run_id)
            if (
                entry is not None
                and entry.present
                and entry.target
                and entry.fingerprint == plan.ledger_fingerprint
            ):
                total += int(entry.target)
        models = self._ledger(LedgerKind.LOGGED_MODEL)
        for src, _, listing, fp in model_plans:
            entry = models.get(src.model_id)
            if (
                entry is not None
                and entry.present
                and entry.fingerprint == fp
                and listing is not None
            ):
                total += len(listing.files)
        return total


_NO_ENTRY = LedgerEntry("")  # present: a model never imported is not "recreated"


def _all_experiments(backend: Backend) -> list[Experiment]:
    out: list[Experiment] = []
    token = None
    while True:
        page = backend.experiments.search_experiments(
            view_type=ViewType.ALL, max_results=1000, page_token=token
        )
        out += page
        token = page.token
        if not token:
            return out


def _redact(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.password:
        return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
    return uri
