"""Every option of an MLflow CLI command that mltrail has exists on mltrail's command too.

Both command trees are read with click (mlflow is a test dependency); an MLflow option that
mltrail's command lacks fails the test unless it is listed below with its reason:
``EXCLUDED`` for deliberate exclusions (GenAI, Databricks, servers mltrail does not embed),
``NOT_YET`` for classic options not built yet.  An option listed that mltrail has fails the
test too (take it out of the list).
"""

from __future__ import annotations

from typing import Any

import click
import pytest

from mltrail.cli import cli as mltrail_cli

mlflow_cli = pytest.importorskip("mlflow.cli").cli

#: {command path: {option: reason}}: MLflow's options mltrail leaves out on purpose.
EXCLUDED: dict[str, dict[str, str]] = {
    "experiments create": {"--trace-archival-retention": "GenAI tracing"},
    "server": {
        "--trace-archival-config": "GenAI tracing",
        "--secrets-cache-max-size": "the AI gateway's secrets",
        "--secrets-cache-ttl": "the AI gateway's secrets",
        "--gunicorn-opts": "mltrail's server is uvicorn's workers, not gunicorn",
        "--waitress-opts": "mltrail's server is uvicorn's workers, not waitress",
        "--uvicorn-opts": "mltrail runs uvicorn itself: --workers, --log-level, --access-log",
        "--dev": "Flask's debug server (mltrail has no Flask app)",
    },
    "gc": {
        "--jobs": "MLflow's job queue (GenAI scorers)",
        "--job-ids": "MLflow's job queue (GenAI scorers)",
    },
}

#: {command path: {option: reason}}: classic options mltrail does not take yet.
NOT_YET: dict[str, dict[str, str]] = {
    "server": {
        "--artifacts-only": "a server that proxies artifacts only",
        "--static-prefix": "serving the UI and API under a path prefix",
        "--expose-prometheus": "Prometheus metrics of the tracking server",
        "--registry-store-uri": "a registry in another database than tracking",
        "--read-replica-backend-store-uri": "reads from a database replica",
        "--disable-security-middleware": "turning the host and CORS checks off",
        "--workspace-store-uri": "workspaces kept in another database than tracking",
    },
    "gc": {
        "--workspace": "workspaces",
        "--all-workspaces": "workspaces",
    },
}


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.update(_commands(command, (*path, name)))
        else:
            found[" ".join((*path, name))] = command
    return found


def _options(command: click.Command) -> set[str]:
    return {
        name
        for param in command.params
        if isinstance(param, click.Option)
        for name in (*param.opts, *param.secondary_opts)
    }


def _listed(table: dict[str, dict[str, str]], command: str) -> set[str]:
    return set(table.get(command, {}))


def test_mltrails_commands_take_mlflows_options() -> None:
    ours, theirs = _commands(mltrail_cli), _commands(mlflow_cli)
    shared = sorted(set(ours) & set(theirs))
    assert "models predict" in shared
    assert "server" in shared
    missing: dict[str, Any] = {}
    stale: dict[str, Any] = {}
    for command in shared:
        lacking = _options(theirs[command]) - _options(ours[command])
        listed = _listed(EXCLUDED, command) | _listed(NOT_YET, command)
        if lacking - listed:
            missing[command] = sorted(lacking - listed)
        if listed - lacking:
            stale[command] = sorted(listed - lacking)
    assert missing == {}, "MLflow options mltrail lacks (add them, or list them with a reason)"
    assert stale == {}, "listed as missing but mltrail has them: take them out of the lists"


def test_the_lists_name_real_commands() -> None:
    ours, theirs = _commands(mltrail_cli), _commands(mlflow_cli)
    for command in {*EXCLUDED, *NOT_YET}:
        assert command in ours
        assert command in theirs
