"""``mltrail import tensorboard LOGDIR`` end to end, on SQLite, PostgreSQL and MariaDB: every
scalar point as TensorBoard's reader gives it, hparams as params; a repeated import writes
nothing, and one after a run folder grew writes that run only."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.importers._tb_logs import (
    RUNS,
    STEPS,
    same,
    tensorboard_reads,
    write_logdir,
    write_tensorboardx,
)

from mltrail.cli import cli
from mltrail.entities import ViewType
from mltrail.importers import ImportOptions, run_import
from mltrail.importers._tensorboard import LOGDIR_TAG, RUN_TAG, TensorBoardSource, run_id_for
from mltrail.store import open_backend


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_logdir(tmp_path_factory.mktemp("tb") / "mnist")


def _import(logdir: Path, uri: str, artifacts: Path, *more: str) -> Result:
    args = ["import", "tensorboard", str(logdir), "--tracking-uri", uri]
    args += ["--artifact-root", str(artifacts), "--quiet", *more]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def _count_line(output: str, label: str) -> list[str]:
    (line,) = [line for line in output.splitlines() if line.strip().startswith(label)]
    return line.split()


def test_import_twice_values_point_by_point(logdir: Path, db_uri: str, tmp_path: Path) -> None:
    first = _import(logdir, db_uri, tmp_path / "artifacts")
    assert first.exit_code == 0, first.output
    assert "The destination holds everything the source holds." in first.output
    assert "Wrote: 1 experiments, 4 runs (0 unchanged)" in first.output

    with open_backend(db_uri) as backend:
        experiment = backend.experiments.get_experiment_by_name("mnist")
        assert experiment is not None
        assert experiment.tags[LOGDIR_TAG] == str(logdir)
        runs = backend.runs.search_runs(
            [experiment.experiment_id], run_view_type=ViewType.ALL, max_results=100
        )
        assert {r.info.run_name for r in runs} == RUNS
        for run in runs:
            name = run.info.run_name
            assert run.info.run_id == run_id_for("mnist", name)
            assert run.info.status == "FINISHED"
            assert run.data.tags[RUN_TAG] == name
            expected = tensorboard_reads(logdir / name)
            keys = {t: t.replace("(", "_").replace(")", "_").replace("@", "_") for t in expected}
            assert set(run.data.metrics) == set(keys.values()), name
            for tag, points in expected.items():
                history = backend.metrics.get_metric_history(run.info.run_id, keys[tag])
                assert len(history) == len(points), (name, tag)
                got = sorted((m.step, m.timestamp) for m in history)
                assert got == sorted((step, int(wall * 1000)) for wall, step, _ in points)
                by_point = {(m.step, m.timestamp): m.value for m in history}
                for wall, step, value in points:
                    assert same(by_point[(step, int(wall * 1000))], value), (name, tag, step)
        by_name = {r.info.run_name: r for r in runs}
        assert by_name["a/lr_0.1"].data.params == {
            "lr": "0.1",
            "batch_size": "32",
            "optimizer": "adam",
            "shuffle": "True",
        }
        assert by_name["b/deep/run1"].data.params == {
            "depth": "12",
            "dropout": "0.25",
            "act": "gelu",
        }
        nan_points = backend.metrics.get_metric_history(by_name["a/lr_0.01"].info.run_id, "loss")
        assert [m.value for m in nan_points if m.step in (8, 9)] == [math.inf, -math.inf]
        assert [math.isnan(m.value) for m in nan_points if m.step == 7] == [True]

    second = _import(logdir, db_uri, tmp_path / "artifacts")
    assert second.exit_code == 0, second.output
    assert "Wrote: 0 experiments, 0 runs (4 unchanged)" in second.output
    assert "The destination holds everything the source holds." in second.output
    assert _count_line(second.output, "runs") == ["runs", "4", "4"]


def test_a_run_that_grew_is_the_only_one_written_again(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_tensorboardx(logs / "x", 1.0, range(STEPS))
    write_tensorboardx(logs / "y", 1.0, range(STEPS))
    uri = f"sqlite:///{tmp_path / 'dest.db'}"
    options = ImportOptions(artifact_root=str(tmp_path / "artifacts"), new_experiment_ids=True)
    report = run_import(TensorBoardSource(logs), uri, options)
    assert (report.runs_written, report.equal) == (2, True)
    write_tensorboardx(logs / "y", 1.0, range(STEPS, STEPS + 20), ".resumed")
    again = run_import(TensorBoardSource(logs), uri, options)
    assert (again.runs_written, again.runs_unchanged, again.equal) == (1, 1, True)
    with open_backend(uri) as backend:
        history = backend.metrics.get_metric_history(run_id_for("logs", "y"), "loss")
        assert [m.step for m in history] == list(range(STEPS + 20))


def test_dry_run_writes_nothing(logdir: Path, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'dest.db'}"
    result = _import(logdir, uri, tmp_path / "artifacts", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was written." in result.output
    assert _count_line(result.output, "runs")[:2] == ["runs", "4"]
    with open_backend(uri) as backend:
        assert backend.experiments.get_experiment_by_name("mnist") is None


def test_experiment_name_option(logdir: Path, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'dest.db'}"
    result = _import(logdir, uri, tmp_path / "artifacts", "--experiment-name", "digits")
    assert result.exit_code == 0, result.output
    with open_backend(uri) as backend:
        experiment = backend.experiments.get_experiment_by_name("digits")
        assert experiment is not None
        runs = backend.runs.search_runs([experiment.experiment_id])
        assert {r.info.run_id for r in runs} == {run_id_for("digits", name) for name in RUNS}


def test_missing_tensorboard_is_one_line(
    logdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in sys.modules if k == "tensorboard" or k.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, key, None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    uri = f"sqlite:///{tmp_path / 'dest.db'}"
    result = CliRunner().invoke(
        cli, ["import", "tensorboard", str(logdir), "--tracking-uri", uri, "--quiet"]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: Importing TensorBoard logs needs tensorboard: pip install 'mltrail[tensorboard]'\n"
    )
    assert not (tmp_path / "dest.db").exists()  # stopped before writing anything


def test_a_missing_log_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["import", "tensorboard", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
