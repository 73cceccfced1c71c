"""Webhooks against a real HTTP receiver on 127.0.0.1: signed deliveries, retries with
backoff, the delivery log, SSRF refusals."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities import ModelVersionTag, RegisteredModelTag
from mltrail.registry.webhooks import (
    DELIVERY_ID_HEADER,
    EVENTS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookDelivery,
    WebhookDispatcher,
    WebhookEvent,
    WebhookSettings,
    check_destination,
    example_sender,
    verify_signature,
)
from mltrail.server import ServerSettings, create_app
from mltrail.store.rest import RestBackend
from mltrail.store.sql import SqlBackend

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
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/registry"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def store(db_uri: str, tmp_path: Path) -> Iterator[SqlBackend]:
    """The SQL backend records deliveries in its outbox; a dispatcher sends them (the REST
    layer of webhooks is tested in test_registry_rest and test_registry_compat)."""
    backend = SqlBackend(db_uri, str(tmp_path / "artifacts"))
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def dispatch(store: SqlBackend) -> Iterator[Callable[[WebhookSettings], WebhookDispatcher]]:
    """Start a dispatcher on the store's outbox with the given settings (stopped afterwards)."""
    started: list[WebhookDispatcher] = []

    def start(settings: WebhookSettings) -> WebhookDispatcher:
        dispatcher = WebhookDispatcher(store.webhooks, settings)
        dispatcher.start()
        started.append(dispatcher)
        return dispatcher

    yield start
    for dispatcher in started:
        dispatcher.stop()


@pytest.fixture
def hooks(
    store: SqlBackend, dispatch: Callable[[WebhookSettings], WebhookDispatcher]
) -> SqlBackend:
    dispatch(FAST)
    return store


