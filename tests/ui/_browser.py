"""What the browser tests share: the data seeded into the store, the server handle, helpers.

Fixtures (``server``, ``browser``, ``page``) are in ``conftest.py`` beside this file; the server
and the browser are started once for all the UI test modules.
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from tests._live_server import (
    ServerProcess,
    clean_env,
    find_free_port,
    mltrail_command,
    start_process,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

IN_CI = os.environ.get("CI", "").lower() == "true"
REPO = Path(__file__).resolve().parents[2]
STATIC_INDEX = REPO / "src" / "mltrail" / "server" / "static" / "index.html"
SCREENSHOTS = REPO / "test-artifacts" / "ui"
CHROMIUM = os.environ.get("MLTRAIL_TEST_CHROMIUM", "/usr/bin/chromium")


@contextlib.contextmanager
def open_page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A page in a fresh browser context on *base_url* (1400x900, downloads accepted); on
    exit, fails the test if the page raised an uncaught error."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, base_url=base_url, accept_downloads=True
    )
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(15000)
    try:
        yield pg
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def missing(what: str) -> None:
    """Skip (locally) or fail (under CI) when something the browser tests need is missing."""
    if IN_CI:
        pytest.fail(f"{what} (CI=true: the browser tests are required)")
    pytest.skip(what)


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def _png(width: int = 48, height: int = 32) -> bytes:
    """A small gradient PNG made by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return len(data).to_bytes(4, "big") + kind + data + crc.to_bytes(4, "big")

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 5 % 256, y * 8 % 256, 180)) for x in range(width))
        for y in range(height)
    )
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes((8, 2, 0, 0, 0))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


_MLMODEL = """artifact_path: model
flavors:
  python_function:
    loader_module: mltrail.sklearn
    python_version: 3.11.7
  sklearn:
    sklearn_version: 1.5.0
run_id: r
signature:
  inputs: '[{"type": "double", "name": "sepal_length", "required": true}, {"type": "long",
    "name": "petals", "required": false}]'
  outputs: '[{"type": "long", "required": true}]'
utc_time_created: '2026-01-01 00:00:00.000000'
"""
_MODEL_HISTORY = (
    '[{"artifact_path": "model", "flavors": {"python_function": {}, "sklearn": {}},'
    ' "utc_time_created": "2026-01-01 00:00:00.000000"}]'
)


@dataclass
class Seeded:
    """What the store holds: ids to navigate to and values to check the pages against."""

    experiment_id: str
    empty_experiment_id: str
    runs: dict[str, str] = field(default_factory=dict)  # run name -> run id
    acc: dict[str, float] = field(default_factory=dict)  # run name -> latest acc
    optimizer: dict[str, str] = field(default_factory=dict)
    parent: str = ""
    long_run: str = ""


