"""The TensorBoard import source, at the record level, over logs written by real writers.

tensorboardX writes most runs (as PyTorch users' scripts do); one run is written with
TensorBoard's own event file writer the way TensorFlow 2 writes: tensor scalars whose
metadata comes with a tag's first value only, and HParams through ``hparams_pb``.  What the
source yields is compared point by point with TensorBoard's own reader.
"""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tests.importers._tb_logs import (
    RUNS,
    STEPS,
    loss_at,
    same,
    tensorboard_reads,
    write_logdir,
    write_tensorboardx,
)

from mltrail._exceptions import NotFound
from mltrail.importers._records import MetricColumns, RunContents, RunHeader
from mltrail.importers._tensorboard import (
    LOGDIR_TAG,
    RUN_TAG,
    TensorBoardSource,
    run_id_for,
)
from mltrail.validation import validate_key


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_logdir(tmp_path_factory.mktemp("tb") / "mnist")


def _contents(source: TensorBoardSource) -> dict[str, RunContents]:
    (experiment,) = source.experiments()
    headers = list(source.run_headers([experiment.experiment_id]))
    return {c.header.info.run_name: c for c in source.run_contents(headers)}


def _series(metrics: MetricColumns, key: str) -> list[tuple[int, float]]:
    """(step, value) of every point of one metric, in order."""
    return [
        (step, value)
        for k, step, value in zip(metrics.keys, metrics.steps, metrics.values, strict=True)
        if k == key
    ]


def test_each_folder_with_event_files_is_one_run(logdir: Path) -> None:
    source = TensorBoardSource(logdir)
    (experiment,) = source.experiments()
    assert experiment.name == "mnist"
    assert experiment.tags == {LOGDIR_TAG: str(logdir)}
    headers = list(source.run_headers([experiment.experiment_id]))
    assert {h.info.run_name for h in headers} == RUNS
    for header in headers:
        assert header.info.run_id == run_id_for("mnist", header.info.run_name)
        assert len(header.info.run_id) == 32
        int(header.info.run_id, 16)
        assert header.info.experiment_id == experiment.experiment_id
        assert header.info.status == "FINISHED"
    assert source.experiments(["other"]) == []
    assert list(source.run_headers(["not-this-one"])) == []


def test_run_ids_are_stable_and_follow_the_experiment_name(logdir: Path) -> None:
    first = {h.info.run_name: h for h in TensorBoardSource(logdir).run_headers(["0"])}
    again = {h.info.run_name: h for h in TensorBoardSource(str(logdir)).run_headers(["0"])}
    assert first == again
    renamed = TensorBoardSource(logdir, experiment_name="digits")
    assert renamed.experiments()[0].name == "digits"
    other = {h.info.run_name: h.info.run_id for h in renamed.run_headers(["0"])}
    assert set(other) == set(first)
    assert all(other[name] != first[name].info.run_id for name in first)


def test_scalars_point_by_point_as_tensorboard_reads_them(logdir: Path) -> None:
    contents = _contents(TensorBoardSource(logdir))
    for name in RUNS:
        metrics = contents[name].metrics
        assert metrics.model_ids is None
        assert len(metrics.values) == len(metrics.steps) == len(metrics.timestamps) == len(metrics)
        got: dict[str, list[tuple[int, int, float]]] = {}
        for key, value, timestamp, step in zip(
            metrics.keys, metrics.values, metrics.timestamps, metrics.steps, strict=True
        ):
            got.setdefault(key, []).append((timestamp, step, value))
        expected = tensorboard_reads(logdir / name)
        keys = {tag: tag.replace("(", "_").replace(")", "_").replace("@", "_") for tag in expected}
        assert set(got) == set(keys.values()), name
        for tag, points in expected.items():
            mine = got[keys[tag]]
            assert len(mine) == len(points), (name, tag)
            for (timestamp, step, value), (wall_time, tb_step, tb_value) in zip(
                mine, points, strict=True
            ):
                assert step == tb_step
                assert timestamp == int(wall_time * 1000)
                assert same(value, tb_value), (name, tag, step, value, tb_value)


def test_values_steps_and_special_values_are_kept(logdir: Path) -> None:
    contents = _contents(TensorBoardSource(logdir))
    metrics = contents["a/lr_0.01"].metrics
    loss = _series(metrics, "loss")
    assert [s for s, _ in loss] == list(range(STEPS + 50))  # both event files, in order
    for step, value in loss:
        assert same(value, float(np.float32(loss_at(step, 0.1)))), step
    assert math.isnan(loss[7][1])
    assert loss[8][1] == math.inf
    assert loss[9][1] == -math.inf
    accuracy = [step for step, _ in _series(metrics, "eval/accuracy")]
    assert accuracy == list(range(0, STEPS + 50, 10))
    assert contents["notes"].metrics.keys == []