def _settled(store: SqlBackend, webhook_id: str, count: int) -> list[WebhookDelivery]:
    """The webhook's deliveries once *count* exist and none is pending."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        page = store.webhooks.list_webhook_deliveries(webhook_id)
        if len(page) >= count and all(d.status != "PENDING" for d in page):
            return list(page)
        time.sleep(0.05)
    raise AssertionError(f"deliveries did not settle: {list(page)}")


def test_signed_delivery_of_a_new_version(
    hooks: SqlBackend, receiver: Receiver, run_id: str
) -> None:
    hook = hooks.webhooks.create_webhook(
        "deploy",
        receiver.url,
        [WebhookEvent("model_version", "created")],
        description="kick off deployment",
        secret="s3cret",
    )
    assert hook.to_dict()["events"] == [{"entity": "MODEL_VERSION", "action": "CREATED"}]
    assert WebhookEvent.coerce(hook.to_dict()["events"][0]) == hook.events[0]
    assert "secret" not in hook.to_dict()
    hooks.registry.create_registered_model("m")  # not subscribed: no delivery
    hooks.registry.create_model_version(
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
    hooks: SqlBackend, receiver: Receiver, run_id: str
) -> None:
    receiver.statuses = [503, 500]
    hook = hooks.webhooks.create_webhook(
        "h", receiver.url, ["registered_model.created"], secret="k"
    )
    hooks.registry.create_registered_model("m")
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
    hooks: SqlBackend, receiver: Receiver
) -> None:
    receiver.statuses = [500, 500, 500, 400]
    hook = hooks.webhooks.create_webhook("h", receiver.url, ["registered_model.created"])
    hooks.registry.create_registered_model("a")
    (failed,) = _settled(hooks, hook.webhook_id, 1)
    assert (failed.status, failed.attempts, failed.last_status_code) == ("FAILED", 3, 500)
    assert failed.last_error == "HTTP 500"
    hooks.registry.create_registered_model("b")  # a 400 is not retried
    newest = _settled(hooks, hook.webhook_id, 2)[0]
    assert (newest.status, newest.attempts, newest.last_status_code) == ("FAILED", 1, 400)
    assert SIGNATURE_HEADER not in receiver.requests[-1].headers  # no secret, no signature
    assert len(receiver.requests) == 4


def test_every_event_is_delivered(hooks: SqlBackend, receiver: Receiver, run_id: str) -> None:
    hook = hooks.webhooks.create_webhook("all", receiver.url, list(EVENTS))
    hooks.registry.create_registered_model("m", [RegisteredModelTag("a", "1")])
    hooks.registry.set_registered_model_tag("m", RegisteredModelTag("b", "2"))
    hooks.registry.delete_registered_model_tag("m", "b")
    hooks.registry.create_model_version("m", f"runs:/{run_id}/model")
    hooks.registry.set_model_version_tag("m", 1, ModelVersionTag("pre_deploy_checks", "PASSED"))
    hooks.registry.delete_model_version_tag("m", 1, "pre_deploy_checks")
    hooks.registry.set_registered_model_alias("m", "champion", 1)
    hooks.registry.delete_registered_model_alias("m", "champion")
    hooks.registry.transition_model_version_stage("m", 1, "Production")
    hooks.registry.delete_registered_model_tag("m", "never-set")  # nothing changed: no event
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
    hooks: SqlBackend, receiver: Receiver
) -> None:
    hook = hooks.webhooks.create_webhook("h", receiver.url, ["registered_model.created"])
    hooks.webhooks.update_webhook(hook.webhook_id, status="DISABLED")
    hooks.registry.create_registered_model("m")
    with pytest.raises(InvalidArgument):
        hooks.registry.create_registered_model("a/b")  # rejected: no event
    hooks.webhooks.update_webhook(hook.webhook_id, status="ACTIVE")
    hooks.registry.create_registered_model("n")
    (delivery,) = _settled(hooks, hook.webhook_id, 1)
    assert json.loads(delivery.payload)["data"]["name"] == "n"
    time.sleep(0.2)
    assert len(receiver.requests) == 1


def test_webhook_crud_and_test_call(hooks: SqlBackend, receiver: Receiver) -> None:
    created = [
        hooks.webhooks.create_webhook(f"h{i}", receiver.url, ["model_version.created"])
        for i in range(3)
    ]
    ids: list[str] = []
    token = None
    while True:
        page = hooks.webhooks.list_webhooks(max_results=2, page_token=token)
        ids += [h.webhook_id for h in page]
        token = page.token
        if token is None:
            break
    assert sorted(ids) == sorted(h.webhook_id for h in created)
    first = created[0].webhook_id
    updated = hooks.webhooks.update_webhook(
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
    result = hooks.webhooks.test_webhook(first, None, example_sender(FAST))
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
    assert hooks.webhooks.list_webhook_deliveries(first) == []  # a test call is not logged
    receiver.statuses = [500]
    failed = hooks.webhooks.test_webhook(
        first, WebhookEvent("model_version_tag", "set"), example_sender(FAST)
    )
    assert (failed.success, failed.response_status, failed.error_message) == (
        False,
        500,
        "HTTP 500",
    )
    hooks.webhooks.delete_webhook(first)
    with pytest.raises(NotFound, match="not found"):
        hooks.webhooks.get_webhook(first)
    with pytest.raises(NotFound):
        hooks.webhooks.list_webhook_deliveries(first)
    for kwargs in (
        {"name": "", "url": receiver.url, "events": ["model_version.created"]},
        {"name": "x", "url": receiver.url, "events": []},
        {"name": "x", "url": receiver.url, "events": ["model_version.exploded"]},
        {"name": "x", "url": "ftp://example.com/", "events": ["model_version.created"]},
        {"name": "x", "url": "http://u:p@127.0.0.1/", "events": ["model_version.created"]},
    ):
        with pytest.raises(InvalidArgument):
            hooks.webhooks.create_webhook(**kwargs)  # type: ignore[arg-type]


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
def test_private_destinations_are_refused_by_default(
    url: str, tmp_path: Path, asgi_backend: Callable[[Starlette], RestBackend]
) -> None:
    """A server refuses them when a webhook is created or changed (the store checks only the
    URL's form: where it may send is the sender's policy)."""
    app = create_app(ServerSettings(backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}"))
    server = asgi_backend(app)
    with pytest.raises(InvalidArgument, match="refused unless the server allows"):
        server.webhooks.create_webhook("h", url, ["model_version.created"])
    hook = server.webhooks.create_webhook("h", "http://93.184.216.34/", ["model_version.created"])
    with pytest.raises(InvalidArgument, match="refused unless the server allows"):
        server.webhooks.update_webhook(hook.webhook_id, url=url)
    with pytest.raises(InvalidArgument):
        check_destination(url, allow_private=False)
    assert check_destination(url.replace("/latest/meta-data", "/"), allow_private=True)


def test_destination_is_checked_again_before_each_attempt(
    store: SqlBackend,
    receiver: Receiver,
    dispatch: Callable[[WebhookSettings], WebhookDispatcher],
) -> None:
    hook = store.webhooks.create_webhook("h", receiver.url, ["registered_model.created"])
    dispatch(WebhookSettings(max_attempts=3, backoff_seconds=0.05))  # private ones refused
    store.registry.create_registered_model("m")
    (delivery,) = _settled(store, hook.webhook_id, 1)
    assert (delivery.status, delivery.attempts) == ("FAILED", 1)
    assert "refused" in (delivery.last_error or "")
    assert receiver.requests == []
