"""The model-registry half of MlflowClient: registered models, versions, aliases, stages,
webhooks (MLflow's method names, arguments and return types).

The registry lives at the client's registry URI (by default its tracking URI): the
``registry`` and ``webhooks`` parts of the backend found there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mltrail import entities
from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.tracking._backends import backend_for
from mltrail.tracking._uri import resolve_tracking_uri

if TYPE_CHECKING:
    from mltrail.entities import ModelVersion, RegisteredModel
    from mltrail.entities._webhook import WebhookEvent
    from mltrail.registry.webhooks import Webhook, WebhookDelivery, WebhookTestResult
    from mltrail.store import ModelRegistryStore, PagedList, UrlCheck, WebhookStore

__all__ = ["ClientRegistry"]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class ClientRegistry:
    """Registry methods of the client; needs ``_registry_uri`` from the client."""

    _registry_uri: str

    @property
    def _registry(self) -> ModelRegistryStore:
        return backend_for(resolve_tracking_uri(self._registry_uri)).registry

    @property
    def _webhooks(self) -> WebhookStore:
        return backend_for(resolve_tracking_uri(self._registry_uri)).webhooks

    # -- registered models -------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        items = [entities.RegisteredModelTag(str(k), _text(v)) for k, v in (tags or {}).items()]
        return self._registry.create_registered_model(name, items, description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._registry.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self._registry.rename_registered_model(name, new_name)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        return self._registry.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        self._registry.delete_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        return self._registry.search_registered_models(
            filter_string or None, max_results, order_by, page_token
        )

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self._registry.set_registered_model_tag(
            name, entities.RegisteredModelTag(key, _text(value))
        )

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._registry.delete_registered_model_tag(name, key)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The newest version in each of *stages* (every stage when None)."""
        return self._registry.get_latest_versions(name, stages)

    # -- aliases -----------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        self._registry.set_registered_model_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._registry.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._registry.get_model_version_by_alias(name, alias)

    # -- versions ----------------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int = 300,
        model_id: str | None = None,
    ) -> ModelVersion:
        """A new version of *name* from *source* (``runs:/<run_id>/<path>``, ``models:/...``
        or a location inside the artifacts of *run_id*).  Versions are READY at once, so
        *await_creation_for* has nothing to wait for."""
        items = [entities.ModelVersionTag(str(k), _text(v)) for k, v in (tags or {}).items()]
        return self._registry.create_model_version(
            name, str(source), run_id or None, items, run_link, description, model_id
        )

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self._registry.get_model_version(name, version)

    def update_model_version(
        self, name: str, version: int | str, description: str | None = None
    ) -> ModelVersion:
        return self._registry.update_model_version(name, version, description)

    def delete_model_version(self, name: str, version: int | str) -> None:
        self._registry.delete_model_version(name, version)

    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        return self._registry.transition_model_version_stage(
            name, version, stage, bool(archive_existing_versions)
        )

    def get_model_version_stages(self, name: str, version: int | str) -> list[str]:
        self._registry.get_model_version(name, version)
        from mltrail.entities._registry import ALL_STAGES

        return list(ALL_STAGES)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        return self._registry.search_model_versions(
            filter_string or None, max_results, order_by, page_token
        )

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        return self._registry.get_model_version_download_uri(name, version)

    def _version_for(self, name: str, version: int | str | None, stage: str | None) -> int | str:
        if version is not None and stage is not None:
            raise InvalidArgument("version and stage cannot be set together")
        if version is not None:
            return version
        if stage is None:
            raise InvalidArgument("version or stage must be set")
        latest = self._registry.get_latest_versions(name, [stage])
        if not latest:
            raise NotFound(f"No version of registered model '{name}' in stage '{stage}'")
        return latest[0].version

    def set_model_version_tag(
        self,
        name: str,
        version: int | str | None = None,
        key: str | None = None,
        value: Any = None,
        stage: str | None = None,
    ) -> None:
        """Tag a version; *stage* instead of *version* tags the newest version in that stage."""
        if key is None:
            raise InvalidArgument("Missing value for required parameter 'key'")
        number = self._version_for(name, version, stage)
        self._registry.set_model_version_tag(
            name, number, entities.ModelVersionTag(key, _text(value))
        )

    def delete_model_version_tag(
        self,
        name: str,
        version: int | str | None = None,
        key: str | None = None,
        stage: str | None = None,
    ) -> None:
        if key is None:
            raise InvalidArgument("Missing value for required parameter 'key'")
        self._registry.delete_model_version_tag(name, self._version_for(name, version, stage), key)

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Copy the version *src_model_uri* names (``models:/<name>/<version>``,
        ``models:/<name>@<alias>``, ...) to a new version of *dst_name* (created if needed)."""
        from mltrail.registry import parse_models_uri, resolve_model_version

        parsed = parse_models_uri(src_model_uri)
        if parsed is None or parsed.path:
            raise InvalidArgument(
                f"Invalid src_model_uri {src_model_uri!r}: expected models:/<name>/<version> "
                "or models:/<name>@<alias>"
            )
        name, version = resolve_model_version(parsed, self)
        return self._registry.copy_model_version(self.get_model_version(name, version), dst_name)

    # -- webhooks ----------------------------------------------------------------------------
    def create_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[WebhookEvent | str],
        description: str | None = None,
        secret: str | None = None,
        status: str | None = None,
    ) -> Webhook:
        """Send registry *events* (``"model_version.created"``, ...) to *url*, signed with
        *secret* when given."""
        return self._webhooks.create_webhook(
            name, url, _events(events), description, secret, status, check_url=_url_check()
        )

    def get_webhook(self, webhook_id: str) -> Webhook:
        return self._webhooks.get_webhook(webhook_id)

    def list_webhooks(
        self, max_results: int | None = None, page_token: str | None = None
    ) -> PagedList[Webhook]:
        return self._webhooks.list_webhooks(max_results, page_token)

    def update_webhook(
        self,
        webhook_id: str,
        name: str | None = None,
        description: str | None = None,
        url: str | None = None,
        events: Sequence[WebhookEvent | str] | None = None,
        secret: str | None = None,
        status: str | None = None,
    ) -> Webhook:
        return self._webhooks.update_webhook(
            webhook_id,
            name,
            description,
            url,
            None if events is None else _events(events),
            secret,
            status,
            check_url=_url_check(),
        )

    def delete_webhook(self, webhook_id: str) -> None:
        self._webhooks.delete_webhook(webhook_id)

    def test_webhook(
        self, webhook_id: str, event: WebhookEvent | str | None = None
    ) -> WebhookTestResult:
        from mltrail.entities._webhook import WebhookEvent
        from mltrail.registry.webhooks import WebhookSettings, example_sender

        chosen = None if event is None else WebhookEvent.coerce(event)
        send = example_sender(WebhookSettings.from_env())  # the library sends: its settings
        return self._webhooks.test_webhook(webhook_id, chosen, send)

    def list_webhook_deliveries(
        self, webhook_id: str, max_results: int | None = None, page_token: str | None = None
    ) -> PagedList[WebhookDelivery]:
        """Deliveries to one webhook, newest first, with their outcome (an mltrail extension)."""
        return self._webhooks.list_webhook_deliveries(webhook_id, max_results, page_token)


def _url_check() -> UrlCheck:
    """The library's destination policy (the environment's), for the webhooks whose
    deliveries it sends (a tracking server's store applies the server's instead)."""
    from mltrail.registry.webhooks import WebhookSettings, destination_check

    return destination_check(WebhookSettings.from_env())


def _events(events: Sequence[Any]) -> list[WebhookEvent]:
    if isinstance(events, (str, bytes)):
        events = [events]
    from mltrail.entities._webhook import WebhookEvent

    return [WebhookEvent.coerce(e) for e in events]
