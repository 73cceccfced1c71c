"""System metrics: CPU, memory, disk and network sampled into ``system/*`` metrics of a run.

Enabled per run (``start_run(log_system_metrics=True)``), for the process
(``enable_system_metrics_logging()``) or by ``MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING=true``.
Sampling runs in a daemon thread every ``MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL`` seconds
(default 10) and logs through the non-blocking logger, so it never slows training down.
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
    raw = os.environ.get("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "10")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise InvalidArgument(
            f"Invalid MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL {raw!r}: must be a positive number"
        )
    return value


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
    def __init__(self, run_id: str, client: MlflowClient, interval: float) -> None:
        super().__init__(name=f"mltrail-system-metrics-{run_id[:8]}", daemon=True)
        self.run_id = run_id
        self.client = client
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        import psutil

        psutil.cpu_percent(interval=None)  # the first reading primes the counter
        step = 0
        while not self.stopped.wait(self.interval):
            now = time.time_ns() // 1_000_000
            for key, value in sample_system_metrics().items():
                self.client._async.log_metric(self.run_id, PREFIX + key, float(value), now, step)
            step += 1


def check_monitor() -> None:
    """Raise what :func:`start_monitor` would (psutil missing, a bad interval), before a run
    is created."""
    require("psutil")
    _interval()


def start_monitor(run_id: str, client: MlflowClient) -> None:
    require("psutil")
    if run_id not in _monitors:
        monitor = _monitors[run_id] = _Monitor(run_id, client, _interval())
        monitor.start()


def stop_monitor(run_id: str) -> None:
    monitor = _monitors.pop(run_id, None)
    if monitor is not None:
        monitor.stopped.set()
        monitor.join(timeout=5)
