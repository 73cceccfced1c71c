"""The root command: help everywhere, a light import, the tracking URI, error handling."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mltrail import MlflowClient
from mltrail.cli import cli

COMMANDS = [
    ("experiments", "create"),
    ("experiments", "search"),
    ("experiments", "delete"),
    ("experiments", "restore"),
    ("experiments", "rename"),
    ("experiments", "get"),
    ("experiments", "csv"),
    ("runs", "create"),
    ("runs", "list"),
    ("runs", "describe"),
    ("run",),
    ("runs", "delete"),
    ("runs", "restore"),
    ("artifacts", "list"),
    ("artifacts", "download"),
    ("artifacts", "log-artifact"),
    ("db", "upgrade"),
    ("auth", "create-user"),
    ("auth", "list-users"),
    ("auth", "update-password"),
    ("auth", "set-admin"),
    ("auth", "delete-user"),
    ("auth", "grant"),
    ("auth", "revoke"),
    ("auth", "permissions"),
    ("auth", "create-token"),
    ("auth", "list-tokens"),
    ("auth", "revoke-token"),
    ("auth", "audit"),
    ("gc",),
    ("import", "mlflow"),
    ("import", "mltrail"),
    ("import", "tensorboard"),
    ("models", "register"),
    ("models", "list"),
    ("models", "describe"),
    ("models", "set-alias"),
    ("models", "delete-alias"),
    ("models", "transition"),
    ("models", "delete"),
    ("models", "serve"),
    ("models", "predict"),
    ("models", "generate-dockerfile"),
    ("models", "prepare-env"),
    ("models", "update-pip-requirements"),
    ("models", "build-docker"),
    ("webhooks", "create"),
    ("webhooks", "list"),
    ("webhooks", "deliveries"),
    ("webhooks", "test"),
    ("webhooks", "update"),
    ("webhooks", "delete"),
]
# The server takes --backend-store-uri (MLflow's name for it), not --tracking-uri.
SERVER_COMMANDS = [("server",), ("ui",)]
# `doctor` reports the tracking URI the environment sets (MLflow's takes no URI either).
REPORT_COMMANDS = [("doctor",)]

HEAVY = ("sqlalchemy", "alembic", "pandas", "numpy", "mltrail.store.sql", "mltrail.importers")


def _leaf_commands(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(command, click.Group):
        return [
            leaf
            for name, sub in command.commands.items()
            for leaf in _leaf_commands(sub, (*path, name))
        ]
    return [path]


def test_the_commands_are_the_expected_ones() -> None:
    assert sorted(_leaf_commands(cli)) == sorted(COMMANDS + SERVER_COMMANDS + REPORT_COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help_and_a_tracking_uri_option(path: tuple[str, ...]) -> None:
    # `models serve -h HOST` is MLflow's spelling: there only --help shows the help.
    for flag in ("--help",) if path == ("models", "serve") else ("--help", "-h"):
        result = CliRunner().invoke(cli, [*path, flag], prog_name="mltrail")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"Usage: mltrail {' '.join(path)} ")
        assert "--tracking-uri URI" in result.stdout
        # (wrapped where the option column is wide)
        assert "MLTRAIL_TRACKING_URI, MLFLOW_TRACKING_URI" in " ".join(result.stdout.split())


def test_every_option_is_explained() -> None:
    def walk(command: click.Command, path: str) -> None:
        assert command.help, f"{path} has no help text"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{path} {param.opts} has no help text"
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")

    walk(cli, "mltrail")


def test_help_imports_nothing_heavy() -> None:
    """``mltrail --help`` (and each command's) loads no SQLAlchemy, pandas or SQL store."""
    paths = [[], ["experiments"], *([*p] for p in COMMANDS + SERVER_COMMANDS)]
    probe = f"""
import json, sys
from click.testing import CliRunner
from mltrail.cli import cli
for path in {paths!r}:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
print(json.dumps(sorted(sys.modules)))
"""
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    heavy = sorted(m for m in loaded if m in HEAVY or m.split(".")[0] in HEAVY)
    assert heavy == []
    assert "mltrail.cli._gc" in loaded  # the probe did load the commands


def test_installed_entry_point_runs(tmp_path: Path) -> None:
    exe = shutil.which("mltrail") or str(Path(sys.executable).parent / "mltrail")
    assert os.path.exists(exe), "the mltrail console script is not installed"
    result = subprocess.run(
        [exe, "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: mltrail [OPTIONS] COMMAND [ARGS]...")
    for group in ("experiments", "runs", "artifacts", "db", "gc"):
        assert f"\n  {group} " in result.stdout
    assert list(tmp_path.iterdir()) == []  # --help creates no database
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert "0.1.0" in version.stdout


def test_the_tracking_uri_option_wins_over_the_environment(tmp_path: Path) -> None:
    opt, env_a, env_b = (f"sqlite:///{tmp_path / n}.db" for n in ("opt", "a", "b"))
    runner = CliRunner(env={"MLTRAIL_TRACKING_URI": env_a, "MLFLOW_TRACKING_URI": env_b})
    create = ["experiments", "create", "-n"]
    assert runner.invoke(cli, [*create, "x", "--tracking-uri", opt]).exit_code == 0
    assert runner.invoke(cli, [*create, "y"]).exit_code == 0
    mlflow_only = CliRunner(env={"MLTRAIL_TRACKING_URI": None, "MLFLOW_TRACKING_URI": env_b})
    assert mlflow_only.invoke(cli, [*create, "z"]).exit_code == 0

    def names(uri: str) -> set[str]:
        return {e.name for e in MlflowClient(uri).search_experiments()} - {"Default"}

    assert names(opt) == {"x"}
    assert names(env_a) == {"y"}
    assert names(env_b) == {"z"}


def test_the_default_tracking_uri_is_the_librarys(tmp_path: Path) -> None:
    # The test runs in tmp_path with no tracking variables set (tests/conftest.py).
    result = CliRunner().invoke(cli, ["experiments", "create", "-n", "here"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mltrail.db").exists()
    exp = MlflowClient(f"sqlite:///{tmp_path / 'mltrail.db'}").get_experiment_by_name("here")
    assert exp is not None


def test_a_folder_as_tracking_uri(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["experiments", "create", "-n", "f", "--tracking-uri", str(tmp_path / "mlruns")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mlruns" / "mltrail.db").exists()


def test_errors_are_one_line_on_stderr_without_a_traceback(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["experiments", "search", "--tracking-uri", "nosuchscheme://host/db"]
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: Unsupported tracking URI scheme 'nosuchscheme'")
    assert result.stderr.count("\n") == 1


def test_an_unreachable_database_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    uri = f"sqlite:///{blocker}/sub/x.db"  # its folder cannot be created
    result = CliRunner().invoke(cli, ["experiments", "search", "--tracking-uri", uri])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.output


def test_a_closed_postgres_port_is_an_error_not_a_traceback() -> None:
    uri = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"
    result = CliRunner().invoke(cli, ["experiments", "search", "--tracking-uri", uri])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: Cannot use the tracking database: ")
    assert "SELECT" not in result.stderr  # no SQL text in errors
