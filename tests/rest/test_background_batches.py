"""The background logger with a store that has request limits, and its failure rules.

The logger is driven with a plain function standing in for ``store.log_batch`` that records
what it is given and fails as told; the HTTP side is tested against real servers elsewhere.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from mltrail._exceptions import InvalidArgument, NotFound, TemporarilyUnavailable
from mltrail.entities import Metric, Param, RunTag
from mltrail.store._batches import MLFLOW_BATCH_LIMITS, split_batch
from mltrail.tracking._batching import AsyncLogger

Call = tuple[str, list[Metric], list[Param], list[RunTag]]


class Sink:
    """Records batches; ``fail[run_id]`` is raised (once per listed error) for that run."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.fail: dict[str, list[BaseException]] = {}
        self.lock = threading.Lock()

    def __call__(
        self,
        run_id: str,
        metrics: Sequence[Metric],
        params: Sequence[Param],
        tags: Sequence[RunTag],
    ) -> None:
        with self.lock:
            errors = self.fail.get(run_id)
            if errors:
                raise errors.pop(0)
            if any(p.value == "bad" for p in params):
                raise InvalidArgument(f"bad param in {[p.key for p in params]}")
            self.calls.append((run_id, list(metrics), list(params), list(tags)))

    def metrics(self, run_id: str) -> list[Metric]:
        return [m for r, ms, _, _ in self.calls if r == run_id for m in ms]


def test_batches_are_cut_to_the_stores_limits() -> None:
    sink = Sink()
    logger = AsyncLogger(sink, MLFLOW_BATCH_LIMITS)
    for i in range(2500):
        logger.log_metric("r", f"m{i % 4}", float(i), 1000 + i, i)
    for i in range(150):
        logger.log_param("r", f"p{i}", str(i))
    for i in range(120):
        logger.set_tag("r", f"t{i}", str(i))
    logger.flush()
    for _, metrics, params, tags in sink.calls:
        assert len(metrics) <= 1000
        assert len(params) <= 100
        assert len(tags) <= 100
        assert len(metrics) + len(params) + len(tags) <= 1000
    assert [m.value for m in sink.metrics("r")] == [float(i) for i in range(2500)]
    assert sorted(p.key for c in sink.calls for p in c[2]) == sorted(f"p{i}" for i in range(150))
    assert sorted(t.key for c in sink.calls for t in c[3]) == sorted(f"t{i}" for i in range(120))
    logger.close()


def test_without_limits_a_round_is_one_write_per_run() -> None:
    sink = Sink()
    started = threading.Event()
    release = threading.Event()

    def slow_first(run_id: str, *rest: Sequence[object]) -> None:
        if not started.is_set():
            started.set()
            release.wait(5)
        sink(run_id, *rest)  # type: ignore[arg-type]

    logger = AsyncLogger(slow_first)
    logger.log_metric("r", "warmup", 0.0, 1, 0)
    assert started.wait(5)
    for i in range(5000):  # queued while the first write is held up: one round
        logger.log_metric("r", "m", float(i), 1, i)
    release.set()
    logger.flush()
    assert [len(c[1]) for c in sink.calls] == [1, 5000]
    logger.close()


def test_an_unreachable_store_fails_the_round_and_is_raised_at_the_next_call() -> None:
    sink = Sink()
    sink.fail["a"] = [TemporarilyUnavailable("the tracking server could not be reached")]
    logger = AsyncLogger(sink, MLFLOW_BATCH_LIMITS)
    for i in range(1500):
        logger.log_metric("a", "m", float(i), 1, i)
    with pytest.raises(TemporarilyUnavailable, match="could not be reached"):
        logger.flush()
    # The failure is reported once; logging goes on afterwards.
    logger.log_metric("a", "m", 99.0, 1, 99)
    logger.flush()
    assert sink.metrics("a")[-1].value == 99.0
    # Tried once, not once per part: nothing else of that round was attempted against it.
    assert sink.fail["a"] == []
    logger.close()


def test_a_refused_batch_of_one_run_does_not_cost_another_runs_values() -> None:
    sink = Sink()
    sink.fail["gone"] = [NotFound("Run 'gone' not found")]
    release = threading.Event()
    calls: list[str] = []

    def gated(run_id: str, *rest: Sequence[object]) -> None:
        calls.append(run_id)
        release.wait(5)
        sink(run_id, *rest)  # type: ignore[arg-type]

    logger = AsyncLogger(gated, MLFLOW_BATCH_LIMITS)
    logger.log_metric("first", "m", 0.0, 1, 0)
    logger.log_metric("gone", "m", 1.0, 1, 0)
    logger.log_metric("kept", "m", 2.0, 1, 0)
    release.set()
    with pytest.raises(NotFound):
        logger.flush()
    assert [m.value for m in sink.metrics("kept")] == [2.0]
    logger.close()


def test_a_broken_rule_costs_only_the_offending_value() -> None:
    sink = Sink()
    logger = AsyncLogger(sink, MLFLOW_BATCH_LIMITS)
    logger.log_param("r", "good", "1")
    logger.log_param("r", "worse", "bad")
    logger.set_tag("r", "t", "x")
    logger.log_metric("r", "m", 1.0, 1, 0)
    with pytest.raises(InvalidArgument, match="bad param"):
        logger.flush()
    stored_params = {p.key for c in sink.calls for p in c[2]}
    assert stored_params == {"good"}
    assert [t.key for c in sink.calls for t in c[3]] == ["t"]
    assert [m.value for m in sink.metrics("r")] == [1.0]
    logger.close()


def test_a_changed_param_is_refused_at_the_call_without_a_store_round_trip() -> None:
    sink = Sink()
    logger = AsyncLogger(sink, MLFLOW_BATCH_LIMITS)
    logger.log_param("r", "lr", "0.1")
    logger.log_param("other", "lr", "0.5")  # another run: its own params
    with pytest.raises(InvalidArgument) as caught:
        logger.log_param("r", "lr", "0.2")
    assert caught.value.message == (
        "Changing param values is not allowed. Param with key='lr' was already logged with "
        "value='0.1' for run ID='r'. Attempted logging new value '0.2'."
    )
    logger.log_param("r", "lr", "0.1")  # the same value is fine
    logger.flush()
    assert {(c[0], p.value) for c in sink.calls for p in c[2]} == {("other", "0.5"), ("r", "0.1")}
    logger.forget_params("r")  # the run was terminated
    logger.log_param("r", "lr", "0.3")  # now the store decides
    logger.close()


@pytest.mark.parametrize(
    ("m", "p", "t", "parts"),
    [(0, 0, 0, 1), (1000, 0, 0, 1), (1001, 0, 0, 2), (900, 100, 0, 1), (950, 100, 100, 2)],
)
def test_split_batch_sizes(m: int, p: int, t: int, parts: int) -> None:
    metrics = [Metric("k", 0.0, 0, i) for i in range(m)]
    params = [Param(f"p{i}", "v") for i in range(p)]
    tags = [RunTag(f"t{i}", "v") for i in range(t)]
    out = list(split_batch(metrics, params, tags))
    assert len(out) == parts
    assert [x for o in out for x in o[0]] == metrics
    assert [x for o in out for x in o[1]] == params
    assert [x for o in out for x in o[2]] == tags
    assert all(len(a) + len(b) + len(c) <= 1000 for a, b, c in out)
    with pytest.raises(ValueError, match="positive"):
        list(split_batch(metrics, params, tags, (0, 1, 1, 1)))
