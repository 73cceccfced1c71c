"""``mltrail models register|list|describe|set-alias|delete-alias|transition|delete`` and
``mltrail webhooks ...`` against a real SQLite store."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mltrail import MlflowClient
from mltrail.cli import cli


class Cli:
    def __init__(self, uri: str) -> None:
        self.uri = uri

    def __call__(self, *args: str, input: str | None = None, **env: str) -> Result:
        runner = CliRunner(env={"MLTRAIL_TRACKING_URI": self.uri, **env})
        return runner.invoke(cli, list(args), input=input, prog_name="mltrail")

    def ok(self, *args: str, **env: str) -> str:
        result = self(*args, **env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == 0, result.output
        return result.output

    def fails(self, *args: str) -> str:
        result = self(*args)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: "), result.stderr
        assert "Traceback" not in result.output
        return result.stderr


@pytest.fixture
def run(sqlite_uri: str) -> Cli:
    return Cli(sqlite_uri)


@pytest.fixture
def run_id(sqlite_uri: str) -> str:
    client = MlflowClient(sqlite_uri)
    return client.create_run("0").info.run_id


def test_models_commands(run: Cli, run_id: str, sqlite_uri: str) -> None:
    out = run.ok(
        "models",
        "register",
        "-m",
        f"runs:/{run_id}/model",
        "-n",
        "churn",
        "--tag",
        "pre_deploy_checks=PASSED",
        "-d",
        "first",
    )
    assert out.strip() == "Registered version 1 of model 'churn'"
    run.ok("models", "register", "-m", f"runs:/{run_id}/model", "-n", "churn")
    run.ok("models", "register", "-m", "models:/churn/1", "-n", "copy")
    assert "Alias 'champion'" in run.ok(
        "models", "set-alias", "-n", "churn", "-a", "champion", "-v", "1"
    )
    out = run.ok(
        "models",
        "transition",
        "-n",
        "churn",
        "-v",
        "2",
        "-s",
        "production",
        "--archive-existing-versions",
    )
    assert "now in stage Production" in out
    listing = run.ok("models", "list")
    assert listing.splitlines()[0].split() == [
        "Name",
        "Latest",
        "Aliases",
        "Updated",
        "Description",
    ]
    assert "champion=1" in listing
    rows = [json.loads(line) for line in run.ok("models", "list", "--json").splitlines()]
    assert [r["name"] for r in rows] == ["churn", "copy"]
    assert [
        r["name"]
        for r in map(
            json.loads,
            run.ok("models", "list", "--json", "--filter", "name LIKE 'co%'").splitlines(),
        )
    ] == ["copy"]
    described = run.ok("models", "describe", "-n", "churn")
    assert "name: churn" in described
    version_rows = described.split("Version", 1)[1].splitlines()[2:]
    assert [r.split()[0] for r in version_rows] == ["2", "1"]
    one = json.loads(run.ok("models", "describe", "-n", "churn", "-v", "1", "--json"))
    assert one["tags"] == [{"key": "pre_deploy_checks", "value": "PASSED"}]
    assert one["aliases"] == ["champion"]
    run_uri = MlflowClient(sqlite_uri).get_run(run_id).info.artifact_uri
    assert one["download_uri"] == f"{run_uri}/model"
    text = run.ok("models", "describe", "-n", "churn", "-v", "1")
    assert "description: first" in text
    run.ok("models", "delete-alias", "-n", "churn", "-a", "champion")
    assert MlflowClient(sqlite_uri).get_registered_model("churn").aliases == {}
    run.ok("models", "delete", "-n", "churn", "-v", "1")
    assert "aborted" in run("models", "delete", "-n", "churn", input="n\n").output.lower()
    run.ok("models", "delete", "-n", "churn", "--yes")
    assert [m.name for m in MlflowClient(sqlite_uri).search_registered_models()] == ["copy"]


def test_models_errors(run: Cli, run_id: str) -> None:
    assert "not found" in run.fails("models", "describe", "-n", "nope")
    assert "To use a local path as a model version source" in run.fails(
        "models", "register", "-m", "/etc/passwd", "-n", "m"
    )
    assert "'..'" in run.fails(
        "models", "register", "-m", f"runs:/{run_id}/../x", "-n", "m"
    ) or "segments" in run.fails("models", "register", "-m", f"runs:/{run_id}/../x", "-n", "m")
    run.ok("models", "register", "-m", f"runs:/{run_id}/model", "-n", "m")
    assert "Invalid Model Version stage" in run.fails(
        "models", "transition", "-n", "m", "-v", "1", "-s", "Shipped"
    )
    assert "reserved" in run.fails("models", "set-alias", "-n", "m", "-a", "latest", "-v", "1")
    result = run("models", "register", "-m", "x", "-n", "m", "--tag", "novalue")
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.output


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[str]]]:
    bodies: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
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
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", bodies
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_webhooks_commands(
    run: Cli, run_id: str, receiver: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, bodies = receiver
    # the library (no server) allows loopback destinations only when told to
    monkeypatch.setenv("MLTRAIL_WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS", "true")
    out = run.ok(
        "webhooks",
        "create",
        "-n",
        "h",
        "--url",
        url,
        "--event",
        "model_version.created",
        "--secret",
        "s",
    )
    hook_id = out.strip().rsplit(" ", 1)[1]
    assert hook_id in run.ok("webhooks", "list")
    run.ok("models", "register", "-m", f"runs:/{run_id}/model", "-n", "m")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = [
            json.loads(line)
            for line in run.ok("webhooks", "deliveries", "--id", hook_id, "--json").splitlines()
        ]
        if rows and rows[0]["status"] != "PENDING":
            break
        time.sleep(0.05)
    assert [(r["event"], r["status"], r["attempts"]) for r in rows] == [
        ("model_version.created", "SUCCEEDED", 1)
    ]
    table = run.ok("webhooks", "deliveries", "--id", hook_id)
    assert "SUCCEEDED" in table
    assert json.loads(bodies[0])["data"]["name"] == "m"
    assert "Delivered: HTTP 200" in run.ok("webhooks", "test", "--id", hook_id)
    assert "DISABLED" in run.ok("webhooks", "update", "--id", hook_id, "--status", "disabled")
    run.ok("webhooks", "delete", "--id", hook_id)
    assert "not found" in run.fails("webhooks", "delete", "--id", hook_id)


def test_webhooks_to_private_addresses_are_refused_by_default(run: Cli) -> None:
    for url in ("http://127.0.0.1:9/", "http://169.254.169.254/", "http://10.0.0.1/"):
        err = run.fails(
            "webhooks", "create", "-n", "h", "--url", url, "--event", "model_version.created"
        )
        assert "refused unless the server allows" in err
