"""A TensorBoard log folder as an import source (``mltrail import tensorboard LOGDIR``).

Every folder under LOGDIR (LOGDIR itself included) that holds event files (a name containing
``tfevents``, TensorBoard's own rule) is one run, as TensorBoard shows it:

- its name is the folder's path relative to LOGDIR (``.`` for LOGDIR itself);
- its id is derived from the experiment's name and that relative path, so importing the same
  folder again finds the same runs (and two log folders imported under different experiment
  names never share a run id);
- its metrics are its scalar summaries, every point kept in the order written: the value (a
  float; NaN and the infinities as they are), the step, and the wall time as milliseconds
  since the epoch (``int(wall_time * 1000)``); a summary tag holding characters a metric key
  may not hold has them replaced by ``_``;
- its params are the hyperparameters of the HParams plugin's session start info (numbers
  that are whole print without a fraction, ``32`` rather than ``32.0``; booleans ``True`` and
  ``False``); a session end info reporting failure makes the run ``FAILED``;
- its start and end times are the first and last events' wall times;
- its tags record where it came from (``mltrail.tensorboard.logdir``, ``.run``).

Images, histograms, text and graphs are not imported.  A run's fingerprint is made of its
event files' names, sizes and modification times, so a repeated import reads only the runs
whose files changed.  Reading needs the ``tensorboard`` package (no TensorFlow):
``pip install 'mltrail[tensorboard]'``.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail._optional import require
from mltrail.artifacts import ArtifactRepository
from mltrail.entities import Experiment, LoggedModel, RunInfo, RunStatus
from mltrail.importers._records import (
    MetricColumns,
    RegisteredModelRecord,
    RunContents,
    RunHeader,
    Source,
    SourceCounts,
)
from mltrail.validation import MAX_KEY_LENGTH

__all__ = ["TensorBoardSource", "run_id_for"]

LOGDIR_TAG = "mltrail.tensorboard.logdir"
RUN_TAG = "mltrail.tensorboard.run"
_FINGERPRINT_VERSION = "tensorboard-1"
_NOT_IN_KEYS = re.compile(r"[^A-Za-z0-9_\-./ :]")
_EVENT_FILE_TIME = re.compile(r"tfevents\.(\d+)")


@dataclass(frozen=True, slots=True)
class _RunFolder:
    relative: str  # posix path relative to the log folder, "." for the log folder itself
    files: tuple[Path, ...]  # its event files, sorted by name (the order TensorBoard reads)


def run_id_for(experiment_name: str, relative: str) -> str:
    """The run id (32 hex digits) of the run folder *relative* imported as *experiment_name*."""
    digest = hashlib.sha256(f"tensorboard\0{experiment_name}\0{relative}".encode())
    return digest.hexdigest()[:32]


def _tensorboard() -> tuple[ModuleType, ModuleType, ModuleType, ModuleType, ModuleType]:
    """TensorBoard's event file loader, its two read-time compat layers, its tensor helpers
    and the HParams plugin's metadata (one-line MissingDependency without the package)."""
    return (
        require("tensorboard.backend.event_processing.event_file_loader"),
        require("tensorboard.data_compat"),
        require("tensorboard.dataclass_compat"),
        require("tensorboard.util.tensor_util"),
        require("tensorboard.plugins.hparams.metadata"),
    )


def _metric_key(tag: str) -> str:
    """*tag* as a metric or param key: disallowed characters become ``_``, no empty, ``.``
    or ``..`` segment, no leading slash, at most MAX_KEY_LENGTH characters."""
    cleaned = _NOT_IN_KEYS.sub("_", tag)
    parts = [p if p not in (".", "..") else p.replace(".", "_") for p in cleaned.split("/") if p]
    key = posixpath.join(*parts) if parts else "_"
    return key[:MAX_KEY_LENGTH]


