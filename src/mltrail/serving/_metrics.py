"""The scoring server's metrics, written in Prometheus' text exposition format (0.0.4).

Kept per worker process, in memory: request counts by path, method and status; a latency
histogram by path; error counts by status and error code; requests in flight; rows scored.
Unknown paths are counted as ``path="other"`` so a scanner cannot grow the label set.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

__all__ = ["LATENCY_BUCKETS", "ScoringMetrics"]

# Seconds; the finest buckets matter most for small models answering in a millisecond.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
KNOWN_PATHS = frozenset({"/invocations", "/ping", "/health", "/version", "/metrics"})
PREFIX = "mltrail_scoring"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class ScoringMetrics:
    """Counters and a histogram, safe to update from the event loop and worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = time.time()
        self.requests: defaultdict[tuple[str, str, int], int] = defaultdict(int)
        self.errors: defaultdict[tuple[int, str], int] = defaultdict(int)
        self.bucket_counts: defaultdict[str, list[int]] = defaultdict(
            lambda: [0] * len(LATENCY_BUCKETS)
        )
        self.latency_sum: defaultdict[str, float] = defaultdict(float)
        self.latency_count: defaultdict[str, int] = defaultdict(int)
        self.in_flight = 0
        self.rows = 0

    @staticmethod
    def path_label(path: str) -> str:
        return path if path in KNOWN_PATHS else "other"

    def started_request(self) -> None:
        with self._lock:
            self.in_flight += 1

    def observe(
        self, path: str, method: str, status: int, seconds: float, error_code: str | None = None
    ) -> None:
        """Record one finished request."""
        label = self.path_label(path)
        with self._lock:
            self.in_flight -= 1
            self.requests[(label, method.upper(), status)] += 1
            counts = self.bucket_counts[label]
            for i, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
                    break
            self.latency_sum[label] += seconds
            self.latency_count[label] += 1
            if status >= 400:
                self.errors[(status, error_code or "UNKNOWN")] += 1

    def add_rows(self, rows: int) -> None:
        with self._lock:
            self.rows += rows

    def render(self) -> str:
        """All metrics in Prometheus' text format."""
        with self._lock:
            out: list[str] = []
            name = f"{PREFIX}_requests_total"
            out += [f"# HELP {name} HTTP requests answered.", f"# TYPE {name} counter"]
            for (path, method, status), count in sorted(self.requests.items()):
                out.append(
                    f'{name}{{path="{_label(path)}",method="{_label(method)}",'
                    f'status="{status}"}} {count}'
                )
            name = f"{PREFIX}_request_duration_seconds"
            out += [
                f"# HELP {name} Time from request to response, by path.",
                f"# TYPE {name} histogram",
            ]
            for path in sorted(self.latency_count):
                cumulative = 0
                for bound, count in zip(LATENCY_BUCKETS, self.bucket_counts[path], strict=True):
                    cumulative += count
                    out.append(
                        f'{name}_bucket{{path="{_label(path)}",le="{_number(bound)}"}} {cumulative}'
                    )
                total = self.latency_count[path]
                out.append(f'{name}_bucket{{path="{_label(path)}",le="+Inf"}} {total}')
                out.append(f'{name}_sum{{path="{_label(path)}"}} {self.latency_sum[path]!r}')
                out.append(f'{name}_count{{path="{_label(path)}"}} {total}')
            name = f"{PREFIX}_errors_total"
            out += [
                f"# HELP {name} Requests answered with an error, by status and error code.",
                f"# TYPE {name} counter",
            ]
            for (status, code), count in sorted(self.errors.items()):
                out.append(f'{name}{{status="{status}",error_code="{_label(code)}"}} {count}')
            name = f"{PREFIX}_requests_in_flight"
            out += [
                f"# HELP {name} Requests being answered now.",
                f"# TYPE {name} gauge",
                f"{name} {self.in_flight}",
            ]
            name = f"{PREFIX}_predicted_rows_total"
            out += [
                f"# HELP {name} Input rows (first dimension) scored successfully.",
                f"# TYPE {name} counter",
                f"{name} {self.rows}",
            ]
            name = f"{PREFIX}_start_time_seconds"
            out += [
                f"# HELP {name} When this worker started, in seconds since the epoch.",
                f"# TYPE {name} gauge",
                f"{name} {self.started!r}",
            ]
        return "\n".join(out) + "\n"
