"""Store interfaces of the model registry: registered models and versions, and webhooks.

Every backend (the SQL store, the REST store) implements both as parts of its
:class:`~mltrail.store.Backend`; the conformance suite in ``tests/registry`` runs against each
of them.  Versions are addressed by model name and
version number (an ``int``, or its string form).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any

from mltrail.entities import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
)
from mltrail.entities._webhook import (
    DeliveryClaim,
    DeliveryOutcome,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookTestResult,
)
from mltrail.store._base import PagedList
from mltrail.store._visibility import Visibility

__all__ = ["DeliveryFilter", "ModelRegistryStore", "UrlCheck", "WebhookSender", "WebhookStore"]

#: Sends a webhook's example payload for *event* now (what ``test_webhook`` calls; it lives
#: above the store, in :mod:`mltrail.registry.webhooks`).
WebhookSender = Callable[[Webhook, WebhookEvent], WebhookTestResult]
#: Raises InvalidArgument for a URL the sender of this store's deliveries may not send to.
UrlCheck = Callable[[str], object]
#: Whether the event (its name and data) may be delivered to the webhook with the given id.
DeliveryFilter = Callable[[str, str, dict[str, Any]], bool]


class ModelRegistryStore(abc.ABC):
    """Registered models, their versions, tags, aliases and stages."""

    @abc.abstractmethod
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        """AlreadyExists when a model of that name (after normalisation) exists."""

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel: ...

    @abc.abstractmethod
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel: ...

    @abc.abstractmethod
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel: ...

    @abc.abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Delete the model with its versions, tags and aliases."""

    @abc.abstractmethod
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[RegisteredModel]:
        """*visible* (model names) keeps only the models the caller may read, inside the
        query: pages stay full and tokens continue (None: no constraint)."""

    @abc.abstractmethod
    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None: ...

    @abc.abstractmethod
    def delete_registered_model_tag(self, name: str, key: str) -> None: ...

    @abc.abstractmethod
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[ModelVersionTag] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """The next version of *name*, READY.  *source* must resolve inside a run's or a
        registered model version's artifacts (InvalidArgument otherwise)."""

    @abc.abstractmethod
    def get_model_version(self, name: str, version: int | str) -> ModelVersion: ...

    @abc.abstractmethod
    def update_model_version(
        self, name: str, version: int | str, description: str | None
    ) -> ModelVersion: ...

    @abc.abstractmethod
    def delete_model_version(self, name: str, version: int | str) -> None: ...

    @abc.abstractmethod
    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion: ...

    @abc.abstractmethod
    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The newest version in each of *stages* (every stage when None or empty)."""

    @abc.abstractmethod
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[ModelVersion]:
        """*visible* (registered model names) keeps only the versions of models the caller
        may read, inside the query (None: no constraint)."""

    @abc.abstractmethod
    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Where the version's files are (the location its source resolved to)."""

    @abc.abstractmethod
    def set_model_version_tag(
        self, name: str, version: int | str, tag: ModelVersionTag
    ) -> None: ...

    @abc.abstractmethod
    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None: ...

    @abc.abstractmethod
    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None: ...

    @abc.abstractmethod
    def delete_registered_model_alias(self, name: str, alias: str) -> None: ...

    @abc.abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...

    @abc.abstractmethod
    def copy_model_version(self, src_mv: ModelVersion, dst_name: str) -> ModelVersion:
        """A new version of *dst_name* (created if missing) with *src_mv*'s files and tags."""


class WebhookStore(abc.ABC):
    """Webhooks for registry events, and the outbox of their deliveries.

    The store records deliveries (in the transaction of the change that caused them) and
    never sends them: a dispatcher above it (:mod:`mltrail.registry.webhooks`, started by the
    server) listens for pending deliveries, claims due ones, sends them and records each
    attempt.  A backend whose deliveries are sent elsewhere (a tracking server) refuses the
    outbox methods with ``NotImplementedYet`` and never calls its listeners.
    """

    @abc.abstractmethod
    def create_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[WebhookEvent],
        description: str | None = None,
        secret: str | None = None,
        status: str | None = None,
        check_url: UrlCheck | None = None,
    ) -> Webhook:
        """InvalidArgument for a malformed URL.  Whether its host may be contacted is the
        policy of whoever sends this store's deliveries: *check_url* (the sender's check,
        passed by the layer above) runs before anything is stored; a tracking server's store
        ignores it, the server applies its own.  Deliveries are checked again when sent."""

    @abc.abstractmethod
    def get_webhook(self, webhook_id: str) -> Webhook: ...

    @abc.abstractmethod
    def list_webhooks(
        self,
        max_results: int | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[Webhook]:
        """Oldest first; *visible*: only the webhooks whose ids it admits (an authenticating
        server's restriction to what the caller may see; paging stays exact)."""

    @abc.abstractmethod
    def update_webhook(
        self,
        webhook_id: str,
        name: str | None = None,
        description: str | None = None,
        url: str | None = None,
        events: Sequence[WebhookEvent] | None = None,
        secret: str | None = None,
        status: str | None = None,
        check_url: UrlCheck | None = None,
    ) -> Webhook:
        """*check_url* as in :meth:`create_webhook`, for a new URL."""

    @abc.abstractmethod
    def delete_webhook(self, webhook_id: str) -> None: ...

    @abc.abstractmethod
    def test_webhook(
        self, webhook_id: str, event: WebhookEvent | None, send: WebhookSender
    ) -> WebhookTestResult:
        """Send an example payload of *event* (the webhook's first event when None) now and
        report the answer; nothing is logged.  The store looks the webhook up and hands it to
        *send*; a tracking server's store asks the server to send instead."""

    @abc.abstractmethod
    def list_webhook_deliveries(
        self,
        webhook_id: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[WebhookDelivery]:
        """Deliveries to one webhook, newest first."""

    # -- the outbox ----------------------------------------------------------------------------
    @abc.abstractmethod
    def add_pending_listener(self, listener: Callable[[], None]) -> None:
        """Call *listener* (with no arguments, quickly) whenever deliveries become pending."""

    @abc.abstractmethod
    def remove_pending_listener(self, listener: Callable[[], None]) -> None: ...

    @abc.abstractmethod
    def set_delivery_filter(self, admits: DeliveryFilter | None) -> None:
        """From now on, write a delivery of an event to a webhook only when
        ``admits(webhook_id, event, data)`` (an authenticating server's: a webhook a user
        holds is sent only what that user may see); None: to every subscribed webhook.  It
        runs in the transaction of the change, so it must be quick and must not write."""

    @abc.abstractmethod
    def claim_due_deliveries(self, lease_seconds: float, limit: int = 16) -> list[DeliveryClaim]:
        """Pending deliveries that are due, each leased to the caller for *lease_seconds*
        (deliveries of webhooks disabled meanwhile are marked FAILED instead)."""

    @abc.abstractmethod
    def record_delivery_attempt(self, delivery_id: str, outcome: DeliveryOutcome) -> None:
        """Record an attempt at a claimed delivery (and release its lease)."""

    @abc.abstractmethod
    def next_delivery_due(self) -> int | None:
        """When the next pending delivery is due (ms since epoch); None when none is pending."""
