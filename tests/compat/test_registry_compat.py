"""The official ``mlflow`` client against an mltrail server: the whole registry flow.

A real uvicorn server on 127.0.0.1 runs ``create_app``; MLflow's client registers a model
from a run, tags it, gives it an alias and a stage, searches, loads it back through
``mlflow.pyfunc.load_model`` by version, alias and stage, and manages a webhook whose
signed delivery a real local receiver checks.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests._live_server import ThreadedServer

from mltrail.registry.webhooks import verify_signature
from mltrail.server import ServerSettings, create_app

mlflow = pytest.importorskip("mlflow")

pytestmark = [
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture
def server(tmp_path: Path, serve: Callable[..., ThreadedServer]) -> Iterator[tuple[str, Any]]:
    """The server runs its lifespan, which starts the dispatcher sending its webhooks."""
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
        artifacts_destination=str(tmp_path / "server-artifacts"),
        webhooks_allow_private_destinations=True,
    )
    app = create_app(settings)
    url = serve(app).url
    mlflow.set_tracking_uri(url)
    try:
        yield url, app.state.context.backend
    finally:
        mlflow.set_tracking_uri(None)


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], str]]]]:
    received: list[tuple[dict[str, str], str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            received.append((dict(self.headers.items()), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/hook", received
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_mlflow_client_registry_flow(
    server: tuple[str, Any],
    receiver: tuple[str, list[tuple[dict[str, str], str]]],
    tmp_path: Path,
) -> None:
    import mlflow.pyfunc
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities.webhook import WebhookEvent
    from mlflow.exceptions import MlflowException

    class AddOne(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return [x + 1 for x in model_input["x"]]

    hook_url, received = receiver
    client = MlflowClient()
    hook = client.create_webhook(
        name="on-new-version",
        url=hook_url,
        events=[WebhookEvent.from_str("model_version.created")],
        secret="shared",
    )
    assert [w.webhook_id for w in client.list_webhooks()] == [hook.webhook_id]

    model_dir = tmp_path / "model"
    mlflow.pyfunc.save_model(str(model_dir), python_model=AddOne())
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(model_dir), "model")
    run_id = run.info.run_id

    mv = mlflow.register_model(f"runs:/{run_id}/model", "MyModel")
    assert (mv.name, str(mv.version), mv.status, mv.run_id) == ("MyModel", "1", "READY", run_id)
    assert str(mlflow.register_model(f"runs:/{run_id}/model", "MyModel").version) == "2"

    client.set_model_version_tag("MyModel", "1", "pre_deploy_checks", "PASSED")
    client.set_registered_model_tag("MyModel", "team", "risk")
    client.update_registered_model("MyModel", description="predicts x + 1")
    client.set_registered_model_alias("MyModel", "champion", "1")
    client.transition_model_version_stage("MyModel", "2", "Staging")
    client.transition_model_version_stage("MyModel", "1", "Production")

    model = client.get_registered_model("MyModel")
    assert model.description == "predicts x + 1"
    assert model.tags == {"team": "risk"}
    assert model.aliases == {"champion": "1"}
    assert client.get_model_version_by_alias("MyModel", "champion").tags == {
        "pre_deploy_checks": "PASSED"
    }
    assert [m.name for m in client.search_registered_models()] == ["MyModel"]
    assert [m.name for m in client.search_registered_models("name LIKE 'My%'")] == ["MyModel"]
    found = client.search_model_versions(f"run_id = '{run_id}'")
    assert sorted(str(v.version) for v in found) == ["1", "2"]
    tagged = client.search_model_versions("name = 'MyModel' AND tags.pre_deploy_checks = 'PASSED'")
    assert [str(v.version) for v in tagged] == ["1"]
    latest = client.get_latest_versions("MyModel", stages=["Production"])
    assert [str(v.version) for v in latest] == ["1"]

    frame = pd.DataFrame({"x": [1, 2]})
    for uri in (
        "models:/MyModel/1",
        "models:/MyModel@champion",
        "models:/MyModel/Production",
        "models:/MyModel/latest",
    ):
        assert list(mlflow.pyfunc.load_model(uri).predict(frame)) == [2, 3], uri

    client.delete_registered_model_alias("MyModel", "champion")
    with pytest.raises(MlflowException) as info:
        client.get_model_version_by_alias("MyModel", "champion")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as info:
        client.create_model_version("MyModel", "/etc/passwd", run_id=run_id)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as info:
        client.create_registered_model("My%4Dodel")
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"
    client.rename_registered_model("MyModel", "Renamed")
    assert str(client.get_model_version("Renamed", "2").current_stage) == "Staging"
    client.delete_model_version("Renamed", "2")
    client.delete_registered_model("Renamed")
    assert client.search_registered_models() == []

    # the webhook saw both versions, signed
    deadline = time.monotonic() + 10
    while len(received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(received) == 2
    for headers, body in received:
        assert verify_signature(
            "shared",
            headers["X-MLflow-Delivery-Id"],
            headers["X-MLflow-Timestamp"],
            body,
            headers["X-MLflow-Signature"],
        )
    assert sorted(json.loads(b)["data"]["version"] for _, b in received) == ["1", "2"]
    result = client.test_webhook(hook.webhook_id)
    assert result.success
    client.delete_webhook(hook.webhook_id)
    assert list(client.list_webhooks()) == []
