"""System metrics: CPU, memory, disk and network sampled into ``system/*`` metrics of a run.

Enabled per run (``start_run(log_system_metrics=True)``), for the process
(``enable_system_metrics_logging()``) or by ``MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING=true``.
Sampling runs in a daemon thread every ``MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL`` seconds
(default 10); every ``MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING`` samples (default 1) their
mean is logged through the non-blocking logger, so it never slows training down, under
``system/`` (``system/<node id>/`` with ``MLFLOW_SYSTEM_METRICS_NODE_ID``, for several machines
logging to one run).  ``set_system_metrics_*`` set those variables, as MLflow's do.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING

from mltrail._exceptions import InvalidArgument
from mltrail._optional import require

if TYPE_CHECKING:
    from mltrail.tracking._client import MlflowClient

__all__ = [
    "check_monitor",
    "disable_system_metrics_logging",
    "enable_system_metrics_logging",
    "sample_system_metrics",
    "set_system_metrics_node_id",
    "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval",
    "start_monitor",
    "stop_monitor",
    "system_metrics_enabled",
]

PREFIX = "system/"
_monitors: dict[str, _Monitor] = {}
_enabled: bool | None = None


def enable_system_metrics_logging() -> None:
    global _enabled
    _enabled = True


def disable_system_metrics_logging() -> None:
    global _enabled
    _enabled = False


def system_metrics_enabled() -> bool:
    if _enabled is not None:
        return _enabled
    return os.environ.get("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", "").lower() == "true"


def _interval() -> float:
    raw = os.environ.get(_INTERVAL_ENV, "10")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise InvalidArgument(f"Invalid {_INTERVAL_ENV} {raw!r}: must be a positive number")
    return value


_INTERVAL_ENV = "MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL"
_SAMPLES_ENV = "MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING"
_NODE_ENV = "MLFLOW_SYSTEM_METRICS_NODE_ID"


def _set_env(name: str, value: object) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = str(value)


def set_system_metrics_sampling_interval(interval: float | None) -> None:
    """Sample every *interval* seconds in runs started from now on (None: the default, 10)."""
    if interval is not None and not (
        isinstance(interval, (int, float)) and not isinstance(interval, bool) and interval > 0
    ):
        raise InvalidArgument(f"Invalid sampling interval {interval!r}: must be a positive number")
    _set_env(_INTERVAL_ENV, interval)


def set_system_metrics_samples_before_logging(samples: int | None) -> None:
    """Log the mean of every *samples* samples (None: the default, 1: each sample)."""
    if samples is not None and not (
        isinstance(samples, int) and not isinstance(samples, bool) and samples > 0
    ):
        raise InvalidArgument(f"Invalid samples {samples!r}: must be a positive integer")
    _set_env(_SAMPLES_ENV, samples)


def set_system_metrics_node_id(node_id: str | None) -> None:
    """Log under ``system/<node_id>/`` (None: under ``system/``)."""
    _set_env(_NODE_ENV, node_id)


def _samples() -> int:
    raw = os.environ.get(_SAMPLES_ENV, "1")
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise InvalidArgument(f"Invalid {_SAMPLES_ENV} {raw!r}: must be a positive integer")
    return value


def _prefix() -> str:
    node = os.environ.get(_NODE_ENV, "").strip().strip("/")
    return f"{PREFIX}{node}/" if node else PREFIX


def sample_system_metrics() -> dict[str, float]:
    """One sample of the host's utilisation, with MLflow's metric names (without prefix)."""
    require("psutil")
    import psutil

    mb = 1024.0 * 1024.0
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(os.path.abspath(os.sep))
    net = psutil.net_io_counters()
    return {
        "cpu_utilization_percentage": psutil.cpu_percent(interval=None),
        "system_memory_usage_megabytes": (memory.total - memory.available) / mb,
        "system_memory_usage_percentage": memory.percent,
        "disk_usage_percentage": disk.percent,
        "disk_usage_megabytes": disk.used / mb,
        "disk_available_megabytes": disk.free / mb,
        "network_receive_megabytes": net.bytes_recv / mb,
        "network_transmit_megabytes": net.bytes_sent / mb,
    }


class _Monitor(threading.Thread):
    def __init__(
        self, run_id: str, client: MlflowClient, interval: float, samples: int, prefix: str
    ) -> None:
        super().__init__(name=f"mltrail-system-metrics-{run_id[:8]}", daemon=True)
        self.run_id = run_id
        self.client = client
        self.interval = interval
        self.samples = samples
        self.prefix = prefix
        self.stopped = threading.Event()

    def run(self) -> None:
        import psutil

        psutil.cpu_percent(interval=None)  # the first reading primes the counter
        step = 0
        sums: dict[str, float] = {}
        taken = 0
        while not self.stopped.wait(self.interval):
            for key, value in sample_system_metrics().items():
                sums[key] = sums.get(key, 0.0) + float(value)
            taken += 1
            if taken < self.samples:
                continue
            now = time.time_ns() // 1_000_000
            for key, total in sums.items():
                self.client._async.log_metric(
                    self.run_id, self.prefix + key, total / taken, now, step
                )
            sums, taken = {}, 0
            step += 1


def check_monitor() -> None:
    """Raise what :func:`start_monitor` would (psutil missing, a bad interval), before a run
    is created."""
    require("psutil")
    _interval()
    _samples()


def start_monitor(run_id: str, client: MlflowClient) -> None:
    require("psutil")
    if run_id not in _monitors:
        monitor = _monitors[run_id] = _Monitor(run_id, client, _interval(), _samples(), _prefix())
        monitor.start()


def stop_monitor(run_id: str) -> None:
    monitor = _monitors.pop(run_id, None)
    if monitor is not None:
        monitor.stopped.set()
        monitor.join(timeout=5)
