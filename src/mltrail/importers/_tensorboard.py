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

Images, histograms, text and graphs are not imported.  tensorboardX's and PyTorch's
``add_hparams`` write into a folder of their own under the run's, which TensorBoard shows as a
run of its own, and so does this import.  A run's fingerprint is made of its event files'
names, sizes and modification times, so a repeated import reads only the runs whose files
changed.  The events are decoded with the ``tensorboard`` package's protos and HParams
metadata (no TensorFlow): ``pip install 'mltrail[tensorboard]'``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
import re
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

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
_FRAME = struct.Struct("<QI")
_SCALARS = "scalars"  # the scalar plugin's name
_DATA_CLASS_SCALAR = 1  # summary_pb2.DATA_CLASS_SCALAR
_DT_FLOAT = 1  # types_pb2.DT_FLOAT
_DT_DOUBLE = 2  # types_pb2.DT_DOUBLE
_STATUS_FAILURE = 2  # the HParams plugin's api_pb2.STATUS_FAILURE
_logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _RunFolder:
    relative: str  # posix path relative to the log folder, "." for the log folder itself
    files: tuple[Path, ...]  # its event files, sorted by name (the order TensorBoard reads)


def run_id_for(experiment_name: str, relative: str) -> str:
    """The run id (32 hex digits) of the run folder *relative* imported as *experiment_name*."""
    digest = hashlib.sha256(f"tensorboard\0{experiment_name}\0{relative}".encode())
    return digest.hexdigest()[:32]


class _Modules(NamedTuple):
    """The parts of the tensorboard package the reader uses."""

    event_pb2: ModuleType
    tensor_util: ModuleType
    hparams: ModuleType


def _tensorboard() -> _Modules:
    """TensorBoard's event protos, its tensor decoder and the HParams plugin's metadata
    (a one-line MissingDependency without the package)."""
    return _Modules(
        require("tensorboard.compat.proto.event_pb2"),
        require("tensorboard.util.tensor_util"),
        require("tensorboard.plugins.hparams.metadata"),
    )


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C = _crc32c_table()


