"""Webhooks against a real HTTP receiver on 127.0.0.1: signed deliveries, retries with
backoff, the delivery log, SSRF refusals."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities import ModelVersionTag, RegisteredModelTag
from mltrail.registry.webhooks import (
    DELIVERY_ID_HEADER,
    EVENTS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookDelivery,
    WebhookEvent,
    WebhookSettings,
    check_destination,
    verify_signature,
)
from mltrail.store.sql import SqlStore

FAST = WebhookSettings(
    allow_private_destinations=True, max_attempts=3, backoff_seconds=0.05, timeout_seconds=5
)


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    path: str


@dataclass
class Receiver:
    """A real HTTP listener; answers with ``statuses`` in turn (then 200)."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} requests, got {len(self.requests)}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode()
            with state.lock:
                state.requests.append(Received(dict(self.headers.items()), body, self.path))
                status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"try again")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/registry"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def store(db_uri: str, tmp_path: Path) -> Iterator[SqlStore]:
    """Webhook deliveries are sent by the SQL store's dispatcher (the REST layer of webhooks
    is tested in test_registry_rest and test_registry_compat)."""
    s = SqlStore(db_uri, str(tmp_path / "artifacts"))
    try:
        yield s
    finally:
        s.stop_webhook_dispatcher()
        s.close()


@pytest.fixture
def hooks(store: SqlStore) -> SqlStore:
    store.configure_webhooks(FAST)
    return store


