"""Endpoints about the server itself: /health, /version, server-info and the OpenAPI document."""

from __future__ import annotations

import functools
from importlib import metadata
from typing import Any

from mltrail.artifacts import MultipartUploadRepository
from mltrail.server._access import PUBLIC
from mltrail.server._context import ServerContext
from mltrail.server._routing import Endpoint
from mltrail.server._schema import boolean, obj, string

__all__ = [
    "MLFLOW_API_VERSION",
    "mltrail_version",
    "served_version",
    "server_info",
    "server_info_endpoint",
]

#: The MLflow release whose REST API this server implements, as MLflow's clients compare it
#: (MLflow's own test suite runs against this server with that release's client).
MLFLOW_API_VERSION = "3.17"


@functools.cache
def mltrail_version() -> str:
    try:
        return metadata.version("mltrail")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source tree without install
        return "0+unknown"


@functools.cache
def served_version() -> str:
    """What ``/version`` answers: the MLflow API version with mltrail's version as its local
    label (``3.17+mltrail.0.1.0``), a PEP 440 version MLflow's client parses and compares for its
    feature checks (it switches features off for a server it cannot place)."""
    local = "".join(c if c.isalnum() else "." for c in mltrail_version().lower()).strip(".")
    return f"{MLFLOW_API_VERSION}+mltrail.{local}"


def server_info(ctx: ServerContext, args: dict[str, Any]) -> dict[str, Any]:
    """MLflow's capability document (what clients probe before choosing upload strategies)."""
    return {
        "store_type": "SqlStore",
        "workspaces_enabled": ctx.settings.enable_workspaces,
        "trace_archival_enabled": False,
        # As MLflow: advertised when the destination takes parts itself (S3); a folder destination
        # still accepts multipart uploads (staged by the server) from clients that ask for them.
        "multipart_uploads_enabled": ctx.settings.serve_artifacts
        and isinstance(ctx.proxy_repo, MultipartUploadRepository),
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
        "server": "mltrail",
        "version": mltrail_version(),
        "mlflow_api_version": MLFLOW_API_VERSION,
        "serve_artifacts": ctx.settings.serve_artifacts,
    }


def server_info_endpoint() -> Endpoint:
    return Endpoint(
        "GET",
        "/mlflow/server-info",
        "What this server supports (MLflow's capability document)",
        response=obj(
            {
                "store_type": string(),
                "multipart_uploads_enabled": boolean(),
                "multipart_downloads_enabled": boolean(),
                "server": string(),
                "version": string(),
                "mlflow_api_version": string(),
                "serve_artifacts": boolean(),
            }
        ),
        handler=server_info,
        tag="server",
        versions=("3.0",),
        access=PUBLIC,
    )
