"""The scoring server: an ASGI app around one loaded model, built by :func:`create_scoring_app`.

Routes (MLflow's scoring protocol, plus metrics)::

    GET  /ping, /health   200 once the model is loaded
    GET  /version         mltrail's version
    POST /invocations     {"predictions": ...} or an error body
    GET  /metrics         Prometheus text format

Reading, predicting and writing a request run together on a worker thread, so a large body
never blocks the event loop and ``/ping`` answers while predictions run.  A request that takes
longer than ``settings.timeout`` is answered 503 (the prediction's thread finishes in the
background; Python cannot stop a thread).  Bodies above ``settings.max_body_bytes`` are
refused with 413 before they are read.  No request can stop the server: every exception
becomes an error body, unexpected ones a logged 500 without details.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from mltrail._exceptions import BadRequest, MltrailError, PayloadTooLarge, TemporarilyUnavailable
from mltrail._version import __version__
from mltrail.serving._fast import FastPath, fast_path_for
from mltrail.serving._metrics import ScoringMetrics
from mltrail.serving._output import predictions_to_json
from mltrail.serving._parsing import (
    CONTENT_TYPE_JSON,
    MAX_COLUMNS,
    load_json,
    parse_content_type,
    parse_json_input,
    parse_request,
)

__all__ = ["ScoringSettings", "create_scoring_app", "predict_body"]

logger = logging.getLogger("mltrail.serving")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
INTERNAL_MESSAGE = "An internal error occurred in the scoring server; the details are in its log."
_ERROR_CODE_KEY = "mltrail.error_code"
_JSON = "application/json"
_CLIENT_CLOSED = 499  # nginx's status for a request its client gave up on (never sent)


class PredictingModel(Protocol):
    """What the server needs of a model: :class:`mltrail.pyfunc.PyFuncModel` satisfies it."""

    @property
    def metadata(self) -> Any: ...

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class ScoringSettings:
    """How the scoring server behaves; every value has a command-line option.

    ``timeout``: seconds a request may take before it is answered 503 (None: no limit).
    ``max_body_bytes``: the largest request body read; larger ones get 413.
    ``threads``: predictions that may run at once in one worker process.
    ``fast_path``: score the requests :mod:`mltrail.serving._fast` takes without a DataFrame.
    ``max_columns``: the most columns (named inputs) a request may have; wider ones get 400
    before pandas reads them.
    """

    timeout: float | None = DEFAULT_TIMEOUT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    threads: int = 4
    fast_path: bool = True
    max_columns: int = MAX_COLUMNS

    def __post_init__(self) -> None:
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"timeout must be positive, got {self.timeout!r}")
        if self.max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be positive, got {self.max_body_bytes!r}")
        if self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads!r}")
        if self.max_columns < 1:
            raise ValueError(f"max_columns must be positive, got {self.max_columns!r}")


def _json_error(exc: MltrailError) -> Response:
    return Response(json.dumps(exc.to_dict()), exc.get_http_status_code(), media_type=_JSON)


def _rows(data: Any) -> int:
    if isinstance(data, dict):
        return max((_rows(v) for v in data.values()), default=0)
    shape = getattr(data, "shape", None)
    if shape:
        return int(shape[0])
    return len(data) if isinstance(data, list) else 1


def predict_body(
    model: PredictingModel,
    body: bytes,
    content_type: str | None,
    schema: Any,
    fast: FastPath | None = None,
    max_columns: int | None = MAX_COLUMNS,
) -> tuple[bytes, int]:
    """Parse a request body, predict, write the response body: (JSON bytes, rows scored).

    With *fast* (see :mod:`mltrail.serving._fast`), JSON requests it takes skip the DataFrame;
    the others, and every other content type, take the generic path.  Errors of the model
    itself (not mltrail's) become 400 naming the exception, as the input is the usual cause;
    MLflow answers these 400 too.
    """
    if fast is not None and parse_content_type(content_type) == CONTENT_TYPE_JSON:
        obj = load_json(body)
        rows = fast.rows(obj)
        if rows is not None:
            return predictions_to_json(_model_call(fast.predict, rows)), int(rows.shape[0])
        parsed = parse_json_input(obj, schema, max_columns=max_columns)
    else:
        parsed = parse_request(body, content_type, schema, max_columns=max_columns)
    predictions = _model_call(model.predict, parsed.data, params=parsed.params)
    return predictions_to_json(predictions), _rows(parsed.data)


def _model_call(predict: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return predict(*args, **kwargs)
    except MltrailError:
        raise
    except Exception as exc:
        logger.info("Prediction failed", exc_info=exc)
        detail = f"{type(exc).__name__}: {exc}"
        if len(detail) > 1000:
            detail = detail[:1000] + "..."
        raise BadRequest(
            f"The model failed to predict on this input; check that it matches the model's "
            f"signature. {detail}"
        ) from None


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise BadRequest(f"Invalid Content-Length header {declared!r}") from None
        if size > limit:
            raise PayloadTooLarge(
                f"Request body of {size} bytes is larger than the limit of {limit} bytes"
            )
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"Request body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class _MetricsMiddleware:
    """Counts every HTTP request: path, method, status, latency, error code."""

    def __init__(self, app: ASGIApp, metrics: ScoringMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        self.metrics.started_request()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            code = scope.get(_ERROR_CODE_KEY)
            self.metrics.observe(
                scope["path"], scope["method"], status, time.perf_counter() - start, code
            )


def create_scoring_app(model: PredictingModel, settings: ScoringSettings | None = None) -> Any:
    """The scoring server's ASGI app for an already loaded *model*."""
    settings = settings or ScoringSettings()
    metadata = getattr(model, "metadata", None)
    schema = metadata.get_input_schema() if metadata is not None else None
    fast = fast_path_for(model) if settings.fast_path else None
    metrics = ScoringMetrics()
    executor = ThreadPoolExecutor(settings.threads, thread_name_prefix="mltrail-predict")

    def error(request: Request, exc: MltrailError) -> Response:
        request.scope[_ERROR_CODE_KEY] = exc.error_code
        return _json_error(exc)

    async def ping(request: Request) -> Response:
        return Response("\n", media_type=_JSON)

    async def version(request: Request) -> Response:
        return Response(__version__, media_type="text/plain")

    async def metrics_route(request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def invocations(request: Request) -> Response:
        async def score() -> tuple[bytes, int]:
            content_type = request.headers.get("content-type")
            parse_content_type(content_type)  # 415 before the body is read
            body = await _read_body(request, settings.max_body_bytes)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                executor,
                predict_body,
                model,
                body,
                content_type,
                schema,
                fast,
                settings.max_columns,
            )

        try:
            payload, rows = await asyncio.wait_for(score(), settings.timeout)
        except (TimeoutError, asyncio.TimeoutError):
            return error(
                request,
                TemporarilyUnavailable(
                    f"The prediction took longer than the server's timeout of "
                    f"{settings.timeout:g} seconds"
                ),
            )
        except MltrailError as exc:
            return error(request, exc)
        except ClientDisconnect:  # nobody is left to answer: one line, no traceback
            logger.info(
                "Client %s disconnected before sending the whole request body",
                _peer(request),
            )
            request.scope[_ERROR_CODE_KEY] = "CLIENT_DISCONNECTED"
            return Response(status_code=_CLIENT_CLOSED)
        except Exception as exc:  # never let a request take the server down
            logger.error("Unexpected error while scoring", exc_info=exc)
            return error(request, MltrailError(INTERNAL_MESSAGE))
        metrics.add_rows(rows)
        return Response(payload, media_type=_JSON)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return error(
                request,
                _with_status(
                    MltrailError(f"No endpoint {request.url.path!r}", "ENDPOINT_NOT_FOUND"), 404
                ),
            )
        if exc.status_code == 405:
            return error(
                request,
                _with_status(
                    MltrailError(
                        f"Method {request.method} is not allowed on {request.url.path!r}",
                        "ENDPOINT_NOT_FOUND",
                    ),
                    405,
                ),
            )
        return error(
            request, _with_status(MltrailError(str(exc.detail), "BAD_REQUEST"), exc.status_code)
        )

    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.error("Unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
        return error(request, MltrailError(INTERNAL_MESSAGE))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            executor.shutdown(wait=False, cancel_futures=True)

    app = Starlette(
        routes=[
            Route("/ping", ping, methods=["GET"]),
            Route("/health", ping, methods=["GET"]),
            Route("/version", version, methods=["GET"]),
            Route("/invocations", invocations, methods=["POST"]),
            Route("/metrics", metrics_route, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: unexpected},
        lifespan=lifespan,
        middleware=[Middleware(_MetricsMiddleware, metrics=metrics)],
    )
    app.state.metrics = metrics
    app.state.model = model
    app.state.settings = settings
    return app


def _peer(request: Request) -> str:
    client = request.client
    return f"{client.host}:{client.port}" if client is not None else "(unknown)"


def _with_status(exc: MltrailError, status: int) -> MltrailError:
    exc.http_status = status  # type: ignore[misc]
    return exc
