"""Fixtures of the CLI tests: a real SQLite tracking store and a runner pointed at it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mltrail import MlflowClient
from mltrail.cli import cli


class Cli:
    """Runs ``mltrail *args`` in-process, with MLTRAIL_TRACKING_URI set to the test store."""

    def __init__(self, uri: str) -> None:
        self.uri = uri

    def __call__(
        self, *args: str, input: str | None = None, env: dict[str, str | None] | None = None
    ) -> Result:
        runner = CliRunner(env={"MLTRAIL_TRACKING_URI": self.uri, **(env or {})})
        return runner.invoke(cli, list(args), input=input, prog_name="mltrail")

    def ok(self, *args: str, env: dict[str, str | None] | None = None) -> Result:
        """Run a command that must succeed."""
        result = self(*args, env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == 0, result.output
        return result

    def fails(self, *args: str, code: int = 1, env: dict[str, str | None] | None = None) -> Result:
        """Run a command that must fail with *code*, an error message and no traceback."""
        result = self(*args, env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, result.output
        assert result.stderr.startswith("Error: ") or "\nError: " in result.stderr, result.stderr
        assert "Traceback" not in result.output
        return result


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def client(uri: str) -> MlflowClient:
    """A library client of the same store, to set up and check the database state."""
    return MlflowClient(uri)


@pytest.fixture
def mltrail(uri: str) -> Cli:
    return Cli(uri)