def _settled(store: SqlStore, webhook_id: str, count: int) -> list[WebhookDelivery]:
    """The webhook's deliveries once *count* exist and none is pending."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        page = store.list_webhook_deliveries(webhook_id)
        if len(page) >= count and all(d.status != "PENDING" for d in page):
            return list(page)
        time.sleep(0.05)
    raise AssertionError(f"deliveries did not settle: {list(page)}")


def test_signed_delivery_of_a_new_version(hooks: SqlStore, receiver: Receiver, run_id: str) -> None:
    hook = hooks.create_webhook(
        "deploy",
        receiver.url,
        [WebhookEvent("model_version", "created")],
        description="kick off deployment",
        secret="s3cret",
    )
    assert hook.to_dict()["events"] == [{"entity": "MODEL_VERSION", "action": "CREATED"}]
    assert WebhookEvent.coerce(hook.to_dict()["events"][0]) == hook.events[0]
    assert "secret" not in hook.to_dict()
    hooks.create_registered_model("m")  # not subscribed: no delivery
    hooks.create_model_version(
        "m", f"runs:/{run_id}/model", tags=[ModelVersionTag("k", "v")], description="d"
    )
    (request,) = receiver.wait_for(1)
    assert request.path == "/hooks/registry"
    delivery_id = request.headers[DELIVERY_ID_HEADER]
    timestamp = request.headers[TIMESTAMP_HEADER]
    signature = request.headers[SIGNATURE_HEADER]
    assert signature.startswith("v1,")
    assert verify_signature("s3cret", delivery_id, timestamp, request.body, signature)
    assert not verify_signature("wrong", delivery_id, timestamp, request.body, signature)
    assert not verify_signature("s3cret", delivery_id, timestamp, request.body + " ", signature)
    assert not verify_signature(
        "s3cret", delivery_id, timestamp, request.body, signature, now=int(timestamp) + 3600
    )
    payload = json.loads(request.body)
    assert (payload["entity"], payload["action"]) == ("model_version", "created")
    assert payload["data"] == {
        "name": "m",
        "version": "1",
        "source": f"runs:/{run_id}/model",
        "run_id": run_id,
        "tags": {"k": "v"},
        "description": "d",
    }
    assert payload["timestamp"].endswith("+00:00")
    (delivery,) = _settled(hooks, hook.webhook_id, 1)
    assert (delivery.delivery_id, delivery.status, delivery.attempts) == (
        delivery_id,
        "SUCCEEDED",
        1,
    )
    assert delivery.last_status_code == 200
    assert delivery.to_dict()["payload"] == payload
    time.sleep(0.2)
    assert len(receiver.requests) == 1  # exactly once


def test_retries_with_backoff_until_success(
    hooks: SqlStore, receiver: Receiver, run_id: str
) -> None:
    receiver.statuses = [503, 500]
    hook = hooks.create_webhook("h", receiver.url, ["registered_model.created"], secret="k")
    hooks.create_registered_model("m")
    requests = receiver.wait_for(3)
    ids = {r.headers[DELIVERY_ID_HEADER] for r in requests}
    assert len(ids) == 1  # the same delivery id on every retry
    for r in requests:  # each attempt is signed with its own timestamp
        assert verify_signature(
            "k",
            r.headers[DELIVERY_ID_HEADER],
            r.headers[TIMESTAMP_HEADER],
            r.body,
            r.headers[SIGNATURE_HEADER],
        )
    (delivery,) = _settled(hooks, hook.webhook_id, 1)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("SUCCEEDED", 3, 200)


def test_gives_up_after_max_attempts_and_on_client_errors(
    hooks: SqlStore, receiver: Receiver
) -> None:
    receiver.statuses = [500, 500, 500, 400]
    hook = hooks.create_webhook("h", receiver.url, ["registered_model.created"])
    hooks.create_registered_model("a")
    (failed,) = _settled(hooks, hook.webhook_id, 1)
    assert (failed.status, failed.attempts, failed.last_status_code) == ("FAILED", 3, 500)
    assert failed.last_error == "HTTP 500"
    hooks.create_registered_model("b")  # a 400 is not retried
    newest = _settled(hooks, hook.webhook_id, 2)[0]
    assert (newest.status, newest.attempts, newest.last_status_code) == ("FAILED", 1, 400)
    assert SIGNATURE_HEADER not in receiver.requests[-1].headers  # no secret, no signature
    assert len(receiver.requests) == 4


def test_every_event_is_delivered(hooks: SqlStore, receiver: Receiver, run_id: str) -> None:
    hook = hooks.create_webhook("all", receiver.url, list(EVENTS))
    hooks.create_registered_model("m", [RegisteredModelTag("a", "1")])
    hooks.set_registered_model_tag("m", RegisteredModelTag("b", "2"))
    hooks.delete_registered_model_tag("m", "b")
    hooks.create_model_version("m", f"runs:/{run_id}/model")
    hooks.set_model_version_tag("m", 1, ModelVersionTag("pre_deploy_checks", "PASSED"))
    hooks.delete_model_version_tag("m", 1, "pre_deploy_checks")
    hooks.set_registered_model_alias("m", "champion", 1)
    hooks.delete_registered_model_alias("m", "champion")
    hooks.transition_model_version_stage("m", 1, "Production")
    hooks.delete_registered_model_tag("m", "never-set")  # nothing changed: no event
    deliveries = _settled(hooks, hook.webhook_id, len(EVENTS))
    assert sorted(d.event for d in deliveries) == sorted(EVENTS)
    assert all(d.status == "SUCCEEDED" for d in deliveries)
    stage = next(d for d in deliveries if d.event == "model_version.stage_changed")
    assert json.loads(stage.payload)["data"] == {
        "name": "m",
        "version": "1",
        "from_stage": "None",
        "to_stage": "Production",
        "archived_versions": [],
    }
    alias = next(d for d in deliveries if d.event == "model_version_alias.created")
    assert json.loads(alias.payload)["data"] == {"name": "m", "alias": "champion", "version": "1"}


def test_disabled_webhooks_and_failed_changes_send_nothing(
    hooks: SqlStore, receiver: Receiver
) -> None:
    hook = hooks.create_webhook("h", receiver.url, ["registered_model.created"])
    hooks.update_webhook(hook.webhook_id, status="DISABLED")
    hooks.create_registered_model("m")
    with pytest.raises(InvalidArgument):
        hooks.create_registered_model("a/b")  # rejected: no event
    hooks.update_webhook(hook.webhook_id, status="ACTIVE")
    hooks.create_registered_model("n")
    (delivery,) = _settled(hooks, hook.webhook_id, 1)
    assert json.loads(delivery.payload)["data"]["name"] == "n"
    time.sleep(0.2)
    assert len(receiver.requests) == 1


def test_webhook_crud_and_test_call(hooks: SqlStore, receiver: Receiver) -> None:
    created = [
        hooks.create_webhook(f"h{i}", receiver.url, ["model_version.created"]) for i in range(3)
    ]
    ids: list[str] = []
    token = None
    while True:
        page = hooks.list_webhooks(max_results=2, page_token=token)
        ids += [h.webhook_id for h in page]
        token = page.token
        if token is None:
            break
    assert sorted(ids) == sorted(h.webhook_id for h in created)
    first = created[0].webhook_id
    updated = hooks.update_webhook(
        first,
        name="renamed",
        events=[WebhookEvent("model_version_alias", "created"), "model_version_tag.set"],
        secret="new",
    )
    assert updated.name == "renamed"
    assert [str(e) for e in updated.events] == [
        "model_version_alias.created",
        "model_version_tag.set",
    ]
    result = hooks.test_webhook(first)
    assert (result.success, result.response_status, result.response_body) == (True, 200, "ok")
    (request,) = receiver.wait_for(1)
    assert json.loads(request.body)["entity"] == "model_version_alias"
    assert verify_signature(
        "new",
        request.headers[DELIVERY_ID_HEADER],
        request.headers[TIMESTAMP_HEADER],
        request.body,
        request.headers[SIGNATURE_HEADER],
    )
    assert hooks.list_webhook_deliveries(first) == []  # a test call is not logged
    receiver.statuses = [500]
    failed = hooks.test_webhook(first, WebhookEvent("model_version_tag", "set"))
    assert (failed.success, failed.response_status, failed.error_message) == (
        False,
        500,
        "HTTP 500",
    )
    hooks.delete_webhook(first)
    with pytest.raises(NotFound, match="not found"):
        hooks.get_webhook(first)
    with pytest.raises(NotFound):
        hooks.list_webhook_deliveries(first)
    for kwargs in (
        {"name": "", "url": receiver.url, "events": ["model_version.created"]},
        {"name": "x", "url": receiver.url, "events": []},
        {"name": "x", "url": receiver.url, "events": ["model_version.exploded"]},
        {"name": "x", "url": "ftp://example.com/", "events": ["model_version.created"]},
        {"name": "x", "url": "http://u:p@127.0.0.1/", "events": ["model_version.created"]},
    ):
        with pytest.raises(InvalidArgument):
            hooks.create_webhook(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8080/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00::1]/",
        "http://224.0.0.1/",
    ],
)
def test_private_destinations_are_refused_by_default(store: SqlStore, url: str) -> None:
    store.configure_webhooks(WebhookSettings())
    with pytest.raises(InvalidArgument, match="refused unless the server allows"):
        store.create_webhook("h", url, ["model_version.created"])
    with pytest.raises(InvalidArgument):
        check_destination(url, allow_private=False)
    assert check_destination(url.replace("/latest/meta-data", "/"), allow_private=True)


def test_destination_is_checked_again_before_each_attempt(
    store: SqlStore, receiver: Receiver
) -> None:
    store.configure_webhooks(FAST)
    hook = store.create_webhook("h", receiver.url, ["registered_model.created"])
    store.configure_webhooks(WebhookSettings(max_attempts=3, backoff_seconds=0.05))
    store.create_registered_model("m")
    (delivery,) = _settled(store, hook.webhook_id, 1)
    assert (delivery.status, delivery.attempts) == ("FAILED", 1)
    assert "refused" in (delivery.last_error or "")
    assert receiver.requests == []
