"""A small closed-loop HTTP/1.1 load generator on raw asyncio streams (keep-alive).

Each of ``concurrency`` connections sends one request, reads the whole response, and sends
the next, for ``duration`` seconds.  The client's own cost per request is a few microseconds
(pre-built request bytes, Content-Length framing), so the server under test, not the client,
limits the rate.  Only 127.0.0.1 is ever a target.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
        return ordered[index]


def build_request(port: int, path: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: keep-alive\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _worker(
    port: int, request: bytes, stop_at: float, record_from: float, result: LoadResult
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            start = time.perf_counter()
            if start >= stop_at:
                return
            writer.write(request)
            status = await _read_response(reader)
            end = time.perf_counter()
            if start >= record_from:
                result.requests += 1
                if status != 200:
                    result.errors += 1
                result.latencies_ms.append((end - start) * 1e3)
    finally:
        writer.close()


async def _run(
    port: int, request: bytes, concurrency: int, warmup: float, duration: float
) -> LoadResult:
    result = LoadResult(0, 0, duration, [])
    now = time.perf_counter()
    record_from = now + warmup
    stop_at = record_from + duration
    await asyncio.gather(
        *(_worker(port, request, stop_at, record_from, result) for _ in range(concurrency))
    )
    return result


def run_load(
    port: int, request: bytes, concurrency: int = 4, warmup: float = 1.0, duration: float = 5.0
) -> LoadResult:
    return asyncio.run(_run(port, request, concurrency, warmup, duration))


def post_once(port: int, request: bytes, timeout: float = 2.0) -> int:
    """One request on a new connection; the status (0 when the server is not there yet)."""

    async def once() -> int:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), timeout
            )
        except (OSError, asyncio.TimeoutError):
            return 0
        try:
            writer.write(request)
            return await asyncio.wait_for(_read_response(reader), timeout)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
            return 0
        finally:
            writer.close()

    return asyncio.run(once())
