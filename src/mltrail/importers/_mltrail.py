"""Another mltrail store as an import source (``mltrail import mltrail SOURCE_URI``).

Reads any mltrail backend (an SQL database, or an mltrail tracking server over http)
through the public interfaces of its parts only, read-only.  Run headers come from
``search_runs`` a thousand at a time; a run's fingerprint digests its info, params, tags,
latest metric values, inputs and outputs, and the number of points of each of its series.  On
a database those counts come from its import part (``Backend.imports.series_counts``, the
stored series summaries) in one query per page, so a repeated import of many unchanged runs
costs a few queries per thousand runs.  A tracking server's API
has no such count: over http every history is read to count it, so a repeated import through
a server reads all the points again (import from its database URI when you can).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.artifacts import ArtifactRepository, get_artifact_repository
from mltrail.entities import Experiment, LoggedModel, ModelVersion, Run, ViewType
from mltrail.importers._fingerprint import digest, digest_text
from mltrail.importers._records import (
    MetricColumns,
    RegisteredModelRecord,
    RunContents,
    RunHeader,
    Source,
    SourceCounts,
)
from mltrail.store import Backend, open_backend
from mltrail.store._imports_base import MetricPoints

__all__ = ["MltrailSource", "resolve_source_uri", "source_key"]

_PAGE = 1000
#: About the most metric points :meth:`MltrailSource.run_contents` reads at once.
POINTS_PER_READ = 1_000_000
_PARENT_TAG = "mlflow.parentRunId"
_FOLDER_DB = "mltrail.db"  # the database of a folder store (see mltrail.tracking._uri)


def source_key(uri: str) -> str:
    """The ledger's name for a store: its URI without password, an SQLite file by its
    absolute path."""
    parts = urlsplit(uri)
    if uri.startswith("sqlite:"):
        path = _sqlite_file(uri)
        return f"mltrail:sqlite:///{os.path.abspath(path)}" if path else f"mltrail:{uri}"
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", "@")
    scheme = parts.scheme.split("+", 1)[0]
    return "mltrail:" + parts._replace(scheme=scheme, netloc=netloc).geturl().rstrip("/")


def resolve_source_uri(uri: str) -> str:
    """A source given as a folder (holding ``mltrail.db``), a relative SQLite path or a URI,
    as an absolute URI; nothing is created (NotFound when there is no store)."""
    if "://" in uri or uri.startswith("file:"):
        if uri.startswith("file:"):
            uri = unquote(urlsplit(uri).path)
        elif uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
            rest = uri[len("sqlite:///") :]
            if rest and not rest.startswith(":memory:"):
                return "sqlite:///" + os.path.abspath(rest)
            return uri
        else:
            return uri
    folder = os.path.abspath(uri)
    database = os.path.join(folder, _FOLDER_DB)
    if not os.path.exists(database):
        raise NotFound(
            f"No mltrail store in {folder}: it holds no {_FOLDER_DB} (give a database URI, "
            "or for MLflow's mlruns folder use: mltrail import mlflow FOLDER)"
        )
    return "sqlite:///" + database


def _sqlite_file(uri: str) -> str | None:
    path = unquote(urlsplit(uri).path)
    if uri.startswith("sqlite:////"):
        return "/" + path.lstrip("/")
    if uri.startswith("sqlite:///"):
        rest = path[1:]
        return None if rest in ("", ":memory:") else rest
    return None


@dataclass(frozen=True, slots=True)
class _RunStats:
    params: int
    tags: int
    points: int


class MltrailSource(Source):
    """An mltrail store, read through its backend's parts.

    ``MltrailSource(uri)`` opens the backend itself (and closes it in :meth:`close`); an
    SQLite file that does not exist is NotFound (opening it would create it).
    """

    def __init__(self, uri: str, backend: Backend | None = None) -> None:
        if backend is None:
            path = _sqlite_file(uri) if uri.startswith("sqlite:") else None
            if path is not None and not os.path.exists(path):
                raise NotFound(f"No mltrail database at {path}: nothing to import")
            backend = open_backend(uri)
            self._owned = True
        else:
            self._owned = False
        self.backend = backend
        self.uri = uri
        self.key = source_key(uri)
        self.description = f"mltrail store {self.key.removeprefix('mltrail:')}"
        self._remote = uri.split(":", 1)[0].lower() in ("http", "https")
        self._stats: dict[str, _RunStats] = {}
        self._listed: dict[str, list[str]] = {}  # experiment id -> its runs, once listed

    def close(self) -> None:
        if self._owned:
            self.backend.close()

    # -- experiments and runs -----------------------------------------------------------------
    def experiments(self, names: Sequence[str] | None = None) -> list[Experiment]:
        out: list[Experiment] = []
        token = None
        while True:
            page = self.backend.experiments.search_experiments(
                view_type=ViewType.ALL, max_results=_PAGE, page_token=token
            )
            out += page
            token = page.token
            if not token:
                break
        if names is not None:
            wanted = set(names)
            out = [e for e in out if e.name in wanted]
        return out

    def _runs(self, experiment_ids: Sequence[str]) -> Iterator[list[Run]]:
        if not experiment_ids:
            return
        token = None
        while True:
            page = self.backend.runs.search_runs(
                list(experiment_ids),
                run_view_type=ViewType.ALL,
                max_results=_PAGE,
                order_by=["attributes.start_time ASC"],
                page_token=token,
            )
            yield list(page)
            token = page.token
            if not token:
                return

    def _point_counts(self, runs: Sequence[Run]) -> dict[tuple[str, str], int]:
        """The number of points of every series of these runs: from the database's series
        summaries in a query per page; over http (whose API has no count), from the
        histories."""
        if not self._remote:
            return self.backend.imports.series_counts([run.info.run_id for run in runs])
        return {
            (run.info.run_id, key): len(
                self.backend.metrics.get_metric_history(run.info.run_id, key)
            )
            for run in runs
            for key in run.data.metrics
        }

    def run_headers(self, experiment_ids: Sequence[str]) -> Iterator[RunHeader]:
        headers: list[RunHeader] = []
        parents: dict[str, str] = {}
        listed: dict[str, list[str]] = {e: [] for e in experiment_ids}
        for runs in self._runs(experiment_ids):
            counts = self._point_counts(runs)
            for run in runs:
                run_id = run.info.run_id
                series = {k: counts.get((run_id, k)) for k in run.data.metrics}
                headers.append(RunHeader(run.info, _run_fingerprint(run, series)))
                listed.setdefault(run.info.experiment_id, []).append(run_id)
                points = sum(c for c in series.values() if c is not None)
                self._stats[run_id] = _RunStats(len(run.data.params), len(run.data.tags), points)
                parent = run.data.tags.get(_PARENT_TAG)
                if parent:
                    parents[run_id] = parent
        self._listed.update(listed)
        yield from _parents_first(headers, parents)

    def run_contents(self, headers: Sequence[RunHeader]) -> Iterator[RunContents]:
        """The runs' contents, their points read a batch of runs at a time (at most about
        :data:`POINTS_PER_READ` points, as counted when the runs were listed)."""
        batch: list[RunHeader] = []
        held = 0
        for header in headers:
            stats = self._stats.get(header.info.run_id)
            size = 0 if stats is None else stats.points
            if batch and held + size > POINTS_PER_READ:
                yield from self._contents(batch)
                batch, held = [], 0
            batch.append(header)
            held += size
        if batch:
            yield from self._contents(batch)

    def _contents(self, headers: Sequence[RunHeader]) -> Iterator[RunContents]:
        points = self._metric_points([h.info.run_id for h in headers])
        for header in headers:
            run = self.backend.runs.get_run(header.info.run_id)
            found = points.get(run.info.run_id)
            metrics = MetricColumns()
            if found is not None:
                metrics.keys, metrics.values = found.keys, found.values
                metrics.timestamps, metrics.steps = found.timestamps, found.steps
            yield RunContents(
                header=header,
                params=dict(run.data.params),
                tags=dict(run.data.tags),
                metrics=metrics,
                dataset_inputs=list(run.inputs.dataset_inputs),
                model_input_ids=[m.model_id for m in run.inputs.model_inputs],
                model_output_ids=[(m.model_id, m.step) for m in run.outputs.model_outputs],
            )

    def _metric_points(self, run_ids: Sequence[str]) -> dict[str, MetricPoints]:
        """Every point of these runs: from the database in one query per few hundred runs;
        over http, series by series through the API."""
        if not self._remote:
            return self.backend.imports.metric_points(run_ids)
        out: dict[str, MetricPoints] = {}
        for run_id in run_ids:
            run = self.backend.runs.get_run(run_id)
            columns = out[run_id] = MetricPoints()
            for key in run.data.metrics:
                for point in self.backend.metrics.get_metric_history(run_id, key):
                    columns.keys.append(key)
                    columns.values.append(point.value)
                    columns.timestamps.append(point.timestamp)
                    columns.steps.append(point.step)
        return out

    # -- models -------------------------------------------------------------------------------
    def logged_models(self, experiment_ids: Sequence[str]) -> Iterator[LoggedModel]:
        if not experiment_ids:
            return
        token = None
        while True:
            page = self.backend.logged_models.search_logged_models(
                list(experiment_ids), max_results=_PAGE, page_token=token
            )
            yield from page
            token = page.token
            if not token:
                return

    def registered_models(self) -> Iterator[RegisteredModelRecord]:
        registry = self.backend.registry
        versions: dict[str, list[ModelVersion]] = {}
        token = None
        while True:
            page = registry.search_model_versions(max_results=_PAGE, page_token=token)
            for version in page:
                versions.setdefault(version.name, []).append(version)
            token = page.token
            if not token:
                break
        token = None
        while True:
            models = registry.search_registered_models(max_results=_PAGE, page_token=token)
            for model in models:
                found = sorted(versions.get(model.name, []), key=lambda v: int(v.version))
                yield RegisteredModelRecord(
                    model=model,
                    versions=found,
                    aliases=dict(model.aliases),
                    fingerprint=digest(model, found),
                )
            token = models.token
            if not token:
                return

    # -- artifacts and counts -----------------------------------------------------------------
    def open_artifacts(self, artifact_uri: str) -> ArtifactRepository | None:
        if not artifact_uri:
            return None
        tracking = self.uri if self._remote else None
        try:
            return get_artifact_repository(artifact_uri, tracking_uri=tracking)
        except InvalidArgument:
            return None

    def counts(self, experiment_ids: Sequence[str]) -> SourceCounts:
        """Counted from what :meth:`run_headers` read when it listed these experiments (a
        repeated import reads nothing twice); experiments not listed yet are listed here."""
        wanted = list(dict.fromkeys(experiment_ids))
        if any(e not in self._listed for e in wanted):
            for _ in self.run_headers([e for e in wanted if e not in self._listed]):
                pass
        out = SourceCounts()
        out.experiments = sum(1 for e in self.experiments() if e.experiment_id in set(wanted))
        for experiment_id in wanted:
            for run_id in self._listed[experiment_id]:
                stats = self._stats[run_id]
                out.runs += 1
                out.params += stats.params
                out.tags += stats.tags
                out.metric_points += stats.points
        out.logged_models = sum(1 for _ in self.logged_models(wanted))
        for record in self.registered_models():
            out.registered_models += 1
            out.model_versions += len(record.versions)
        return out


def _run_fingerprint(run: Run, series: dict[str, int | None]) -> str:
    """A digest of everything stored for *run* but its artifacts (flat and fast: a repeated
    import computes one per run of the source)."""
    info, data = run.info, run.data
    parts = [
        repr(
            (
                info.run_id,
                info.experiment_id,
                info.run_name,
                info.user_id,
                info.status,
                info.start_time,
                info.end_time,
                info.artifact_uri,
                info.lifecycle_stage,
            )
        ),
        repr(sorted(data.params.items())),
        repr(sorted(data.tags.items())),
        repr(
            sorted(
                (m["key"], repr(m["value"]), m["timestamp"], m["step"])
                for m in data.to_dict()["metrics"]
            )
        ),
        repr(sorted(series.items())),
    ]
    if run.inputs.dataset_inputs or run.inputs.model_inputs:
        parts.append(json.dumps(run.inputs.to_dict(), sort_keys=True))
    if run.outputs.model_outputs:
        parts.append(json.dumps(run.outputs.to_dict(), sort_keys=True))
    return digest_text(*parts)


def _parents_first(headers: list[RunHeader], parents: dict[str, str]) -> list[RunHeader]:
    """*headers* ordered so that a run's parent (when listed) comes before it."""
    listed = {h.info.run_id for h in headers}

    def depth(run_id: str) -> int:
        seen = {run_id}
        level = 0
        while (parent := parents.get(run_id)) in listed and parent not in seen:
            seen.add(parent)
            run_id = parent
            level += 1
        return level

    return sorted(headers, key=lambda h: depth(h.info.run_id))
