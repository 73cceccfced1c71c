"""The import engine's rules: conflicts stop it before any write and name the option that
resolves them, which then works; a dry run writes nothing; --experiment narrows; artifacts are
streamed in blocks; the CLI prints the table."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from click.testing import CliRunner
from tests.importers._stores import assert_same_stores, fill, snapshot

from mltrail._exceptions import AlreadyExists, InvalidArgument, NotFound, NotImplementedYet
from mltrail.artifacts import ArtifactRepository, LocalArtifactRepository, get_artifact_repository
from mltrail.cli import cli
from mltrail.entities import Experiment, LoggedModel, RunInfo, ViewType
from mltrail.importers import (
    ImportConflict,
    ImportOptions,
    ImportReport,
    MetricColumns,
    RegisteredModelRecord,
    RunContents,
    RunHeader,
    Source,
    SourceCounts,
    _artifact_copy,
    _importer,
    _mltrail,
    run_import,
)
from mltrail.importers._mltrail import MltrailSource
from mltrail.store import Backend, open_backend
from mltrail.store.sql._imports import SqlImports


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
    assert caught.value.details == {
        "conflicts": [{"kind": "registered model", "name": "exp-model", "option": "--model-prefix"}]
    }
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


def test_the_cli_refuses_a_store_into_itself(src_uri: str) -> None:
    result = CliRunner().invoke(cli, ["import", "mltrail", src_uri, "--tracking-uri", src_uri])
    assert result.exit_code == 2
    assert "The source and the destination are the same store" in result.stderr


class _Memory(Source):
    """A source in memory: one experiment, one run with the given metric columns."""

    key = "memory:test"
    description = "a test source"

    def __init__(self, columns: MetricColumns) -> None:
        self.info = RunInfo("a" * 32, "7", "r", "u", "FINISHED", 1, 2, "")
        self.columns = columns

    def experiments(self, names: Sequence[str] | None = None) -> list[Experiment]:
        return [Experiment("7", "memory", "", creation_time=5, last_update_time=6)]

    def run_headers(self, experiment_ids: Sequence[str]) -> Iterator[RunHeader]:
        yield RunHeader(self.info, "fp")

    def run_contents(self, headers: Sequence[RunHeader]) -> Iterator[RunContents]:
        yield RunContents(headers[0], {"p": "1"}, {"t": "2"}, self.columns)

    def logged_models(self, experiment_ids: Sequence[str]) -> Iterator[LoggedModel]:
        return iter(())

    def registered_models(self) -> Iterator[RegisteredModelRecord]:
        return iter(())

    def open_artifacts(self, artifact_uri: str) -> ArtifactRepository | None:
        return None

    def counts(self, experiment_ids: Sequence[str]) -> SourceCounts:
        return SourceCounts(1, 1, 1, 1, len(self.columns), None, 0, 0, 0)


def test_interleaved_series_keep_their_order(dst_uri: str, tmp_path: Path) -> None:
    columns = MetricColumns(
        keys=["a", "b", "a", "a", "b"],
        values=[1.0, float("nan"), 3.0, -float("inf"), 5.0],
        timestamps=[10, 20, 30, 40, 50],
        steps=[0, 0, 5, 2, 1],
    )
    report = run_import(_Memory(columns), dst_uri, ImportOptions(artifact_root=str(tmp_path)))
    assert report.equal, report.differences()
    with open_backend(dst_uri) as dst:
        a = dst.metrics.get_metric_history("a" * 32, "a")
        assert [(p.value, p.timestamp, p.step) for p in a] == [
            (1.0, 10, 0),
            (3.0, 30, 5),
            (-float("inf"), 40, 2),
        ]
        b = dst.metrics.get_metric_history("a" * 32, "b")
        assert [repr(p.value) for p in b] == ["nan", "5.0"]
        assert dst.runs.get_run("a" * 32).data.metrics == {"a": 3.0, "b": 5.0}
        assert dst.experiments.get_experiment("7").name == "memory"


def test_columns_of_unequal_length_are_refused(dst_uri: str, tmp_path: Path) -> None:
    columns = MetricColumns(keys=["a", "a"], values=[1.0], timestamps=[1, 2], steps=[0, 1])
    with pytest.raises(InvalidArgument, match="must be equally long"):
        run_import(_Memory(columns), dst_uri, ImportOptions(artifact_root=str(tmp_path)))
    with open_backend(dst_uri) as dst, pytest.raises(NotFound):
        dst.runs.get_run("a" * 32)


def test_a_backend_without_an_import_part_refuses_imports(tmp_path: Path) -> None:
    with open_backend(f"sqlite:///{tmp_path / 'x.db'}") as sql:
        plain = Backend(
            uri="thirdparty://x",
            artifact_root=str(tmp_path),
            experiments=sql.experiments,
            runs=sql.runs,
            metrics=sql.metrics,
            registry=sql.registry,
            webhooks=sql.webhooks,
            logged_models=sql.logged_models,
        )
        with pytest.raises(NotImplementedYet, match="import into an SQL database URI"):
            plain.imports.ledger("k", "run")


def test_long_histories_are_written_in_bounded_transactions(
    src_uri: str, dst_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With at most 100 points held, no two of the long runs (68 points or more each) share
    a read or a write: more writes, each small, the same result."""
    monkeypatch.setattr(_importer, "POINTS_PER_WRITE", 100)
    monkeypatch.setattr(_mltrail, "POINTS_PER_READ", 100)
    writes: list[tuple[int, int]] = []  # (runs, points) of each write
    original = SqlImports.write_runs

    def counting(self: SqlImports, key: str, runs: Sequence[Any]) -> int:
        writes.append((len(runs), sum(len(r.metric_keys) for r in runs)))
        return original(self, key, runs)

    monkeypatch.setattr(SqlImports, "write_runs", counting)
    report = _import(src_uri, dst_uri, tmp_path)
    assert report.equal, report.differences()
    assert sum(n for n, _ in writes) == report.source.runs == 6
    assert len(writes) == 3  # one per long run, the short ones beside them
    assert all(points <= 100 for _, points in writes)
    with open_backend(src_uri) as src, open_backend(dst_uri) as dst:
        assert_same_stores(src, dst)