def test_tf2_style_scalars_and_unusual_tags(logdir: Path) -> None:
    metrics = _contents(TensorBoardSource(logdir))["b/deep/run1"].metrics
    assert set(metrics.keys) == {"loss _val__1", "lr"}
    for key in set(metrics.keys):
        validate_key(key)
    losses = [value for _, value in _series(metrics, "loss _val__1")]
    assert losses == [0.5 + step for step in range(STEPS)]
    rates = [value for _, value in _series(metrics, "lr")]
    assert rates == [0.001 * (step + 1) for step in range(STEPS)]  # float64, exactly


def test_hparams_are_params(logdir: Path) -> None:
    contents = _contents(TensorBoardSource(logdir))
    assert contents["a/lr_0.1"].params == {
        "lr": "0.1",
        "batch_size": "32",
        "optimizer": "adam",
        "shuffle": "True",
    }
    assert contents["b/deep/run1"].params == {"depth": "12", "dropout": "0.25", "act": "gelu"}
    assert contents["a/lr_0.01"].params == {}


def test_tags_and_times(logdir: Path) -> None:
    contents = _contents(TensorBoardSource(logdir))
    for name, run in contents.items():
        assert run.tags == {LOGDIR_TAG: str(logdir), RUN_TAG: name}
        info = run.header.info
        assert info.start_time is not None
        assert info.end_time is not None
        assert info.start_time <= info.end_time
        if run.metrics.timestamps:
            assert info.start_time <= min(run.metrics.timestamps)
            assert max(run.metrics.timestamps) <= info.end_time


def test_counts(logdir: Path) -> None:
    source = TensorBoardSource(logdir)
    contents = _contents(source)
    counts = source.counts(["0"])
    assert counts.experiments == 1
    assert counts.runs == len(RUNS)
    assert counts.params == 7
    assert counts.tags == 2 * len(RUNS)
    assert counts.metric_points == sum(len(c.metrics) for c in contents.values())
    assert counts.metric_points == (STEPS + 30) + (STEPS + 50 + 35) + 2 * STEPS
    assert source.counts(["1"]).runs == 0


def test_counting_reads_only_the_runs_not_read_since_they_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "logs"
    write_tensorboardx(root / "x", 1.0, range(20))
    write_tensorboardx(root / "y", 1.0, range(20))
    source = TensorBoardSource(root)
    read: list[str] = []
    real = TensorBoardSource._read

    def counting(self: TensorBoardSource, header: RunHeader, folder: Any) -> RunContents:
        read.append(header.info.run_name)
        return real(self, header, folder)

    monkeypatch.setattr(TensorBoardSource, "_read", counting)
    first = source.counts(["0"])
    assert sorted(read) == ["x", "y"]
    _contents(source)
    read.clear()
    assert source.counts(["0"]) == first
    assert read == []
    write_tensorboardx(root / "y", 1.0, range(20, 25), ".more")
    again = source.counts(["0"])
    assert read == ["y"]
    assert again.metric_points == first.metric_points + 6  # 5 losses, accuracy at step 20


def test_fingerprints_change_with_the_files_only(logdir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "mnist"
    write_tensorboardx(copy / "x", 1.0, range(5))
    write_tensorboardx(copy / "y", 1.0, range(5))
    source = TensorBoardSource(copy)
    before = {h.info.run_name: h.fingerprint for h in source.run_headers(["0"])}
    assert before == {h.info.run_name: h.fingerprint for h in source.run_headers(["0"])}
    write_tensorboardx(copy / "y", 1.0, range(5, 10), ".more")
    after = {h.info.run_name: h.fingerprint for h in source.run_headers(["0"])}
    assert after["x"] == before["x"]
    assert after["y"] != before["y"]
    (y,) = (c for c in _contents(source).values() if c.header.info.run_name == "y")
    assert [step for step, _ in _series(y.metrics, "loss")] == list(range(10))


def test_the_log_folder_is_never_written(logdir: Path) -> None:
    def snapshot() -> dict[str, tuple[int, int]]:
        return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(logdir.rglob("*"))}

    before = snapshot()
    source = TensorBoardSource(logdir)
    _contents(source)
    source.counts(["0"])
    source.close()
    assert snapshot() == before