def _masked_crc32c(data: bytes) -> int:
    """The masked CRC-32C a TFRecord stores beside its length."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _events(path: Path, event_pb2: ModuleType) -> Iterator[Any]:
    """The events of one event file (TFRecord framing: length, its CRC, the record, the
    record's CRC), read buffered.

    As TensorBoard does, a record cut short (a writer still writing, or killed) ends the
    file.  Each length is checked against its CRC, so a damaged frame stops the file with a
    warning instead of reading garbage.  The records' own CRCs are not recomputed (CRC-32C
    in pure Python, as TensorBoard's loader does it without TensorFlow, is slow: reading
    100,000 points through that loader and its compat layers took twelve times as long here).
    """
    with open(path, "rb") as handle:
        while True:
            frame = handle.read(12)
            if len(frame) < 12:
                return
            length, crc = _FRAME.unpack(frame)
            if _masked_crc32c(frame[:8]) != crc:
                _logger.warning(
                    "%s: damaged record at byte %d, the rest of the file is skipped",
                    path,
                    handle.tell() - 12,
                )
                return
            record = handle.read(length)
            if len(record) < length or len(handle.read(4)) < 4:
                return
            yield event_pb2.Event.FromString(record)


class _RunReader:
    """What the events of one run add up to: metric columns, params, status, times."""

    def __init__(self, modules: _Modules) -> None:
        self.modules = modules
        self.metrics = MetricColumns()
        self.params: dict[str, str] = {}
        self.status = RunStatus.to_string(RunStatus.FINISHED)
        self.first: int | None = None
        self.last: int | None = None
        # Whether each tag holds scalars, decided by its first value's metadata as TensorBoard
        # decides it (a TensorFlow 2 writer sends the metadata with a tag's first value only).
        self._scalar: dict[str, bool] = {}
        self._keys = _KeyNames()

    def add(self, event: Any) -> None:
        millis = int(event.wall_time * 1000)
        self.first = millis if self.first is None else min(self.first, millis)
        self.last = millis if self.last is None else max(self.last, millis)
        if event.WhichOneof("what") != "summary":
            return
        for value in event.summary.value:
            kind = value.WhichOneof("value")
            plugin = value.metadata.plugin_data.plugin_name
            if plugin == self.modules.hparams.PLUGIN_NAME:
                self._hparams(value.tag, value.metadata.plugin_data.content)
                continue
            scalar = self._scalar.get(value.tag)
            if scalar is None:
                scalar = kind == "simple_value" or (
                    kind == "tensor"
                    and (plugin == _SCALARS or value.metadata.data_class == _DATA_CLASS_SCALAR)
                )
                self._scalar[value.tag] = scalar
            if not scalar:
                continue
            if kind == "simple_value":
                number = float(value.simple_value)
            elif kind == "tensor":
                number = self._tensor_value(value.tensor)
            else:
                continue
            self.metrics.keys.append(self._keys(value.tag))
            self.metrics.values.append(number)
            self.metrics.timestamps.append(millis)
            self.metrics.steps.append(int(event.step))

    def _tensor_value(self, tensor: Any) -> float:
        if tensor.dtype == _DT_FLOAT and len(tensor.float_val) == 1:
            return float(tensor.float_val[0])
        if tensor.dtype == _DT_DOUBLE and len(tensor.double_val) == 1:
            return float(tensor.double_val[0])
        return float(self.modules.tensor_util.make_ndarray(tensor).item())

    def _hparams(self, tag: str, content: bytes) -> None:
        hparams = self.modules.hparams
        if tag == hparams.SESSION_START_INFO_TAG:
            start = hparams.parse_session_start_info_plugin_data(content)
            for name, value in start.hparams.items():
                self.params[_metric_key(name)] = _param_value(value)
        elif tag == hparams.SESSION_END_INFO_TAG:
            end = hparams.parse_session_end_info_plugin_data(content)
            failed = end.status == _STATUS_FAILURE
            self.status = RunStatus.to_string(RunStatus.FAILED if failed else RunStatus.FINISHED)


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
        # What each run read so far holds, by run id: (fingerprint, params, tags, points), so
        # that counting after an import reads only the runs the import did not read.
        self._sizes: dict[str, tuple[str, int, int, int]] = {}

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
        reader = _RunReader(self._modules)
        for path in folder.files:
            for event in _events(path, self._modules.event_pb2):
                reader.add(event)
        tags = {LOGDIR_TAG: str(self.root), RUN_TAG: folder.relative}
        self._sizes[header.info.run_id] = (
            header.fingerprint,
            len(reader.params),
            len(tags),
            len(reader.metrics),
        )
        info = replace(
            header.info,
            status=reader.status,
            start_time=reader.first if reader.first is not None else header.info.start_time,
            end_time=reader.last,
        )
        return RunContents(
            header=RunHeader(info=info, fingerprint=header.fingerprint),
            params=reader.params,
            tags=tags,
            metrics=reader.metrics,
        )

    # -- what a log folder does not hold ---------------------------------------------------

    def logged_models(self, experiment_ids: Sequence[str]) -> Iterator[LoggedModel]:
        return iter(())

    def registered_models(self) -> Iterator[RegisteredModelRecord]:
        return iter(())

    def open_artifacts(self, artifact_uri: str) -> ArtifactRepository | None:
        return None

    def counts(self, experiment_ids: Sequence[str]) -> SourceCounts:
        """What the log folder holds.  There is no index to count from: the event files of
        every run not read since it last changed are read."""
        out = SourceCounts(artifacts=0)
        if self.experiment_id not in experiment_ids:
            return out
        out.experiments = 1
        headers = list(self.run_headers(experiment_ids))
        unread = [h for h in headers if self._sizes.get(h.info.run_id, ("",))[0] != h.fingerprint]
        for _ in self.run_contents(unread):
            pass  # each run read records its sizes
        for header in headers:
            _, params, tags, points = self._sizes[header.info.run_id]
            out.runs += 1
            out.params += params
            out.tags += tags
            out.metric_points += points
        return out
