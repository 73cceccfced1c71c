"""An MLflow file store (an ``mlruns`` folder) read as an import source.

MLflow's layout, as its file store writes it (MLflow 1.x to 3.x; 3.x keeps it in maintenance
mode behind ``MLFLOW_ALLOW_FILE_STORE``)::

    mlruns/
      <experiment id>/meta.yaml, tags/<key>
        <run id>/meta.yaml, params/<key>, tags/<key>, metrics/<key>, artifacts/,
                 inputs/<id>/meta.yaml (a dataset or a logged model the run used),
                 outputs/<model id>/meta.yaml (a logged model the run produced)
        datasets/<id>/meta.yaml
        models/m-<hex>/meta.yaml, params/, tags/, metrics/, artifacts/   (MLflow 3)
      .trash/<experiment id>/...   (deleted experiments)
      models/<registered model>/meta.yaml, tags/, aliases/,
                                version-<n>/meta.yaml, version-<n>/tags/

Keys may hold ``/`` (nested folders).  A run metric line is ``timestamp value step`` (older
stores wrote ``timestamp value``; MLflow 3 may add ``dataset_name dataset_digest``); a logged
model's metric line is ``timestamp value step run_id [dataset_name dataset_digest]``.
Nothing is written.  A run's fingerprint is the name, size and modification time of every file
it holds but its artifacts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import yaml

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.artifacts import ArtifactRepository
from mltrail.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    RunInfo,
    RunStatus,
)
from mltrail.entities._logged_model import LoggedModelMetric, LoggedModelStatus
from mltrail.importers._mlflow_common import (
    fingerprint,
    local_path,
    model_id_from_source,
    open_location,
    parents_first,
)
from mltrail.importers._records import (
    MetricColumns,
    RegisteredModelRecord,
    RunContents,
    RunHeader,
    Source,
    SourceCounts,
)

__all__ = ["MlflowFileSource", "looks_like_mlruns"]

_TRASH = ".trash"
_REGISTRY = "models"
_RESERVED = frozenset({"tags", "datasets", "traces", "models"})
_DELETED_VERSION = "Deleted_Internal"
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as stream:
        data = yaml.load(stream, Loader=_Loader)
    if not isinstance(data, dict):
        raise InvalidArgument(f"Malformed MLflow metadata file {path}: expected a mapping")
    return data


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as stream:
        return stream.read()


def _files(folder: str) -> Iterator[tuple[str, str]]:
    """``(key, path)`` of every file below *folder* (keys with ``/`` are nested folders)."""
    if not os.path.isdir(folder):
        return
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            yield os.path.relpath(path, folder).replace(os.sep, "/"), path


def _pairs(folder: str) -> dict[str, str]:
    return {key: _read_text(path) for key, path in _files(folder)}


def _opt_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _status(value: Any) -> str:
    if isinstance(value, int):
        return RunStatus.to_string(value)
    return str(value or "RUNNING").upper()


def looks_like_mlruns(path: str) -> bool:
    """Whether *path* is a folder in MLflow's file store layout."""
    if not os.path.isdir(path):
        return False
    if os.path.isfile(os.path.join(path, "0", "meta.yaml")):
        return True
    with os.scandir(path) as entries:
        for entry in entries:
            if entry.is_dir() and entry.name not in (_TRASH, _REGISTRY):
                meta = os.path.join(entry.path, "meta.yaml")
                if entry.name.isdigit() and os.path.isfile(meta):
                    return True
    return os.path.isdir(os.path.join(path, _TRASH))