def seed(uri: str, artifacts: Path, workdir: Path) -> Seeded:
    import pandas as pd

    import mltrail as mlflow
    import mltrail.data

    mlflow.set_tracking_uri(uri)
    exp_id = mlflow.create_experiment("vision-sweep", artifact_location=str(artifacts / "vision"))
    empty_id = mlflow.create_experiment("empty-one", artifact_location=str(artifacts / "empty"))
    mlflow.set_experiment(experiment_id=exp_id)
    seeded = Seeded(experiment_id=exp_id, empty_experiment_id=empty_id)
    optimizers = ["adam", "sgd", "adam", "rmsprop", "sgd", "adam", "sgd", "adam"]
    for i, opt in enumerate(optimizers):
        name = f"trial-{i}"
        with mlflow.start_run(run_name=name) as run:
            mlflow.log_params({"optimizer": opt, "lr": [0.1, 0.01, 0.001][i % 3], "depth": i})
            mlflow.set_tag("team", "vision" if i % 2 else "nlp")
            acc = 0.0
            for step in range(120):
                acc = round(0.5 + 0.4 * (1 - math.exp(-step / (10 + 7 * i))) + 0.001 * i, 6)
                # One step every 2 s from the run's start, so wall and relative time axes spread.
                at = run.info.start_time + 2000 * step
                mlflow.log_metrics({"acc": acc, "loss": 1 - acc}, step=step, timestamp=at)
            seeded.runs[name] = run.info.run_id
            seeded.acc[name] = acc
            seeded.optimizer[name] = opt
            if i == 0:
                seeded.parent = run.info.run_id
                (workdir / "predictions.csv").write_text(
                    'id,label,score\n1,cat,0.91\n2,dog,0.45\n3,"bird, small",0.77\n'
                )
                (workdir / "confusion.png").write_bytes(_png())
                mlflow.log_artifact(str(workdir / "predictions.csv"))
                mlflow.log_artifact(str(workdir / "confusion.png"), "plots")
                mlflow.log_text("epoch 1 loss 0.5\nepoch 2 loss 0.3\n", "logs/train.log")
                mlflow.log_dict({"lr": 0.1, "layers": [64, 32]}, "config.json")
                mlflow.log_text("<h1>Report</h1><script>parent.pwned = 1</script>", "report.html")
                mlflow.log_text("lr: 0.1\nlayers:\n  - 64\n  - 32\n", "config.yaml")
                mlflow.log_text('{"truncated": [1, 2', "broken.json")
                mlflow.log_text(_MLMODEL, "model/MLmodel")
                mlflow.log_text("scikit-learn==1.5.0\n", "model/requirements.txt")
                mlflow.set_tag("mlflow.log-model.history", _MODEL_HISTORY)
                mlflow.set_tag("mlflow.note.content", "# Baseline\nThe **first** trial.")
                mlflow.log_input(
                    mlflow.data.from_pandas(
                        pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}), name="digits-train"
                    ),
                    context="training",
                )
                for step in range(5):
                    mlflow.log_metric("system/cpu_utilization_percentage", 20.0 + step, step=step)
                for j in range(2):
                    with mlflow.start_run(run_name=f"fold-{j}", nested=True):
                        mlflow.log_metric("acc", 0.7 + j / 10)
    with mlflow.start_run(run_name="long-history") as run:
        from mltrail.entities import Metric

        now = int(time.time() * 1000)
        client = mlflow.MlflowClient()
        batch: list[Any] = []
        for step in range(30000):
            batch.append(Metric("wave", math.sin(step / 700), now + step, step))
            if len(batch) == 1000:
                client.log_batch(run.info.run_id, metrics=batch)
                batch = []
        seeded.long_run = run.info.run_id
    mlflow.set_tracking_uri(None)
    return seeded


@dataclass
class Server:
    url: str
    data: Seeded

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.url}/ajax-api/2.0/mlflow/{path}", timeout=30, **kwargs)


@contextlib.contextmanager
def mlflow_against_server(tmp: Path, *, infer_requirements: bool = False) -> Iterator[str]:
    """A live ``mltrail server`` (cwd *tmp*, the built UI) with the official ``mlflow``
    client's tracking URI pointed at it; yields the server's URL.  Afterwards every mlflow run
    is ended, mlflow's fluent state reset and the server stopped.  Unless *infer_requirements*,
    mlflow's ``log_model`` writes its flavor's default requirements instead of probing the model
    in a new interpreter (seconds a model; the pages show models, not their requirements)."""
    if not STATIC_INDEX.is_file():
        missing("the UI is not built: run `npm ci && npm run build` in ui/")
    port = find_free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        server: ServerProcess = start_process(
            mltrail_command("server", "--host", "127.0.0.1", "--port", str(port)),
            url,
            cwd=tmp,
            env=clean_env(),
            timeout=60,
        )
    except RuntimeError as exc:
        pytest.fail(str(exc))
    import mlflow
    import mlflow.models
    import mlflow.tracking._tracking_service.utils as tracking_utils
    import mlflow.tracking.fluent as fluent

    with pytest.MonkeyPatch.context() as mp:
        if not infer_requirements:
            mp.setattr(
                mlflow.models,
                "infer_pip_requirements",
                lambda model_uri, flavor, fallback=None, **_: list(fallback or []),
            )
        try:
            mlflow.set_tracking_uri(url)
            yield url
        finally:
            while mlflow.active_run() is not None:
                mlflow.end_run()
            fluent._active_experiment_id = None
            tracking_utils._tracking_uri = None
            server.stop()


def server_command() -> list[str]:
    custom = os.environ.get("MLTRAIL_UI_TEST_SERVER_CMD")
    if custom:
        return shlex.split(custom)
    return mltrail_command("server")


def canvas_ink(page: Page, selector: str) -> int:
    """How many pixels of the chart's canvas are drawn (not transparent)."""
    script = """(sel) => {
        const c = document.querySelector(sel + ' canvas');
        if (!c) return -1;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
    }"""
    result: int = page.evaluate(script, selector)
    return result


ROWS = "[role=grid] [role=row][data-run-id]"


def row_names(page: Page) -> list[str]:
    names: list[str] = page.eval_on_selector_all(
        ROWS, "rows => rows.map(r => r.querySelector('a').textContent)"
    )
    return names


def wait_rows(page: Page, count: int) -> None:
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length === n", arg=[ROWS, count]
    )
