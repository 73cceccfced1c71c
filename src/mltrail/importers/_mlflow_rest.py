"""A running MLflow tracking server read through its REST API as an import source.

Endpoints (``/api/2.0/mlflow/...``): ``experiments/search``, ``runs/search`` (page tokens,
deleted runs included), ``metrics/get-history`` (a run's full series of one key), the UI's
``/ajax-api/2.0/mlflow/metrics/get-history-bulk`` (one key for up to 100 runs per call, used
when the server has it), ``logged-models/search`` (MLflow 3), ``registered-models/search`` and
``model-versions/search``.  Artifacts are read where the runs' locations say: through the
server's artifact proxy for ``mlflow-artifacts:`` locations, or the store itself (S3, a folder
on this machine).

A run's fingerprint covers what ``runs/search`` returns: its info, params, tags, the latest
value of each metric (step, timestamp, value), its inputs and outputs.  MLflow appends metric
points and never edits them, so a new point shows as a new latest value, except a point logged
at an older step and time than the latest one: the REST API offers no count of a run's points,
so such a late point reaches a repeated import only with the run's next other change (a
database source counts points and sees it).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from mltrail._exceptions import EndpointNotFound, InvalidArgument
from mltrail.artifacts import ArtifactRepository
from mltrail.entities import (
    DatasetInput,
    Experiment,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    RunInfo,
)
from mltrail.importers._mlflow_common import (
    INF_STORED,
    fingerprint,
    local_path,
    model_id_from_source,
    open_location,
    parents_first,
    redact_uri,
)
from mltrail.importers._records import (
    MetricColumns,
    RegisteredModelRecord,
    RunContents,
    RunHeader,
    Source,
    SourceCounts,
)
from mltrail.store.rest import RestClient

__all__ = ["MlflowServerSource"]

_API = "/api/2.0/mlflow/"
_BULK = "/ajax-api/2.0/mlflow/metrics/get-history-bulk"
_BULK_RUNS = 100  # the server's limit of run ids per bulk call
_BULK_POINTS = 25000  # and of points per run in one bulk answer
_RUNS_PAGE = 1000
_DELETED_VERSION = "Deleted_Internal"


def _value(raw: Any) -> float:
    """A metric value as JSON carries it ("NaN", "Infinity", or a number), with MLflow's SQL
    store's stand-in for infinity (the largest double) read back as infinity."""
    number = float(raw)
    if number == INF_STORED:
        return math.inf
    if number == -INF_STORED:
        return -math.inf
    return number


def _pairs(items: Any) -> dict[str, str]:
    return {str(i["key"]): str(i.get("value", "")) for i in items or []}