def test_no_models_and_no_artifacts(logdir: Path) -> None:
    source = TensorBoardSource(logdir)
    assert list(source.logged_models(["0"])) == []
    assert list(source.registered_models()) == []
    assert source.open_artifacts("") is None


def test_a_missing_log_folder_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        TensorBoardSource(tmp_path / "nowhere")


def test_a_vanished_run_is_not_found(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    write_tensorboardx(root / "gone", 1.0, range(2))
    source = TensorBoardSource(root)
    headers = list(source.run_headers(["0"]))
    for path in (root / "gone").iterdir():
        os.remove(path)
    with pytest.raises(NotFound, match="'gone' is no longer"):
        list(source.run_contents(headers))


def _event_file(folder: Path) -> Path:
    (path,) = folder.glob("events.out.tfevents.*")
    return path


def test_a_record_cut_short_ends_the_file(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    write_tensorboardx(root / "run", 1.0, range(10))
    path = _event_file(root / "run")
    path.write_bytes(path.read_bytes()[:-7])  # the last record cut short, as by a kill
    (run,) = _contents(TensorBoardSource(root)).values()
    # Every record but the last one, loss at step 9.
    assert [step for step, _ in _series(run.metrics, "loss")] == list(range(9))
    assert [step for step, _ in _series(run.metrics, "eval/accuracy")] == [0]


def test_a_damaged_frame_stops_the_file_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "logs"
    write_tensorboardx(root / "run", 1.0, range(10))
    path = _event_file(root / "run")
    data = bytearray(path.read_bytes())
    offset = 0
    for _ in range(4):  # past the file version record and three scalars
        (length,) = struct.unpack("<Q", data[offset : offset + 8])
        offset += 12 + length + 4
    data[offset] ^= 0xFF  # the fifth record's length no longer matches its CRC
    path.write_bytes(bytes(data))
    with caplog.at_level("WARNING", logger="mltrail.importers._tensorboard"):
        (run,) = _contents(TensorBoardSource(root)).values()
    assert len(run.metrics) == 3
    mine = [r for r in caplog.records if r.name == "mltrail.importers._tensorboard"]
    assert [r.getMessage() for r in mine] == [
        f"{path}: damaged record at byte {offset}, the rest of the file is skipped"
    ]


def test_event_files_in_the_log_folder_itself_are_the_run_named_dot(tmp_path: Path) -> None:
    root = tmp_path / "single"
    write_tensorboardx(root, 1.0, range(3))
    write_tensorboardx(root / "child", 1.0, range(3))
    runs = _contents(TensorBoardSource(root))
    assert set(runs) == {".", "child"}
    assert runs["."].header.info.run_id == run_id_for("single", ".")
    assert [step for step, _ in _series(runs["."].metrics, "loss")] == [0, 1, 2]


def _hparams_summary(tag: str, data: plugin_data_pb2.HParamsPluginData) -> summary_pb2.Summary:
    summary = summary_pb2.Summary()
    summary.value.add(tag=tag, metadata=hparams_metadata.create_summary_metadata(data))
    return summary


def test_a_session_that_ended_in_failure_is_a_failed_run(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    for name, status in (("ok", api_pb2.STATUS_SUCCESS), ("broke", api_pb2.STATUS_FAILURE)):
        writer = EventFileWriter(str(root / name))
        start = plugin_data_pb2.SessionStartInfo()
        start.hparams["units"].number_value = 64
        data = plugin_data_pb2.HParamsPluginData(session_start_info=start)
        summary = _hparams_summary(hparams_metadata.SESSION_START_INFO_TAG, data)
        writer.add_event(event_pb2.Event(wall_time=1_700_000_000.25, summary=summary))
        end = plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=1_700_000_100)
        data = plugin_data_pb2.HParamsPluginData(session_end_info=end)
        summary = _hparams_summary(hparams_metadata.SESSION_END_INFO_TAG, data)
        writer.add_event(event_pb2.Event(wall_time=1_700_000_100.5, summary=summary))
        writer.close()
    runs = _contents(TensorBoardSource(root))
    assert runs["ok"].header.info.status == "FINISHED"
    assert runs["broke"].header.info.status == "FAILED"
    assert runs["broke"].params == {"units": "64"}
    # The earliest event (the writer's own first event carries the time it was opened).
    assert runs["broke"].header.info.start_time == 1_700_000_000_250