class MlflowFileSource(Source):
    """An ``mlruns`` folder (a path or a ``file:`` URI), read-only.

    Runs' artifact locations are the ``file:`` URIs MLflow recorded; when the folder has moved
    since, the same place below the folder is read instead.  *artifacts_destination* resolves
    ``mlflow-artifacts:`` locations (a file store behind an MLflow server's artifact proxy).
    """

    def __init__(self, uri: str, *, artifacts_destination: str | None = None) -> None:
        path = local_path(uri)
        if path is None:
            raise InvalidArgument(f"Invalid MLflow file store {uri!r}: expected a folder")
        if not os.path.isdir(path):
            raise NotFound(f"No MLflow file store at {path}: the folder does not exist")
        if not looks_like_mlruns(path):
            raise InvalidArgument(
                f"{path} is not an MLflow file store (no experiment folder with a meta.yaml)"
            )
        self.root = os.path.realpath(path)
        self.key = self.root
        self.description = f"MLflow file store {self.root}"
        self.artifacts_destination = artifacts_destination
        self._experiment_dirs: dict[str, str] = {}
        self._run_paths: dict[str, str] = {}

    # -- experiments --------------------------------------------------------------------------

    def _scan_experiments(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for parent in (self.root, os.path.join(self.root, _TRASH)):
            if not os.path.isdir(parent):
                continue
            with os.scandir(parent) as entries:
                for entry in entries:
                    if parent == self.root and entry.name in (_TRASH, _REGISTRY):
                        continue
                    if entry.is_dir() and os.path.isfile(os.path.join(entry.path, "meta.yaml")):
                        found.setdefault(entry.name, entry.path)
        self._experiment_dirs = found
        return found

    def experiments(self, names: Sequence[str] | None = None) -> list[Experiment]:
        out = []
        for exp_id, folder in sorted(self._scan_experiments().items(), key=_id_order):
            meta = _read_yaml(os.path.join(folder, "meta.yaml"))
            name = str(meta.get("name", ""))
            if names is not None and name not in names:
                continue
            in_trash = os.path.basename(os.path.dirname(folder)) == _TRASH
            out.append(
                Experiment(
                    experiment_id=str(meta.get("experiment_id", exp_id)),
                    name=name,
                    artifact_location=str(meta.get("artifact_location") or ""),
                    lifecycle_stage=str(
                        meta.get("lifecycle_stage") or ("deleted" if in_trash else "active")
                    ),
                    tags=_pairs(os.path.join(folder, "tags")),
                    creation_time=_opt_int(meta.get("creation_time")),
                    last_update_time=_opt_int(meta.get("last_update_time")),
                )
            )
        return out

    def _experiment_dir(self, experiment_id: str) -> str | None:
        if experiment_id not in self._experiment_dirs:
            self._scan_experiments()
        return self._experiment_dirs.get(experiment_id)

    def _run_dirs(self, experiment_id: str) -> Iterator[str]:
        folder = self._experiment_dir(experiment_id)
        if folder is None:
            return
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name in _RESERVED or not entry.is_dir():
                    continue
                if os.path.isfile(os.path.join(entry.path, "meta.yaml")):
                    yield entry.path

    # -- runs ---------------------------------------------------------------------------------

    def _run_info(self, run_dir: str, experiment_id: str) -> RunInfo:
        meta = _read_yaml(os.path.join(run_dir, "meta.yaml"))
        run_id = str(meta.get("run_id") or meta.get("run_uuid") or os.path.basename(run_dir))
        name = meta.get("run_name")
        if not name:
            tag = os.path.join(run_dir, "tags", "mlflow.runName")
            name = _read_text(tag) if os.path.isfile(tag) else ""
        return RunInfo(
            run_id=run_id,
            experiment_id=str(meta.get("experiment_id", experiment_id)),
            run_name=str(name),
            user_id=str(meta.get("user_id") or ""),
            status=_status(meta.get("status")),
            start_time=_opt_int(meta.get("start_time")),
            end_time=_opt_int(meta.get("end_time")),
            artifact_uri=str(meta.get("artifact_uri") or ""),
            lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
        )

    def run_headers(self, experiment_ids: Sequence[str]) -> Iterator[RunHeader]:
        infos: list[RunInfo] = []
        parents: dict[str, str] = {}
        prints: dict[str, str] = {}
        for exp_id in experiment_ids:
            for run_dir in self._run_dirs(str(exp_id)):
                info = self._run_info(run_dir, str(exp_id))
                infos.append(info)
                self._run_paths[info.run_id] = run_dir
                parent = os.path.join(run_dir, "tags", "mlflow.parentRunId")
                if os.path.isfile(parent):
                    parents[info.run_id] = _read_text(parent)
                prints[info.run_id] = fingerprint(info, _stat_listing(run_dir))
        for info in parents_first(infos, parents):
            yield RunHeader(info, prints[info.run_id])

    def _run_dir(self, info: RunInfo) -> str:
        found = self._run_paths.get(info.run_id)
        if found is None:
            folder = self._experiment_dir(info.experiment_id)
            if folder is None:
                raise NotFound(f"Experiment {info.experiment_id} is not in {self.root}")
            found = os.path.join(folder, info.run_id)
        return found

    def run_contents(self, headers: Sequence[RunHeader]) -> Iterator[RunContents]:
        for header in headers:
            run_dir = self._run_dir(header.info)
            contents = RunContents(
                header,
                params=_pairs(os.path.join(run_dir, "params")),
                tags=_pairs(os.path.join(run_dir, "tags")),
                metrics=_run_metrics(os.path.join(run_dir, "metrics")),
            )
            self._read_inputs(run_dir, header.info.experiment_id, contents)
            yield contents

    def _read_inputs(self, run_dir: str, experiment_id: str, contents: RunContents) -> None:
        datasets_dir = os.path.join(self._experiment_dir(experiment_id) or "", "datasets")
        inputs_dir = os.path.join(run_dir, "inputs")
        if os.path.isdir(inputs_dir):
            for name in sorted(os.listdir(inputs_dir)):
                meta_path = os.path.join(inputs_dir, name, "meta.yaml")
                if not os.path.isfile(meta_path):
                    continue
                meta = _read_yaml(meta_path)
                source_type, source_id = meta.get("source_type"), str(meta.get("source_id"))
                if source_type == "DATASET":
                    dataset_meta = os.path.join(datasets_dir, source_id, "meta.yaml")
                    if not os.path.isfile(dataset_meta):
                        continue  # MLflow skips an input whose dataset is gone, too
                    tags = meta.get("tags") or {}
                    contents.dataset_inputs.append(
                        DatasetInput(
                            _dataset(_read_yaml(dataset_meta)),
                            [InputTag(str(k), str(v)) for k, v in sorted(tags.items())],
                        )
                    )
                elif source_type == "MODEL":
                    contents.model_input_ids.append(source_id)
        outputs_dir = os.path.join(run_dir, "outputs")
        if os.path.isdir(outputs_dir):
            for name in sorted(os.listdir(outputs_dir)):
                meta_path = os.path.join(outputs_dir, name, "meta.yaml")
                if os.path.isfile(meta_path):
                    meta = _read_yaml(meta_path)
                    if meta.get("destination_type") == "MODEL_OUTPUT":
                        model_id = str(meta.get("source_id") or name)
                        contents.model_output_ids.append((model_id, int(meta.get("step") or 0)))

    # -- logged models ------------------------------------------------------------------------

    def logged_models(self, experiment_ids: Sequence[str]) -> Iterator[LoggedModel]:
        for exp_id in experiment_ids:
            folder = self._experiment_dir(str(exp_id))
            models_dir = os.path.join(folder or "", "models")
            if folder is None or not os.path.isdir(models_dir):
                continue
            for name in sorted(os.listdir(models_dir)):
                model_dir = os.path.join(models_dir, name)
                meta_path = os.path.join(model_dir, "meta.yaml")
                if not os.path.isfile(meta_path):
                    continue
                meta = _read_yaml(meta_path)
                if meta.get("lifecycle_stage") == "deleted":
                    continue
                model_id = str(meta.get("model_id") or name)
                yield LoggedModel(
                    model_id=model_id,
                    experiment_id=str(meta.get("experiment_id", exp_id)),
                    name=str(meta.get("name") or ""),
                    artifact_location=str(meta.get("artifact_location") or ""),
                    creation_timestamp=int(meta.get("creation_timestamp") or 0),
                    last_updated_timestamp=int(meta.get("last_updated_timestamp") or 0),
                    status=LoggedModelStatus.parse(meta.get("status") or 1),
                    model_type=meta.get("model_type") or None,
                    source_run_id=meta.get("source_run_id") or None,
                    status_message=meta.get("status_message") or None,
                    tags=_pairs(os.path.join(model_dir, "tags")),
                    params=_pairs(os.path.join(model_dir, "params")),
                    metrics=_model_metrics(os.path.join(model_dir, "metrics"), model_id),
                )

    # -- registry -----------------------------------------------------------------------------

    def registered_models(self) -> Iterator[RegisteredModelRecord]:
        registry = os.path.join(self.root, _REGISTRY)
        if not os.path.isdir(registry):
            return
        for name in sorted(os.listdir(registry)):
            model_dir = os.path.join(registry, name)
            meta_path = os.path.join(model_dir, "meta.yaml")
            if not os.path.isfile(meta_path):
                continue
            meta = _read_yaml(meta_path)
            aliases = {str(k): int(v) for k, v in (meta.get("aliases") or {}).items()}
            aliases_dir = os.path.join(model_dir, "aliases")
            for alias, path in _files(aliases_dir):
                aliases.setdefault(alias, int(_read_text(path).strip()))
            versions = []
            for entry in sorted(os.listdir(model_dir)):
                version_meta = os.path.join(model_dir, entry, "meta.yaml")
                if not entry.startswith("version-") or not os.path.isfile(version_meta):
                    continue
                v = _read_yaml(version_meta)
                if v.get("current_stage") == _DELETED_VERSION:
                    continue
                number = int(v.get("version") or entry.removeprefix("version-"))
                versions.append(
                    ModelVersion(
                        name=str(v.get("name") or meta.get("name") or name),
                        version=number,
                        creation_timestamp=_opt_int(v.get("creation_timestamp")),
                        last_updated_timestamp=_opt_int(v.get("last_updated_timestamp")),
                        description=v.get("description"),
                        user_id=v.get("user_id") or None,
                        current_stage=str(v.get("current_stage") or "None"),
                        source=v.get("source"),
                        run_id=v.get("run_id") or None,
                        status=str(v.get("status") or "READY"),
                        status_message=v.get("status_message") or None,
                        tags=_pairs(os.path.join(model_dir, entry, "tags")),
                        run_link=v.get("run_link") or None,
                        aliases=sorted(a for a, n in aliases.items() if n == number),
                        model_id=v.get("model_id") or model_id_from_source(v.get("source")),
                    )
                )
            versions.sort(key=lambda version: version.version)
            model = RegisteredModel(
                name=str(meta.get("name") or name),
                creation_timestamp=_opt_int(meta.get("creation_timestamp")),
                last_updated_timestamp=_opt_int(meta.get("last_updated_timestamp")),
                description=meta.get("description"),
                tags=_pairs(os.path.join(model_dir, "tags")),
                aliases=aliases,
            )
            record = RegisteredModelRecord(model, versions, dict(aliases))
            record.fingerprint = fingerprint(
                repr(model), [repr(v) for v in versions], sorted(aliases.items())
            )
            yield record

    # -- artifacts and counts -----------------------------------------------------------------

    def open_artifacts(self, artifact_uri: str) -> ArtifactRepository | None:
        return open_location(
            artifact_uri,
            artifacts_destination=self.artifacts_destination,
            relocated=self._relocations(),
        )

    def _relocations(self) -> list[tuple[str, str]]:
        """Where this folder was when MLflow wrote its locations: the prefix of experiment 0's
        (or any experiment's) recorded artifact location, mapped to this folder."""
        found: list[tuple[str, str]] = []
        for exp_id, folder in self._experiment_dirs.items() or self._scan_experiments().items():
            meta = _read_yaml(os.path.join(folder, "meta.yaml"))
            recorded = local_path(str(meta.get("artifact_location") or ""))
            if recorded and os.path.basename(recorded.rstrip("/")) == exp_id:
                old_root = os.path.dirname(recorded.rstrip("/"))
                if old_root != self.root and (old_root, self.root) not in found:
                    found.append((old_root, self.root))
        return found

    def counts(self, experiment_ids: Sequence[str]) -> SourceCounts:
        out = SourceCounts(experiments=len(experiment_ids), artifacts=0)
        for exp_id in experiment_ids:
            for run_dir in self._run_dirs(str(exp_id)):
                out.runs += 1
                out.params += sum(1 for _ in _files(os.path.join(run_dir, "params")))
                out.tags += sum(1 for _ in _files(os.path.join(run_dir, "tags")))
                for _key, path in _files(os.path.join(run_dir, "metrics")):
                    with open(path, "rb") as stream:
                        out.metric_points += sum(1 for line in stream if line.strip())
                info = self._run_info(run_dir, str(exp_id))
                repo = self.open_artifacts(info.artifact_uri)
                root = getattr(repo, "root", None)
                if out.artifacts is not None:
                    if repo is not None and root is None:
                        out.artifacts = None
                    elif root is not None:
                        out.artifacts += sum(1 for _ in _files(root))
        out.logged_models = sum(1 for _ in self.logged_models(experiment_ids))
        for record in self.registered_models():
            out.registered_models += 1
            out.model_versions += len(record.versions)
        return out


def _id_order(item: tuple[str, str]) -> tuple[int, int | str]:
    return (0, int(item[0])) if item[0].isdigit() else (1, item[0])


def _stat_listing(run_dir: str) -> list[tuple[str, int, int]]:
    listing = []
    for dirpath, dirs, names in os.walk(run_dir):
        if dirpath == run_dir and "artifacts" in dirs:
            dirs.remove("artifacts")
        for name in names:
            st = os.stat(os.path.join(dirpath, name))
            listing.append(
                (os.path.relpath(os.path.join(dirpath, name), run_dir), st.st_size, st.st_mtime_ns)
            )
    listing.sort()
    return listing


def _dataset(meta: dict[str, Any]) -> Dataset:
    return Dataset(
        name=str(meta.get("name") or ""),
        digest=str(meta.get("digest") or ""),
        source_type=str(meta.get("source_type") or ""),
        source=str(meta.get("source") or ""),
        schema=meta.get("schema"),
        profile=meta.get("profile"),
    )


def _run_metrics(folder: str) -> MetricColumns:
    cols = MetricColumns()
    names: list[str | None] = []
    digests: list[str | None] = []
    for key, path in sorted(_files(folder)):
        with open(path, encoding="utf-8") as stream:
            for line in stream:
                parts = line.split()
                if not parts:
                    continue
                if len(parts) not in (2, 3, 5):
                    raise InvalidArgument(
                        f"Malformed MLflow metric file {path}: a line of {len(parts)} fields "
                        "(expected 2, 3 or 5)"
                    )
                cols.keys.append(key)
                cols.timestamps.append(int(parts[0]))
                cols.values.append(float(parts[1]))
                cols.steps.append(int(parts[2]) if len(parts) >= 3 else 0)
                names.append(parts[3] if len(parts) == 5 else None)
                digests.append(parts[4] if len(parts) == 5 else None)
    if any(name is not None for name in names):
        cols.model_ids = [None] * len(names)
        cols.dataset_names, cols.dataset_digests = names, digests
    return cols


def _model_metrics(folder: str, model_id: str) -> list[LoggedModelMetric]:
    out = []
    for key, path in sorted(_files(folder)):
        with open(path, encoding="utf-8") as stream:
            for line in stream:
                parts = line.split()
                if not parts:
                    continue
                if len(parts) not in (4, 6):
                    raise InvalidArgument(
                        f"Malformed MLflow model metric file {path}: a line of {len(parts)} "
                        "fields (expected 4 or 6)"
                    )
                out.append(
                    LoggedModelMetric(
                        key=key,
                        value=float(parts[1]),
                        timestamp=int(parts[0]),
                        step=int(parts[2]),
                        model_id=model_id,
                        run_id=parts[3] or None,
                        dataset_name=parts[4] if len(parts) == 6 else None,
                        dataset_digest=parts[5] if len(parts) == 6 else None,
                    )
                )
    return out
