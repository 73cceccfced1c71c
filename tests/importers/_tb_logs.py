"""TensorBoard logs written by real writers for the import tests, and what TensorBoard's own
reader makes of them.

tensorboardX writes most runs (as PyTorch users' scripts do); one run is written with
TensorBoard's own event file writer the way TensorFlow 2 writes: tensor scalars whose
metadata comes with a tag's first value only, and HParams through ``hparams_pb``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import tensorboardX
from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.compat.proto import event_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.plugins.hparams import summary_v2 as hparams_v2
from tensorboard.plugins.scalar import summary_v2 as scalar_v2
from tensorboard.summary.writer import event_file_writer
from tensorboard.util import tensor_util

STEPS = 300
SPECIAL = {7: math.nan, 8: math.inf, 9: -math.inf}
HPARAMS = {"lr": 0.1, "batch_size": 32, "optimizer": "adam", "shuffle": True}
RUNS = {"a/lr_0.1", "a/lr_0.01", "b/deep/run1", "notes"}


def loss_at(step: int, scale: float) -> float:
    return SPECIAL.get(step, scale / (step + 1))


def write_tensorboardx(folder: Path, scale: float, steps: range, suffix: str = "") -> None:
    with tensorboardX.SummaryWriter(str(folder), filename_suffix=suffix) as writer:
        for step in steps:
            writer.add_scalar("loss", loss_at(step, scale), step)
            if step % 10 == 0:
                writer.add_scalar("eval/accuracy", 1 - scale / (step + 1), step)


def write_tf2_style(folder: Path) -> None:
    """TensorBoard's own writer, as TensorFlow 2 writes: tensor scalars with the metadata on a
    tag's first value only (one tag float32 values, one float64 values in tensor_content, as
    TensorFlow's C++ writer encodes them), and HParams."""
    writer = event_file_writer.EventFileWriter(str(folder))
    for step in range(STEPS):
        loss = scalar_v2.scalar_pb("loss (val)@1", 0.5 + step)
        rate = scalar_v2.scalar_pb("lr", 0.0)
        rate.value[0].tensor.CopyFrom(
            tensor_pb2.TensorProto(
                dtype=types_pb2.DT_DOUBLE,
                tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                tensor_content=np.float64(0.001 * (step + 1)).tobytes(),
            )
        )
        for summary in (loss, rate):
            if step > 0:
                summary.value[0].ClearField("metadata")
            writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
    start = hparams_v2.hparams_pb({"depth": 12, "dropout": 0.25, "act": "gelu"})
    writer.add_event(event_pb2.Event(wall_time=time.time(), summary=start))
    writer.close()


def write_logdir(root: Path) -> Path:
    """The test log folder: nested run folders, NaN and infinities, HParams, two sessions of
    one run, a run without scalars, and a folder that is no run."""
    write_tensorboardx(root / "a" / "lr_0.1", 1.0, range(STEPS))
    with tensorboardX.SummaryWriter(str(root / "a" / "lr_0.1"), filename_suffix=".hp") as w:
        experiment, start, end = tensorboardX.summary.hparams(HPARAMS, {"eval/accuracy": 0.0})
        for summary in (experiment, start, end):
            w.file_writer.add_summary(summary)
    # A run written in two sessions: the writer reopened, a second event file.
    write_tensorboardx(root / "a" / "lr_0.01", 0.1, range(STEPS), ".1")
    write_tensorboardx(root / "a" / "lr_0.01", 0.1, range(STEPS, STEPS + 50), ".2")
    write_tf2_style(root / "b" / "deep" / "run1")
    with tensorboardX.SummaryWriter(str(root / "notes")) as writer:
        writer.add_text("readme", "no scalars here", 0)
    (root / "not-a-run").mkdir()
    (root / "not-a-run" / "README.txt").write_text("no event files")
    return root


def tensorboard_reads(folder: Path) -> dict[str, list[tuple[float, int, float]]]:
    """Every scalar point of one run folder as TensorBoard's reader gives it (nothing
    sampled away, nothing purged): tag -> [(wall time, step, value)]."""
    accumulator = plugin_event_accumulator.EventAccumulator(
        str(folder), size_guidance={plugin_event_accumulator.TENSORS: 0}, purge_orphaned_data=False
    )
    accumulator.Reload()
    out: dict[str, list[tuple[float, int, float]]] = {}
    for tag in accumulator.Tags()[plugin_event_accumulator.TENSORS]:
        if accumulator.SummaryMetadata(tag).plugin_data.plugin_name != "scalars":
            continue
        out[tag] = [
            (e.wall_time, e.step, float(tensor_util.make_ndarray(e.tensor_proto).item()))
            for e in accumulator.Tensors(tag)
        ]
    return out


def same(a: float, b: float) -> bool:
    """Equal, NaN equal to NaN."""
    return (math.isnan(a) and math.isnan(b)) or a == b
