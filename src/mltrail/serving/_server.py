"""Running the scoring server with uvicorn: one process, or N worker processes on one socket.

With one worker the model is loaded and served in this process (the fastest start).  With
``workers > 1`` this process binds the socket, then starts N worker processes (``spawn``, so no
thread or lock state of a loaded library is forked); each receives the socket and the settings
as constructor arguments, loads the model from a local directory and serves.  A worker that
dies is replaced; one that fails before serving stops the server with its exit code.

Every connection gets ``TCP_NODELAY`` so that small responses on kept-alive connections are not
held back by Nagle's algorithm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mltrail.models._uri import download_model, is_local_uri
from mltrail.pyfunc import load_model as load_pyfunc
from mltrail.serving._app import ScoringSettings, create_scoring_app

__all__ = ["ServerOptions", "load_model", "local_model_dir", "serve", "serve_model"]

logger = logging.getLogger("mltrail.serving")


class _NoDelayProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with TCP_NODELAY set on each connection."""

    def connection_made(  # type: ignore[override]
        self, transport: asyncio.Transport, prefix: bytes | None = None
    ) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and getattr(sock, "family", None) in (
            socket.AF_INET,
            socket.AF_INET6,
        ):
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if prefix is None:
            super().connection_made(transport)
        else:  # pragma: no cover - newer uvicorn passes bytes already read
            super().connection_made(transport, prefix)  # type: ignore[call-arg]


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Where and how uvicorn listens (the scoring behaviour is :class:`ScoringSettings`)."""

    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    log_level: str = "info"
    access_log: bool = False


def load_model(model_uri: str, model_config: dict[str, Any] | None = None) -> Any:
    """The pyfunc model at *model_uri* (any URI form :func:`mltrail.pyfunc.load_model` reads),
    given *model_config* when the model takes one."""
    return load_pyfunc(model_uri, model_config=model_config)


def _uvicorn_config(app: Any, options: ServerOptions, **extra: Any) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        http=_NoDelayProtocol,
        loop="auto",
        log_level=options.log_level,
        access_log=options.access_log,
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=5,
        **extra,
    )


def serve_model(model: Any, settings: ScoringSettings, options: ServerOptions) -> None:
    """Serve an already loaded model in this process until interrupted."""
    import uvicorn

    app = create_scoring_app(model, settings)
    _freeze_heap()
    server = uvicorn.Server(_uvicorn_config(app, options, host=options.host, port=options.port))
    server.run()
    if not server.started:
        raise SystemExit(1)


def _freeze_heap() -> None:
    """Move everything allocated so far (the model, the libraries) out of the garbage
    collector's view: full collections then scan only per-request objects, which shortens
    the pauses that make a request's tail latency."""
    import gc

    gc.collect()
    gc.freeze()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"Error: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(
    model_path: str, settings: ScoringSettings, options: ServerOptions, sock: socket.socket
) -> None:
    """Body of one worker process: load the model, serve on the inherited socket."""
    import uvicorn

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops workers with SIGTERM
    model = load_model(model_path)
    app = create_scoring_app(model, settings)
    _freeze_heap()
    server = uvicorn.Server(_uvicorn_config(app, options))
    server.run(sockets=[sock])


@contextlib.contextmanager
def local_model_dir(model_uri: str) -> Iterator[str]:
    """A local directory holding the model: the folder itself for a local path, else a private
    temporary copy (a ``models:/`` or ``runs:/`` URI may name files of a local store: they are
    copied, never handed out, so removing the copy cannot touch the store)."""
    import shutil
    import tempfile

    if is_local_uri(model_uri):
        yield download_model(model_uri)  # the folder itself, checked to exist
        return
    folder = tempfile.mkdtemp(prefix="mltrail-serve-")  # mode 0700
    try:
        yield download_model(model_uri, os.path.join(folder, "model"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def serve(model_uri: str, settings: ScoringSettings, options: ServerOptions) -> None:
    """Serve the model at *model_uri* until interrupted (blocks)."""
    if options.workers <= 1:
        serve_model(load_model(model_uri), settings, options)
        return
    with local_model_dir(model_uri) as local:
        _supervise(local, settings, options)


def _supervise(model_path: str, settings: ScoringSettings, options: ServerOptions) -> None:
    sock = _bind(options.host, options.port)
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> Any:
        process = context.Process(
            target=_worker,
            args=(model_path, settings, options, sock),
            name="mltrail-scoring-worker",
            daemon=False,
        )
        process.start()
        return process

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    shown = f"[{options.host}]" if ":" in options.host else options.host
    print(
        f"Serving {model_path} on http://{shown}:{options.port} with {options.workers} workers",
        file=sys.stderr,
        flush=True,
    )
    workers = [start() for _ in range(options.workers)]
    started = time.monotonic()
    exit_code = 0
    try:
        while not stopping:
            time.sleep(0.2)
            for i, process in enumerate(workers):
                if process.is_alive() or stopping:
                    continue
                if time.monotonic() - started < 60 and process.exitcode not in (0, None):
                    # A worker that fails while starting (a model that cannot load) would fail
                    # again: stop instead of restarting in a loop.
                    logger.error("A worker exited with code %s while starting", process.exitcode)
                    exit_code = process.exitcode or 1
                    stopping = True
                    break
                logger.warning(
                    "Worker %s exited (%s); starting another", process.pid, process.exitcode
                )
                workers[i] = start()
    finally:
        for process in workers:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + 10
        for process in workers:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        sock.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    if exit_code:
        raise SystemExit(exit_code)