class MlflowServerSource(Source):
    """An MLflow tracking server at *uri* (``http(s)://host[:port][/prefix]``).

    *transport* serves the calls in process (tests); credentials come from the URI's
    ``user:password@`` or the ``MLFLOW_TRACKING_*``/``MLTRAIL_TRACKING_*`` variables, as for
    mltrail's REST store.
    """

    def __init__(self, uri: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.client = RestClient(uri, transport=transport)
        self.url = self.client.base_url
        self.key = redact_uri(self.url)
        self.description = f"MLflow tracking server {self.key}"
        self._has_bulk = True
        self._runs: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        self.client.close()

    def _post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.client.call("POST", _API + endpoint, body=body, idempotent=True)

    def _get(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        return self.client.call("GET", _API + endpoint, params=params, idempotent=True)

    # -- experiments and runs -------------------------------------------------------------------

    def experiments(self, names: Sequence[str] | None = None) -> list[Experiment]:
        found: list[Experiment] = []
        token: str | None = None
        while True:
            body: dict[str, Any] = {"max_results": 1000, "view_type": "ALL"}
            if token:
                body["page_token"] = token
            page = self._post("experiments/search", body)
            found += [Experiment.from_dict(e) for e in page.get("experiments", [])]
            token = page.get("next_page_token")
            if not token:
                break
        if names is not None:
            found = [e for e in found if e.name in names]
        return sorted(found, key=lambda e: (len(e.experiment_id), e.experiment_id))

    def _search_runs(self, experiment_ids: Sequence[str]) -> Iterator[dict[str, Any]]:
        for start in range(0, len(experiment_ids), 100):
            token: str | None = None
            while True:
                body: dict[str, Any] = {
                    "experiment_ids": list(experiment_ids[start : start + 100]),
                    "run_view_type": "ALL",
                    "max_results": _RUNS_PAGE,
                }
                if token:
                    body["page_token"] = token
                page = self._post("runs/search", body)
                yield from page.get("runs", [])
                token = page.get("next_page_token")
                if not token:
                    break

    def run_headers(self, experiment_ids: Sequence[str]) -> Iterator[RunHeader]:
        infos: list[RunInfo] = []
        parents: dict[str, str] = {}
        prints: dict[str, str] = {}
        for run in self._search_runs([str(e) for e in experiment_ids]):
            info = RunInfo.from_dict(run["info"])
            data = run.get("data") or {}
            tags = _pairs(data.get("tags"))
            if not info.run_name and "mlflow.runName" in tags:
                info = RunInfo.from_dict({**run["info"], "run_name": tags["mlflow.runName"]})
            infos.append(info)
            self._runs[info.run_id] = run
            if "mlflow.parentRunId" in tags:
                parents[info.run_id] = tags["mlflow.parentRunId"]
            prints[info.run_id] = fingerprint(
                sorted(run["info"].items()),
                sorted(tags.items()),
                sorted(_pairs(data.get("params")).items()),
                sorted(
                    (m["key"], m.get("step", 0), m.get("timestamp", 0), str(m.get("value")))
                    for m in data.get("metrics") or []
                ),
                repr(run.get("inputs")),
                repr(run.get("outputs")),
            )
        for info in parents_first(infos, parents):
            yield RunHeader(info, prints[info.run_id])

    def _run(self, run_id: str) -> dict[str, Any]:
        run = self._runs.get(run_id)
        if run is None:
            run = self._get("runs/get", {"run_id": run_id})["run"]
            self._runs[run_id] = run
        return run

    def run_contents(self, headers: Sequence[RunHeader]) -> Iterator[RunContents]:
        runs = {h.info.run_id: self._run(h.info.run_id) for h in headers}
        histories = self._histories(runs)
        for header in headers:
            run = runs[header.info.run_id]
            data = run.get("data") or {}
            inputs = run.get("inputs") or {}
            outputs = run.get("outputs") or {}
            yield RunContents(
                header,
                params=_pairs(data.get("params")),
                tags=_pairs(data.get("tags")),
                metrics=histories.get(header.info.run_id, MetricColumns()),
                dataset_inputs=[
                    DatasetInput.from_dict(d) for d in inputs.get("dataset_inputs", [])
                ],
                model_input_ids=[m["model_id"] for m in inputs.get("model_inputs", [])],
                model_output_ids=[
                    (m["model_id"], int(m.get("step") or 0))
                    for m in outputs.get("model_outputs", [])
                ],
            )
            self._runs.pop(header.info.run_id, None)

    def _histories(self, runs: dict[str, dict[str, Any]]) -> dict[str, MetricColumns]:
        """Every point of every metric of these runs: per key, bulk calls of 100 runs; a run
        whose answer reached the bulk limit, or a server without the bulk call, is read with
        ``metrics/get-history``."""
        by_key: dict[str, list[str]] = defaultdict(list)
        for run_id, run in runs.items():
            for metric in (run.get("data") or {}).get("metrics") or []:
                by_key[metric["key"]].append(run_id)
        points: dict[str, list[tuple[str, float, int, int, dict[str, Any]]]] = defaultdict(list)
        for key, run_ids in sorted(by_key.items()):
            for start in range(0, len(run_ids), _BULK_RUNS):
                chunk = run_ids[start : start + _BULK_RUNS]
                bulk = self._bulk(key, chunk) if self._has_bulk else None
                for run_id in chunk:
                    got = bulk.get(run_id) if bulk is not None else None
                    if got is None or len(got) >= _BULK_POINTS:
                        got = self._history(run_id, key)
                    points[run_id] += [
                        (
                            key,
                            _value(m["value"]),
                            int(m.get("timestamp") or 0),
                            int(m.get("step") or 0),
                            m,
                        )
                        for m in got
                    ]
        out: dict[str, MetricColumns] = {}
        for run_id, rows in points.items():
            rows.sort(key=lambda p: (p[0], p[3], p[2]))
            cols = MetricColumns(
                keys=[p[0] for p in rows],
                values=[p[1] for p in rows],
                timestamps=[p[2] for p in rows],
                steps=[p[3] for p in rows],
            )
            if any(p[4].get("model_id") or p[4].get("dataset_name") for p in rows):
                cols.model_ids = [p[4].get("model_id") or None for p in rows]
                cols.dataset_names = [p[4].get("dataset_name") or None for p in rows]
                cols.dataset_digests = [p[4].get("dataset_digest") or None for p in rows]
            out[run_id] = cols
        return out

    def _bulk(self, key: str, run_ids: list[str]) -> dict[str, list[dict[str, Any]]] | None:
        try:
            answer = self.client.call(
                "GET",
                _BULK,
                params={"run_id": run_ids, "metric_key": key, "max_results": _BULK_POINTS},
                idempotent=True,
            )
        except EndpointNotFound:
            self._has_bulk = False
            return None
        grouped: dict[str, list[dict[str, Any]]] = {run_id: [] for run_id in run_ids}
        for metric in answer.get("metrics", []):
            grouped.setdefault(metric["run_id"], []).append(metric)
        return grouped

    def _history(self, run_id: str, key: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"run_id": run_id, "metric_key": key}
            if token:
                params.update(page_token=token, max_results=_BULK_POINTS)
            page = self._get("metrics/get-history", params)
            found += page.get("metrics", [])
            token = page.get("next_page_token")
            if not token:
                return found

    # -- logged models ------------------------------------------------------------------------

    def logged_models(self, experiment_ids: Sequence[str]) -> Iterator[LoggedModel]:
        ids = [str(e) for e in experiment_ids]
        for start in range(0, len(ids), 100):
            token: str | None = None
            while True:
                body: dict[str, Any] = {"experiment_ids": ids[start : start + 100]}
                body["max_results"] = 100
                if token:
                    body["page_token"] = token
                try:
                    page = self._post("logged-models/search", body)
                except EndpointNotFound:
                    return  # an MLflow 2 server: no logged models
                for model in page.get("models", []):
                    yield LoggedModel.from_dict(model)
                token = page.get("next_page_token")
                if not token:
                    break

    # -- registry -----------------------------------------------------------------------------

    def registered_models(self) -> Iterator[RegisteredModelRecord]:
        token: str | None = None
        models: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {"max_results": 1000}
            if token:
                params["page_token"] = token
            page = self._get("registered-models/search", params)
            models += page.get("registered_models", [])
            token = page.get("next_page_token")
            if not token:
                break
        for raw in sorted(models, key=lambda m: str(m["name"])):
            model = RegisteredModel.from_dict({**raw, "latest_versions": []})
            # model-versions/search leaves a version's aliases out: the model's name them.
            versions = [
                dataclasses.replace(
                    v, aliases=sorted(a for a, n in model.aliases.items() if n == v.version)
                )
                for v in self._versions(model.name)
                if v.current_stage != _DELETED_VERSION
            ]
            record = RegisteredModelRecord(model, versions, dict(model.aliases))
            record.fingerprint = fingerprint(
                repr(model), [repr(v) for v in versions], sorted(model.aliases.items())
            )
            yield record

    def _versions(self, name: str) -> list[ModelVersion]:
        quoted = name.replace("'", "\\'")
        found: list[ModelVersion] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"filter": f"name='{quoted}'", "max_results": 10000}
            if token:
                params["page_token"] = token
            page = self._get("model-versions/search", params)
            for raw in page.get("model_versions", []):
                version = ModelVersion.from_dict(raw)
                if version.model_id is None and model_id_from_source(version.source):
                    version = ModelVersion.from_dict(
                        {**raw, "model_id": model_id_from_source(version.source)}
                    )
                found.append(version)
            token = page.get("next_page_token")
            if not token:
                break
        return sorted((v for v in found if v.name == name), key=lambda v: v.version)

    # -- artifacts and counts -----------------------------------------------------------------

    def open_artifacts(self, artifact_uri: str) -> ArtifactRepository | None:
        path = local_path(artifact_uri) if artifact_uri else None
        if path is not None and not os.path.isdir(path) and not self._server_is_local():
            raise InvalidArgument(
                f"The server {self.key} keeps artifacts in {artifact_uri!r}, a folder on its own "
                "machine that is not readable here: run the import on that machine, or start "
                "the server with --serve-artifacts (new runs only), or import from its "
                "database with --artifacts-destination pointing at that folder"
            )
        return open_location(artifact_uri, tracking_uri=self.url)

    def _server_is_local(self) -> bool:
        host = urlsplit(self.url).hostname or ""
        return host in ("localhost", "127.0.0.1", "::1")

    def counts(self, experiment_ids: Sequence[str]) -> SourceCounts:
        out = SourceCounts(experiments=len(experiment_ids))
        batch: dict[str, dict[str, Any]] = {}
        for run in self._search_runs([str(e) for e in experiment_ids]):
            out.runs += 1
            data = run.get("data") or {}
            out.params += len(data.get("params") or [])
            out.tags += len(data.get("tags") or [])
            batch[run["info"]["run_id"]] = run
            if len(batch) >= 10 * _BULK_RUNS:
                out.metric_points += sum(len(c) for c in self._histories(batch).values())
                batch = {}
        out.metric_points += sum(len(c) for c in self._histories(batch).values())
        out.logged_models = sum(1 for _ in self.logged_models(experiment_ids))
        for record in self.registered_models():
            out.registered_models += 1
            out.model_versions += len(record.versions)
        return out
