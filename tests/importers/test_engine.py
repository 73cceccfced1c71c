"""The import engine's rules: conflicts stop it before any write and name the option that
resolves them, which then works; a dry run writes nothing; --experiment narrows; artifacts are
streamed in blocks; the CLI prints the table."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import pytest
from click.testing import CliRunner
from tests.importers._stores import assert_same_stores, fill, snapshot

from mltrail._exceptions import AlreadyExists, NotFound
from mltrail.artifacts import LocalArtifactRepository, get_artifact_repository
from mltrail.cli import cli
from mltrail.entities import ViewType
from mltrail.importers import (
    ImportConflict,
    ImportOptions,
    ImportReport,
    _artifact_copy,
    run_import,
)
from mltrail.importers._mltrail import MltrailSource
from mltrail.store import open_backend


@pytest.fixture
def src_uri(tmp_path: Path) -> str:
    uri = f"sqlite:///{tmp_path / 'source.db'}"
    with open_backend(uri, str(tmp_path / "source-artifacts")) as backend:
        fill(backend, tmp_path)
    return uri


@pytest.fixture
def dst_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dest.db'}"


def _import(src_uri: str, dst_uri: str, tmp_path: Path, **options: Any) -> ImportReport:
    source = MltrailSource(src_uri)
    try:
        return run_import(
            source, dst_uri, ImportOptions(artifact_root=str(tmp_path / "dst-art"), **options)
        )
    finally:
        source.close()


def test_an_experiment_name_taken_stops_everything(
    src_uri: str, dst_uri: str, tmp_path: Path
) -> None:
    with open_backend(dst_uri, str(tmp_path / "dst-art")) as dst:
        dst.experiments.create_experiment("unrelated")  # takes id 1, the source's exp-a's id
        dst.experiments.create_experiment("exp-a")  # the source's name, with another id
    before = snapshot(dst_uri)
    with pytest.raises(ImportConflict) as caught:
        _import(src_uri, dst_uri, tmp_path)
    assert isinstance(caught.value, AlreadyExists)
    message = str(caught.value)
    assert "Experiment id 1 ('exp-a' in the source) is taken" in message
    assert "--new-experiment-ids" in message
    assert "An experiment named 'exp-gone' already exists" not in message
    assert "nothing was written" in message
    assert snapshot(dst_uri) == before
    # A prefix alone is not enough (ids 1 and 2 are still taken by other experiments) ...
    with pytest.raises(ImportConflict, match="--new-experiment-ids"):
        _import(src_uri, dst_uri, tmp_path, experiment_prefix="laptop/")
    assert snapshot(dst_uri) == before
    # ... with new ids too, it goes through, and a repeat finds the same experiments.
    report = _import(
        src_uri, dst_uri, tmp_path, experiment_prefix="laptop/", new_experiment_ids=True
    )
    with open_backend(dst_uri) as dst:
        names = {e.name: e.experiment_id for e in dst.experiments.search_experiments(ViewType.ALL)}
    assert {"laptop/Default", "laptop/exp-a", "laptop/exp-gone", "unrelated", "exp-a"} <= set(names)
    assert names["laptop/exp-a"] not in ("1", "2")
    assert report.runs_written == report.source.runs
    again = _import(
        src_uri, dst_uri, tmp_path, experiment_prefix="laptop/", new_experiment_ids=True
    )
    assert (again.experiments_written, again.runs_written, again.rows_written) == (0, 0, 0)


def test_a_name_conflict_is_resolved_by_a_prefix(
    src_uri: str, dst_uri: str, tmp_path: Path
) -> None:
    with open_backend(src_uri) as src:
        ids = {e.name: e.experiment_id for e in src.experiments.search_experiments(ViewType.ALL)}
    with open_backend(dst_uri, str(tmp_path / "dst-art")) as dst:
        for _ in range(5):  # the source's ids are 1 and 2: take 1..5 under other names ...
            dst.experiments.create_experiment(f"x{_}")
        dst.experiments.create_experiment("exp-a")  # ... and the name, as id 6
    with pytest.raises(ImportConflict) as caught:
        _import(src_uri, dst_uri, tmp_path, new_experiment_ids=True)
    assert [c.kind for c in caught.value.conflicts] == ["experiment name"]
    assert "An experiment named 'exp-a' already exists in the destination (id 6)" in str(
        caught.value
    )
    assert "--experiment-prefix" in str(caught.value)
    report = _import(src_uri, dst_uri, tmp_path, new_experiment_ids=True, experiment_prefix="old-")
    assert report.equal, report.differences()
    with open_backend(dst_uri) as dst:
        moved = dst.experiments.get_experiment_by_name("old-exp-a")
        assert moved is not None
        assert moved.experiment_id not in ids.values()
        assert dst.runs.search_runs([moved.experiment_id], run_view_type=ViewType.ALL)


def test_a_registered_model_name_taken(src_uri: str, dst_uri: str, tmp_path: Path) -> None:
    with open_backend(dst_uri, str(tmp_path / "dst-art")) as dst:
        dst.registry.create_registered_model("exp-model", description="someone else's")
    before = snapshot(dst_uri)
    with pytest.raises(ImportConflict) as caught:
        _import(src_uri, dst_uri, tmp_path)
    assert [(c.kind, c.name, c.option) for c in caught.value.conflicts] == [
        ("registered model", "exp-model", "--model-prefix")
    ]
    assert snapshot(dst_uri) == before
    _import(src_uri, dst_uri, tmp_path, model_prefix="imported-")
    with open_backend(dst_uri) as dst:
        assert dst.registry.get_registered_model("exp-model").description == "someone else's"
        copy = dst.registry.get_registered_model("imported-exp-model")
        assert copy.description == "the model"
        assert copy.aliases == {"champion": 2}
    # Imported once, the model is this source's: a repeat updates it, no conflict.
    assert _import(src_uri, dst_uri, tmp_path, model_prefix="imported-").conflicts == []


def test_the_default_experiment_merges(src_uri: str, dst_uri: str, tmp_path: Path) -> None:
    with open_backend(dst_uri, str(tmp_path / "dst-art")) as dst:
        default = dst.experiments.get_experiment("0")
        run = dst.runs.create_run("0", "me", 1, [], "mine")
    report = _import(src_uri, dst_uri, tmp_path)
    assert report.conflicts == []
    with open_backend(dst_uri) as dst:
        assert dst.experiments.get_experiment("0").artifact_location == default.artifact_location
        assert dst.runs.get_run(run.info.run_id).info.run_name == "mine"
    # The destination's Default holds one run (and its name tag) more than the source's.
    assert report.differences() == [("runs", 6, 7), ("tags", 13, 14)]


def test_a_dry_run_writes_nothing(src_uri: str, dst_uri: str, tmp_path: Path) -> None:
    report = _import(src_uri, dst_uri, tmp_path, dry_run=True)
    assert not (tmp_path / "dest.db").exists()  # not even created
    assert report.dry_run
    assert report.runs_written == report.source.runs == 6
    assert report.destination.runs == 0
    assert [d[0] for d in report.differences()][:2] == ["experiments", "runs"]
    _import(src_uri, dst_uri, tmp_path)
    before = snapshot(dst_uri)
    again = _import(src_uri, dst_uri, tmp_path, dry_run=True)
    assert snapshot(dst_uri) == before
    assert again.runs_written == 0
    assert again.equal


def test_a_dry_run_lists_conflicts_instead_of_failing(
    src_uri: str, dst_uri: str, tmp_path: Path
) -> None:
    with open_backend(dst_uri, str(tmp_path / "dst-art")) as dst:
        dst.registry.create_registered_model("exp-model")
    before = snapshot(dst_uri)
    report = _import(src_uri, dst_uri, tmp_path, dry_run=True)
    assert [c.option for c in report.conflicts] == ["--model-prefix"]
    assert snapshot(dst_uri) == before


def test_experiment_narrows_by_name_or_id(src_uri: str, dst_uri: str, tmp_path: Path) -> None:
    with open_backend(src_uri) as src:
        gone = src.experiments.get_experiment_by_name("exp-gone")
        assert gone is not None
    report = _import(src_uri, dst_uri, tmp_path, experiments=(gone.experiment_id,))
    assert (report.source.experiments, report.source.runs) == (1, 1)
    assert report.source.registered_models == 0  # its versions' runs are in exp-a
    assert report.equal, report.differences()
    report = _import(src_uri, dst_uri, tmp_path, experiments=("exp-a",))
    assert (report.source.experiments, report.source.runs, report.source.registered_models) == (
        1,
        5,
        1,
    )
    assert report.equal, report.differences()
    with open_backend(dst_uri) as dst:
        assert dst.experiments.get_experiment_by_name("Default") is not None  # its own
        assert len(dst.runs.search_runs(None, run_view_type=ViewType.ALL)) == 6
    with pytest.raises(NotFound, match="No experiment named or numbered 'nope', '99'"):
        _import(src_uri, dst_uri, tmp_path, experiments=("nope", "exp-a", "99"))


def test_artifacts_are_streamed_in_blocks(
    src_uri: str, dst_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_backend(src_uri) as src:
        run = src.runs.search_runs(None, max_results=1)[0]
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 400)  # 102,400 bytes
    get_artifact_repository(run.info.artifact_uri).log_artifact(big, "data")
    monkeypatch.setattr(_artifact_copy, "BLOCK_SIZE", 4096)
    reads: list[int] = []
    opened = LocalArtifactRepository.open_read

    class Recording:
        def __init__(self, stream: BinaryIO) -> None:
            self.stream = stream

        def read(self, size: int = -1) -> bytes:
            reads.append(size)
            return self.stream.read(size)

        def __enter__(self) -> Recording:
            return self

        def __exit__(self, *exc: object) -> None:
            self.stream.close()

    def recording_open(self: LocalArtifactRepository, path: str) -> Any:
        return Recording(opened(self, path))

    monkeypatch.setattr(LocalArtifactRepository, "open_read", recording_open)
    report = _import(src_uri, dst_uri, tmp_path)
    assert reads
    assert all(0 < size <= 4096 for size in reads)
    assert reads.count(4096) >= 102_400 // 4096
    assert report.artifact_bytes_copied > 102_400
    with open_backend(dst_uri) as dst:
        copy = get_artifact_repository(dst.runs.get_run(run.info.run_id).info.artifact_uri)
        with copy.open_read("data/big.bin") as stream:
            assert stream.read() == big.read_bytes()
    with open_backend(src_uri) as src, open_backend(dst_uri) as dst:
        assert_same_stores(src, dst)


def test_the_cli_prints_the_table(src_uri: str, dst_uri: str, tmp_path: Path) -> None:
    args = ["import", "mltrail", src_uri, "--tracking-uri", dst_uri, "--quiet"]
    args += ["--artifact-root", str(tmp_path / "dst-art")]
    dry = CliRunner().invoke(cli, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would write: 3 experiments, 6 runs (0 unchanged)" in dry.stdout
    assert "Dry run: nothing was written." in dry.stdout
    assert not (tmp_path / "dest.db").exists()
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert "metric points      206     206" in lines
    assert "The destination holds everything the source holds." in lines
    second = CliRunner().invoke(cli, args)
    assert "Wrote: 0 experiments, 0 runs (6 unchanged), 0 logged models" in second.stdout
    with open_backend(dst_uri, str(tmp_path / "dst-art")) as dst:
        dst.registry.create_registered_model("someone-else")
        dst.experiments.create_experiment("exp-a-twin")
    with open_backend(src_uri) as src:
        src.registry.create_registered_model("someone-else")
    conflict = CliRunner().invoke(cli, args)
    assert conflict.exit_code == 1
    assert "Error: The import would overwrite data already in the destination" in conflict.stderr
    assert "registered model named 'someone-else'" in conflict.stderr
    assert "(resolve with --model-prefix)" in conflict.stderr
    assert "Traceback" not in conflict.output


def test_progress_is_shown_on_stderr(src_uri: str, dst_uri: str, tmp_path: Path) -> None:
    args = ["import", "mltrail", src_uri, "--tracking-uri", dst_uri]
    result = CliRunner().invoke(cli, [*args, "--artifact-root", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert "Listing runs..." in result.stderr
    assert "Importing runs" in result.stderr
    assert "Importing runs" not in result.stdout
