"""``mltrail.doctor()`` and ``mltrail doctor``: MLflow's debugging report for mltrail, with the
environment's values and the URIs' passwords hidden on request."""

from __future__ import annotations

import platform

import pytest
from click.testing import CliRunner

import mltrail
from mltrail.cli import cli


def test_the_report_names_versions_uris_the_active_run_and_dependencies(
    sqlite_uri: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "doctor-exp")
    mltrail.set_tracking_uri(sqlite_uri)
    with mltrail.start_run() as run:
        mltrail.doctor()
    lines = capsys.readouterr().out.splitlines()
    assert f"Python version: {platform.python_version()}" in lines
    assert f"mltrail version: {mltrail.__version__}" in lines
    assert f"Tracking URI: {sqlite_uri}" in lines
    assert f"Active run ID: {run.info.run_id}" in lines
    assert f"Active experiment ID: {run.info.experiment_id}" in lines
    assert "  MLFLOW_EXPERIMENT_NAME: doctor-exp" in lines
    deps = lines[lines.index("mltrail dependencies:") + 1 :]
    assert any(line.startswith("  sqlalchemy: ") for line in deps)
    assert not any(line.startswith(("  pytest:", "  mypy:")) for line in deps)  # dev tools


def test_masking_hides_values_and_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_TRACKING_PASSWORD", "hunter2-secret")
    mltrail.set_tracking_uri("http://alice:s3cret-pw@127.0.0.1:9/")
    try:
        shown = CliRunner().invoke(cli, ["doctor"]).output
        masked = CliRunner().invoke(cli, ["doctor", "--mask-envs"]).output
    finally:
        mltrail.set_tracking_uri(None)  # type: ignore[arg-type]
    assert "hunter2-secret" in shown
    assert "s3cret-pw" in shown
    assert "hunter2-secret" not in masked
    assert "s3cret-pw" not in masked
    assert "  MLTRAIL_TRACKING_PASSWORD: ***" in masked.splitlines()
    assert "Tracking URI: http://127.0.0.1:9/" in masked.splitlines()
