"""What every handler works with: the backend, the settings and the artifact proxy's mapping.

Runs created while the server serves artifacts get URIs ``mlflow-artifacts:/<exp>/<run>/
artifacts``; clients turn them into proxy URLs, and the server maps the path after the scheme
onto its artifacts destination (a folder or an S3 prefix).  Writes through the proxy are only
accepted inside the artifact root of an existing, active run (:meth:`run_for_upload`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from mltrail._exceptions import InvalidArgument, NotFound, PermissionDenied
from mltrail.artifacts import ArtifactRepository, get_artifact_repository, validate_artifact_path
from mltrail.artifacts.http import HttpArtifactRepository
from mltrail.entities import LifecycleStage, Run
from mltrail.registry.webhooks import WebhookSettings, check_destination, example_sender
from mltrail.server._locations import (
    check_http_destination,
    refuse_credentials,
    refuse_location,
)
from mltrail.server._locations import looks_like_run_id as _looks_like_run_id
from mltrail.server._settings import ServerSettings
from mltrail.store import Backend, WebhookSender

if TYPE_CHECKING:  # the auth modules build on this one (their handlers take a ServerContext)
    from mltrail.server.auth._runtime import AuthRuntime

__all__ = ["PROXY_SCHEME", "STAGING_DIR", "ServerContext", "proxy_path"]

T = TypeVar("T")
PROXY_SCHEME = "mlflow-artifacts"
#: Threads that run blocking handlers (store and artifact calls), as many as anyio's default.
HANDLER_THREADS = 40
#: Where multipart uploads keep their parts inside the destination (hidden from the proxy).
STAGING_DIR = ".mltrail-mpu"


#: The proxy's route, as it appears in an ``http(s)`` artifact root that names this proxy.
PROXY_ROUTE = "/api/2.0/mlflow-artifacts/artifacts"


def proxy_path(uri: str) -> str | None:
    """The destination-relative path of a proxied location (None for other URIs).

    Two forms name the proxy: ``mlflow-artifacts:/<path>``, and (as MLflow's documentation
    configures ``--default-artifact-root``) an ``http(s)`` URL of the proxy's route,
    ``http://host:port[/prefix]/api/2.0/mlflow-artifacts/artifacts/<path>``, whatever the host
    (a client may reach the server under several names), as MLflow's server reads it.
    """
    scheme = uri.partition(":")[0].lower()
    if scheme == PROXY_SCHEME:
        return validate_artifact_path(urlsplit(uri).path.strip("/"))
    if scheme not in ("http", "https"):
        return None
    try:
        path = urlsplit(uri).path
    except ValueError:
        return None
    _, found, rest = path.partition(PROXY_ROUTE)
    if not found or (rest and not rest.startswith("/")):
        return None
    return validate_artifact_path(rest.strip("/"))


def _is_prefix(prefix: list[str], segments: list[str], allow_equal: bool) -> bool:
    longer = len(segments) > len(prefix) or (allow_equal and len(segments) == len(prefix))
    return longer and segments[: len(prefix)] == prefix


@dataclass
class ServerContext:
    settings: ServerSettings
    backend: Backend
    destination: str
    #: Authentication and permissions; None when the server lets every caller do everything.
    auth: AuthRuntime | None = None

    @functools.cached_property
    def webhook_settings(self) -> WebhookSettings:
        """How this server checks and sends webhooks (its private-destinations policy)."""
        allow = self.settings.webhooks_allow_private_destinations
        return WebhookSettings(allow_private_destinations=allow)

    @functools.cached_property
    def webhook_sender(self) -> WebhookSender:
        """What ``webhooks/{id}/test`` sends with."""
        return example_sender(self.webhook_settings)

    def check_webhook_url(self, url: str) -> None:
        """InvalidArgument unless the server may send to *url* (see
        :func:`~mltrail.registry.webhooks.check_destination`)."""
        check_destination(url, allow_private=self.webhook_settings.allow_private_destinations)

    @functools.cached_property
    def _executor(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(HANDLER_THREADS, thread_name_prefix="mltrail-handler")

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """*fn(*args)* in the server's handler threads (a plain executor: less overhead per
        call than anyio's limiter, which matters at thousands of small requests a second),
        in a copy of the caller's context (the request's caller travels in a context variable)."""
        call = functools.partial(contextvars.copy_context().run, fn, *args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def close(self) -> None:
        """Stop the handler threads (at the app's shutdown)."""
        executor = self.__dict__.pop("_executor", None)
        if executor is not None:
            executor.shutdown(wait=False)

    @functools.cached_property
    def proxy_repo(self) -> ArtifactRepository:
        return get_artifact_repository(self.destination)

    def repo_at(self, rel: str) -> ArtifactRepository:
        """A repository rooted at *rel* (already validated) below the destination."""
        if not rel:
            return self.proxy_repo
        return get_artifact_repository(self.destination.rstrip("/") + "/" + rel)

    def repo_for_uri(self, uri: str) -> ArtifactRepository:
        """The repository of a run's or experiment's artifact URI (an ``http(s)`` one only on
        a destination the rules of :mod:`~mltrail.server._locations` allow)."""
        rel = proxy_path(uri)
        if rel is not None and (
            self.settings.serve_artifacts or uri.lower().startswith(PROXY_SCHEME + ":")
        ):
            return self.repo_at(rel)
        allow = self.settings.artifacts_allow_private_destinations
        checked = check_http_destination(uri, allow_private=allow)
        if checked is not None:  # connect to the address checked, never with our credentials
            return HttpArtifactRepository(uri, destination=checked)
        return get_artifact_repository(uri)

    def check_artifact_location(self, location: str | None) -> str | None:
        """A new experiment's location: when serving artifacts, an ``mlflow-artifacts:`` URI (or
        the proxy route's ``http(s)`` URL) inside the destination; always within the rules of
        :mod:`~mltrail.server._locations`."""
        if not location:
            return None
        refuse_credentials(location)
        if self.settings.serve_artifacts:
            try:
                rel = proxy_path(location)
            except InvalidArgument as exc:
                raise InvalidArgument(f"Invalid artifact_location {location!r}: {exc}") from None
            if rel is None or not rel:
                raise InvalidArgument(
                    f"Invalid artifact_location {location!r}: this server stores artifacts itself, "
                    "so an experiment's artifact_location must be an 'mlflow-artifacts:/<path>' "
                    "URI inside its artifacts destination"
                )
            # The proxy's http(s) route form stays as given (it names the same folder).
            checked = f"{PROXY_SCHEME}:/{rel}"
            if location.partition(":")[0].lower() not in ("http", "https"):
                location = checked
        else:
            checked = location
        refuse_location(
            checked,
            proxy_scheme=PROXY_SCHEME,
            destination=self.destination,
            staging_dir=STAGING_DIR,
            allow_private=self.settings.artifacts_allow_private_destinations,
            find_run=self._find_run,
        )
        return location

    def _find_run(self, run_id: str) -> Run | None:
        try:
            return self.backend.runs.get_run(run_id)
        except NotFound:
            return None

    def run_for_upload(self, rel: str, allow_root: bool = False) -> Run | None:
        """The active run whose artifact root holds the proxy path *rel*; else an error.

        None when *rel* is inside the artifact root of an active logged model instead
        (``<experiment>/models/<model_id>/artifacts/<path>``, see :meth:`_in_logged_model`).
        *allow_root* accepts the run's artifact root itself (to delete everything in it).
        """
        segments = rel.split("/") if rel else []
        if segments and segments[0] == STAGING_DIR:
            raise PermissionDenied(f"Artifact path {rel!r} is reserved for the server")
        candidates = [
            segments[i]
            for i in range(len(segments) - (1 if allow_root else 2))
            if segments[i + 1] == "artifacts" and _looks_like_run_id(segments[i])
        ]
        for run_id in candidates:
            try:
                run = self.backend.runs.get_run(run_id)
            except NotFound:
                continue
            root = proxy_path(run.info.artifact_uri)
            if root is None or not _is_prefix(root.split("/"), segments, allow_root):
                continue
            if run.info.lifecycle_stage != LifecycleStage.ACTIVE:
                raise PermissionDenied(
                    f"Cannot write artifact {rel!r}: run {run_id} is deleted; restore it first"
                )
            return run
        if self._in_logged_model(rel, segments, allow_root):
            return None
        raise NotFound(
            f"Cannot write artifact {rel!r}: artifacts are only accepted inside the artifact "
            "root of an existing run (<experiment>/<run_id>/artifacts/<path>) or logged model "
            "(<experiment>/models/<model_id>/artifacts/<path>)"
        )

    def _in_logged_model(self, rel: str, segments: list[str], allow_root: bool) -> bool:
        """Whether *rel* lies inside an active logged model's artifact root."""
        store = self.backend.logged_models
        for i in range(1, len(segments) - (1 if allow_root else 2)):
            model_id = segments[i]
            if segments[i - 1] != "models" or segments[i + 1] != "artifacts":
                continue
            if not model_id.startswith("m-"):
                continue
            try:
                model = store.get_logged_model(model_id, allow_deleted=True)
            except (NotFound, InvalidArgument):
                continue
            root = proxy_path(model.artifact_location)
            if root is None or not _is_prefix(root.split("/"), segments, allow_root):
                continue
            try:
                store.get_logged_model(model_id)  # active ones only
            except NotFound:
                raise PermissionDenied(
                    f"Cannot write artifact {rel!r}: logged model {model_id} is deleted"
                ) from None
            return True
        return False
