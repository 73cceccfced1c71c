"""The web UI: the built single-page app served at ``/``.

The UI is TypeScript in ``ui/``, built by the package build (``hatch_build.py``) into
``mltrail/server/static/``.  :func:`ui_routes` returns the routes that serve it:

- ``/assets/...``: the hashed bundles, cached for a year (their names change with their content);
- any other GET path: a file at the top of the build (``favicon``...) when there is one, else
  ``index.html`` (never cached), so that client-side routes such as ``/runs/<id>`` load the app;
- paths under ``/api/``, ``/ajax-api/`` and ``/get-artifact`` are never answered with the app:
  an unknown endpoint there gets the JSON error ``ENDPOINT_NOT_FOUND``.

When the UI was not built (a source checkout without ``npm run build``) every page answers 404
with a short HTML (or JSON, for API clients) message that says how to build it.

The routes go last in the application's route list: they match every path.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["STATIC_DIR", "ui_routes"]

STATIC_DIR = Path(__file__).resolve().parent / "static"

_API_PREFIXES = ("api/", "ajax-api/", "get-artifact", "model-versions/get-artifact")
_IMMUTABLE = "public, max-age=31536000, immutable"
_NO_CACHE = "no-cache"
_NOT_BUILT = (
    "The mltrail web UI is not built. From a source checkout run "
    "`npm ci && npm run build` in ui/ (or install mltrail from a wheel), then reload."
)


class _HashedAssets(StaticFiles):
    """Static files whose names carry a content hash: cached for a year."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = _IMMUTABLE
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" not in accept and "application/json" in accept


def _not_built(request: Request) -> Response:
    if _wants_json(request):
        return JSONResponse(
            {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": _NOT_BUILT}, status_code=404
        )
    body = (
        "<!doctype html><meta charset=utf-8><title>mltrail: UI not built</title>"
        '<body style="font: 15px system-ui, sans-serif; margin: 3em; max-width: 40em">'
        f"<h1>mltrail</h1><p>{html.escape(_NOT_BUILT)}</p>"
        "<p>The tracking API is up: <code>/api/2.0/mlflow/...</code></p></body>"
    )
    return HTMLResponse(body, status_code=404)


def _endpoint_not_found(request: Request) -> Response:
    return JSONResponse(
        {
            "error_code": "ENDPOINT_NOT_FOUND",
            "message": f"No endpoint {request.method} {request.url.path}",
        },
        status_code=404,
    )


def ui_routes(static_dir: Path | None = None, x_frame_options: str = "DENY") -> list[BaseRoute]:
    """Routes serving the built UI from *static_dir* (the packaged build by default); its
    page carries *x_frame_options* (``NONE``: no ``X-Frame-Options`` header)."""
    root = (static_dir or STATIC_DIR).resolve()
    index = root / "index.html"
    assets = root / "assets"

    async def page(request: Request) -> Response:
        path: str = request.path_params.get("path", "")
        if path.startswith(_API_PREFIXES):
            return _endpoint_not_found(request)
        if not index.is_file():
            return _not_built(request)
        if path and "/" not in path and not path.startswith("."):
            candidate = (root / path).resolve()
            if candidate.parent == root and candidate.is_file() and candidate != index:
                return FileResponse(candidate, headers={"Cache-Control": "public, max-age=3600"})
        response = FileResponse(index, media_type="text/html; charset=utf-8")
        response.headers["Cache-Control"] = _NO_CACHE
        response.headers["X-Content-Type-Options"] = "nosniff"
        if x_frame_options != "NONE":
            response.headers["X-Frame-Options"] = x_frame_options
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    async def missing_asset(request: Request) -> Response:
        raise HTTPException(status_code=404, detail="No such asset: the UI was not built")

    routes: list[BaseRoute] = []
    if assets.is_dir():
        routes.append(Mount("/assets", app=_HashedAssets(directory=assets), name="ui-assets"))
    else:
        routes.append(Route("/assets/{path:path}", missing_asset, methods=["GET", "HEAD"]))
    routes.append(Route("/", page, methods=["GET", "HEAD"], name="ui"))
    routes.append(Route("/{path:path}", page, methods=["GET", "HEAD"], name="ui-page"))
    return routes
