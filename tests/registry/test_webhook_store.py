"""The webhooks part of every backend: webhooks, and the outbox their deliveries wait in.

Nothing here sends: over SQL no dispatcher runs (deliveries stay in the outbox until claimed);
over REST the server's own dispatcher sends them (to 127.0.0.1:9, where nothing listens).
"""

from __future__ import annotations

import json

import pytest

from mltrail._exceptions import InvalidArgument, NotFound, NotImplementedYet
from mltrail.entities._webhook import DeliveryOutcome, DeliveryStatus
from mltrail.store import Backend
from mltrail.store.rest import RestBackend

URL = "http://127.0.0.1:9/hook"


def test_webhooks_and_their_deliveries(store: Backend) -> None:
    hooks = store.webhooks
    hook = hooks.create_webhook("h", URL, ["registered_model.created"], secret="s")  # type: ignore[list-item]
    assert hooks.get_webhook(hook.webhook_id).name == "h"
    assert [h.webhook_id for h in hooks.list_webhooks()] == [hook.webhook_id]
    updated = hooks.update_webhook(hook.webhook_id, name="h2", status="DISABLED")
    assert (updated.name, updated.status) == ("h2", "DISABLED")
    store.registry.create_registered_model("quiet")  # a disabled webhook gets nothing
    assert list(hooks.list_webhook_deliveries(hook.webhook_id)) == []
    hooks.update_webhook(hook.webhook_id, status="ACTIVE")
    store.registry.create_registered_model("heard")
    (delivery,) = hooks.list_webhook_deliveries(hook.webhook_id)
    assert delivery.event == "registered_model.created"
    assert json.loads(delivery.payload)["data"]["name"] == "heard"
    with pytest.raises(InvalidArgument):
        hooks.create_webhook("bad", "ftp://127.0.0.1/", ["registered_model.created"])  # type: ignore[list-item]
    hooks.delete_webhook(hook.webhook_id)
    with pytest.raises(NotFound):
        hooks.get_webhook(hook.webhook_id)


def test_the_outbox_is_claimed_and_recorded_where_the_database_is(store: Backend) -> None:
    hooks = store.webhooks
    if isinstance(store, RestBackend):  # the server sends its deliveries itself
        with pytest.raises(NotImplementedYet, match="sent by the tracking server"):
            hooks.claim_due_deliveries(30)
        with pytest.raises(NotImplementedYet):
            hooks.next_delivery_due()
        return
    pending: list[str] = []
    hooks.add_pending_listener(lambda: pending.append("kick"))
    hook = hooks.create_webhook("h", URL, ["registered_model.created"])  # type: ignore[list-item]
    assert hooks.next_delivery_due() is None
    store.registry.create_registered_model("m")
    assert pending == ["kick"]  # after the commit
    due = hooks.next_delivery_due()
    assert due is not None
    (claim,) = hooks.claim_due_deliveries(30)
    assert (claim.webhook_id, claim.url, claim.attempts) == (hook.webhook_id, URL, 0)
    assert hooks.claim_due_deliveries(30) == []  # leased to the first claimer
    outcome = DeliveryOutcome(DeliveryStatus.SUCCEEDED, 1, due + 5, None, 204, None)
    hooks.record_delivery_attempt(claim.delivery_id, outcome)
    (delivery,) = hooks.list_webhook_deliveries(hook.webhook_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("SUCCEEDED", 1, 204)
    assert hooks.next_delivery_due() is None
