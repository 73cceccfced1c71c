"""Hatchling build hook: build the web UI (``ui/``) into ``src/mltrail/server/static/``.

Runs for wheels, editable installs and sdists.  The build output is not committed (it is
git-ignored), so the hook adds it to the package as a build artifact.

- ``MLTRAIL_SKIP_UI_BUILD=1`` skips the UI build (the package then serves a "UI not built" page).
- An up-to-date build (newer than every UI source file) is reused, so repeated editable installs
  cost nothing.
- Without node/npm: an editable install goes on without the UI, with a note; a wheel built from
  an sdist that already holds a built UI uses it; otherwise the build fails, saying what to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

STATIC = Path("src") / "mltrail" / "server" / "static"
UI_INPUTS = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json")


def _note(message: str) -> None:
    print(f"mltrail UI build: {message}", file=sys.stderr, flush=True)


def _newest_input(ui: Path) -> float:
    newest = 0.0
    for name in UI_INPUTS:
        path = ui / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for file in path.rglob("*"):
                if file.is_file():
                    newest = max(newest, file.stat().st_mtime)
    return newest


class UIBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        ui = root / "ui"
        static = root / STATIC
        index = static / "index.html"
        build_data.setdefault("artifacts", []).append(f"/{STATIC.as_posix()}/")

        if os.environ.get("MLTRAIL_SKIP_UI_BUILD") == "1":
            _note("skipped (MLTRAIL_SKIP_UI_BUILD=1); the server will say the UI is not built")
            return
        if not (ui / "package.json").is_file():
            # A wheel built from an sdist: the sdist carries the built UI.
            if not index.is_file():
                _note("no ui/ sources and no built UI: the package will have no web UI")
            return
        if index.is_file() and index.stat().st_mtime >= _newest_input(ui):
            _note(f"up to date ({STATIC.as_posix()})")
            return

        npm = shutil.which("npm")
        if npm is None:
            if version == "editable" or self.target_name == "sdist":
                _note("node/npm not found: skipped; install Node.js 20+ and reinstall for the UI")
                return
            if index.is_file():
                _note("node/npm not found: using the existing (older) build")
                return
            raise RuntimeError(
                "Building the mltrail web UI needs Node.js 20+ with npm (or set "
                "MLTRAIL_SKIP_UI_BUILD=1 to build a package without the UI)"
            )

        env = {**os.environ, "npm_config_fund": "false", "npm_config_audit": "false"}
        lock = ui / "package-lock.json"
        installed = ui / "node_modules" / ".package-lock.json"
        if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
            _note("npm ci")
            subprocess.run([npm, "ci", "--no-fund", "--no-audit"], cwd=ui, env=env, check=True)
        # The bundle only: TypeScript's type check is a test (scripts/test runs it), not a step
        # a package build needs; `npm run build` does both for a developer.
        _note("npm run bundle")
        subprocess.run([npm, "run", "bundle"], cwd=ui, env=env, check=True)
        if not index.is_file():
            raise RuntimeError(f"the UI build did not produce {STATIC.as_posix()}/index.html")