def _param_value(value: Any) -> str:
    """A ``google.protobuf.Value`` hyperparameter as the string a param holds."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = float(value.number_value)
        if number.is_integer() and abs(number) < 2**53:
            return str(int(number))
        return repr(number)
    if kind == "bool_value":
        return str(bool(value.bool_value))
    if kind == "string_value":
        return str(value.string_value)
    if kind == "null_value":
        return "None"
    return str(value)  # lists and structs: their text form


class _KeyNames:
    """Maps summary tags to distinct metric keys (two tags cleaned to one key are told apart
    by a digest of the tag)."""

    def __init__(self) -> None:
        self._by_tag: dict[str, str] = {}
        self._taken: set[str] = set()

    def __call__(self, tag: str) -> str:
        found = self._by_tag.get(tag)
        if found is not None:
            return found
        key = _metric_key(tag)
        if key in self._taken:
            suffix = "_" + hashlib.sha256(tag.encode()).hexdigest()[:8]
            key = key[: MAX_KEY_LENGTH - len(suffix)] + suffix
        self._by_tag[tag] = key
        self._taken.add(key)
        return key


class TensorBoardSource(Source):
    """The run folders under a TensorBoard log folder, as one experiment.

    *experiment_name* defaults to the log folder's name.  Nothing is written to the folder.
    """

    def __init__(self, logdir: str | os.PathLike[str], experiment_name: str | None = None) -> None:
        root = Path(logdir).expanduser().resolve()
        if not root.is_dir():
            raise NotFound(f"TensorBoard log folder {str(logdir)!r} does not exist")
        name = experiment_name if experiment_name is not None else root.name
        if not name or not name.strip():
            raise InvalidArgument(
                f"The log folder {str(root)!r} has no name to give its experiment: "
                "pass --experiment-name"
            )
        # Checked first, so that a missing package stops an import before it writes anything.
        self._modules = _tensorboard()
        self.root = root
        self.experiment_name = name
        self.experiment_id = "0"
        self.key = f"tensorboard:{root}"
        self.description = f"TensorBoard log folder {root}"

    # -- first pass: what exists -----------------------------------------------------------

    def _folders(self) -> list[_RunFolder]:
        """Every folder holding event files, in path order (symbolic links not followed)."""
        found: list[_RunFolder] = []
        for folder, dirs, files in os.walk(self.root):
            dirs.sort()
            events = sorted(name for name in files if "tfevents" in name)
            if not events:
                continue
            relative = Path(folder).relative_to(self.root).as_posix()
            found.append(_RunFolder(relative, tuple(Path(folder, name) for name in events)))
        return found

    def _header(self, folder: _RunFolder) -> RunHeader:
        digest = hashlib.sha256(f"{_FINGERPRINT_VERSION}\0{self.experiment_name}\n".encode())
        started: list[int] = []
        for path in folder.files:
            stat = path.stat()
            digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
            match = _EVENT_FILE_TIME.search(path.name)
            started.append(int(match.group(1)) * 1000 if match else stat.st_mtime_ns // 10**6)
        info = RunInfo(
            run_id=run_id_for(self.experiment_name, folder.relative),
            experiment_id=self.experiment_id,
            run_name=folder.relative,
            user_id="",
            status=RunStatus.to_string(RunStatus.FINISHED),
            start_time=min(started),
            end_time=None,
            artifact_uri="",
        )
        return RunHeader(info=info, fingerprint=digest.hexdigest()[:32])

    def experiments(self, names: Sequence[str] | None = None) -> list[Experiment]:
        if names is not None and self.experiment_name not in names:
            return []
        return [
            Experiment(
                experiment_id=self.experiment_id,
                name=self.experiment_name,
                artifact_location="",
                tags={LOGDIR_TAG: str(self.root)},
            )
        ]

    def run_headers(self, experiment_ids: Sequence[str]) -> Iterator[RunHeader]:
        if self.experiment_id not in experiment_ids:
            return
        for folder in self._folders():
            yield self._header(folder)

    # -- second pass: contents -------------------------------------------------------------

    def run_contents(self, headers: Sequence[RunHeader]) -> Iterator[RunContents]:
        if not headers:
            return
        by_id = {run_id_for(self.experiment_name, f.relative): f for f in self._folders()}
        for header in headers:
            folder = by_id.get(header.info.run_id)
            if folder is None:
                raise NotFound(
                    f"Run {header.info.run_name!r} is no longer in the TensorBoard log folder "
                    f"{str(self.root)!r}"
                )
            yield self._read(header, folder)

    def _read(self, header: RunHeader, folder: _RunFolder) -> RunContents:
        loader, data_compat, dataclass_compat, tensor_util, hparams = self._modules
        scalar = 1  # summary_pb2.DATA_CLASS_SCALAR
        unknown = 0  # summary_pb2.DATA_CLASS_UNKNOWN
        # Per run, as TensorBoard keeps them: each tag's first metadata (a TensorFlow 2 writer
        # writes it with a tag's first value only) and the data class it gives the tag.
        initial: dict[str, Any] = {}
        classes: dict[str, int] = {}
        keys = _KeyNames()
        metrics = MetricColumns()
        params: dict[str, str] = {}
        status = RunStatus.to_string(RunStatus.FINISHED)
        first: int | None = None
        last: int | None = None
        for path in folder.files:
            for raw in loader.LegacyEventFileLoader(str(path)).Load():
                for event in dataclass_compat.migrate_event(
                    data_compat.migrate_event(raw), initial
                ):
                    millis = int(event.wall_time * 1000)
                    first = millis if first is None else min(first, millis)
                    last = millis if last is None else max(last, millis)
                    if event.WhichOneof("what") != "summary":
                        continue
                    for value in event.summary.value:
                        tag = value.tag
                        if value.HasField("metadata") and value.metadata.data_class != unknown:
                            classes.setdefault(tag, value.metadata.data_class)
                        plugin = value.metadata.plugin_data
                        if plugin.plugin_name == hparams.PLUGIN_NAME:
                            if tag == hparams.SESSION_START_INFO_TAG:
                                info = hparams.parse_session_start_info_plugin_data(plugin.content)
                                for name, hp in info.hparams.items():
                                    params[_metric_key(name)] = _param_value(hp)
                            elif tag == hparams.SESSION_END_INFO_TAG:
                                end = hparams.parse_session_end_info_plugin_data(plugin.content)
                                failed = end.status == 2  # api_pb2.STATUS_FAILURE
                                status = RunStatus.to_string(
                                    RunStatus.FAILED if failed else RunStatus.FINISHED
                                )
                            continue
                        if classes.get(tag) != scalar or not value.HasField("tensor"):
                            continue
                        metrics.keys.append(keys(tag))
                        metrics.values.append(float(tensor_util.make_ndarray(value.tensor).item()))
                        metrics.timestamps.append(millis)
                        metrics.steps.append(int(event.step))
        info = replace(
            header.info,
            status=status,
            start_time=first if first is not None else header.info.start_time,
            end_time=last,
        )
        tags = {LOGDIR_TAG: str(self.root), RUN_TAG: folder.relative}
        return RunContents(
            header=RunHeader(info=info, fingerprint=header.fingerprint),
            params=params,
            tags=tags,
            metrics=metrics,
        )

    # -- what a log folder does not hold ---------------------------------------------------

    def logged_models(self, experiment_ids: Sequence[str]) -> Iterator[LoggedModel]:
        return iter(())

    def registered_models(self) -> Iterator[RegisteredModelRecord]:
        return iter(())

    def open_artifacts(self, artifact_uri: str) -> ArtifactRepository | None:
        return None

    def counts(self, experiment_ids: Sequence[str]) -> SourceCounts:
        """What the log folder holds: reads every event file (there is no index to count)."""
        out = SourceCounts(artifacts=0)
        if self.experiment_id not in experiment_ids:
            return out
        out.experiments = 1
        for contents in self.run_contents(list(self.run_headers(experiment_ids))):
            out.runs += 1
            out.params += len(contents.params)
            out.tags += len(contents.tags)
            out.metric_points += len(contents.metrics)
        return out
