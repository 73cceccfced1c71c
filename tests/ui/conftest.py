"""Fixtures of the browser tests: a real ``mltrail server`` on a temp SQLite store filled
through the Python API (started once per session), Debian's Chromium driven by Playwright, and
a fresh page per test that fails the test on any uncaught error in the page.

Chromium (``/usr/bin/chromium``), Playwright for Python and the built UI are required under
``CI=true`` (a missing one fails the test); locally a missing one skips with the reason.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests._live_server import find_free_port, start_process
from tests.ui._browser import (
    CHROMIUM,
    STATIC_INDEX,
    Server,
    missing,
    open_page,
    seed,
    server_command,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not STATIC_INDEX.is_file():
        missing("the UI is not built: run `npm ci && npm run build` in ui/")
    if not os.environ.get("MLTRAIL_UI_TEST_SERVER_CMD"):
        probe = subprocess.run(
            [*server_command(), "--help"], capture_output=True, text=True, timeout=60
        )
        if probe.returncode != 0:
            missing(f"`mltrail server --help` failed: {probe.stderr.strip()[-500:]}")
    tmp = tmp_path_factory.mktemp("ui-server")
    uri = f"sqlite:///{tmp / 'store.db'}"
    data = seed(uri, tmp / "artifacts", tmp)
    port = find_free_port()
    command = [
        *server_command(),
        "--backend-store-uri",
        uri,
        "--default-artifact-root",
        str(tmp / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    try:
        process = start_process(command, f"http://127.0.0.1:{port}", cwd=tmp, timeout=60)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield Server(url=process.url, data=data)
    finally:
        process.stop()


# Per module: Playwright's sync API keeps an event loop running in this thread while it is on,
# which other tests' asyncio.run() refuses.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install playwright)")
    if not Path(CHROMIUM).is_file():
        missing(f"Chromium is not at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    with open_page(browser, server.url) as pg:
        yield pg
