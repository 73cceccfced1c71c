"""The mltrail tracking server: MLflow's REST API, the artifact proxy and the web UI on ASGI.

``create_app(ServerSettings(...))`` builds the Starlette application; ``mltrail server`` runs
it with uvicorn.  Importing this package imports Starlette, never at ``import mltrail``.
"""

from mltrail.server._access import Access, AccessKind
from mltrail.server._app import OPENAPI_PATH, create_app
from mltrail.server._route_rules import PlainRoute
from mltrail.server._routing import Endpoint
from mltrail.server._settings import SETTINGS_FILE_ENV, ServerSettings
from mltrail.server._uvicorn import app_from_settings_file, run_server
from mltrail.server.auth._client import get_app_client

__all__ = [
    "OPENAPI_PATH",
    "SETTINGS_FILE_ENV",
    "Access",
    "AccessKind",
    "Endpoint",
    "PlainRoute",
    "ServerSettings",
    "app_from_settings_file",
    "create_app",
    "get_app_client",
    "run_server",
]
