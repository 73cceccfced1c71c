"""LocalArtifactRepository: round trips, listings, deletes, atomic writes, temp dirs, memory."""

from __future__ import annotations

import os
import stat
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.artifacts import FileInfo, LocalArtifactRepository
from mltrail.artifacts._paths import TEMP_PREFIX


def tree(top: Path) -> dict[str, bytes | None]:
    """Relative POSIX path -> file bytes (None for directories)."""
    return {
        p.relative_to(top).as_posix(): (None if p.is_dir() else p.read_bytes())
        for p in sorted(top.rglob("*"))
    }


@pytest.fixture
def repo(tmp_path: Path) -> LocalArtifactRepository:
    return LocalArtifactRepository((tmp_path / "root").as_uri())


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "model"
    (src / "data" / "nested").mkdir(parents=True)
    (src / "empty").mkdir()
    (src / "MLmodel").write_text("flavors: {}\n")
    (src / "data" / "weights.bin").write_bytes(bytes(range(256)) * 40)
    (src / "data" / "nested" / "a b.txt").write_text("spaces")
    (src / ".hidden").write_text("dot")
    return src


def root_of(repo: LocalArtifactRepository) -> Path:
    return Path(repo.root)


# -- construction --------------------------------------------------------------------------------


def test_uri_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "art dir"
    assert LocalArtifactRepository(target.as_uri()).root == str(target)  # file:///...%20...
    assert LocalArtifactRepository(f"file://localhost{target}").root == str(target)
    assert LocalArtifactRepository(f"file:{target}").root == str(target)
    assert LocalArtifactRepository(str(target)).root == str(target)
    monkeypatch.chdir(tmp_path)
    assert LocalArtifactRepository("mlruns/1").root == str(tmp_path / "mlruns" / "1")
    assert LocalArtifactRepository("file:mlruns").root == str(tmp_path / "mlruns")
    repo = LocalArtifactRepository("mlruns/1")
    assert repo.artifact_uri == "mlruns/1"
    assert "mlruns/1" in repr(repo)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("file://evil.example/etc", "remote host"),
        ("file:///tmp/x?y=1", "query"),
        ("file:///tmp/x#frag", "fragment"),
        ("", "expected"),
        ("/tmp/a\x00b", "NUL"),
    ],
)
def test_bad_uris(uri: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        LocalArtifactRepository(uri)


def test_missing_root_reads_as_empty(repo: LocalArtifactRepository) -> None:
    assert repo.list_artifacts() == []
    assert repo.file_info("") is None
    assert repo.file_info("x") is None
    repo.delete_artifacts()
    repo.delete_artifacts("x")
    with pytest.raises(NotFound, match="'x'"):
        repo.download_artifacts("x")
    assert not root_of(repo).exists()  # nothing of the above created it


# -- files ---------------------------------------------------------------------------------------


def test_file_round_trip(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    local = tmp_path / "metrics.json"
    local.write_bytes(b'{"a": 1}')
    repo.log_artifact(local)
    repo.log_artifact(str(local), "reports/2024")
    repo.log_artifact(local, "plots/")  # one trailing slash is accepted
    assert tree(root_of(repo)) == {
        "metrics.json": b'{"a": 1}',
        "plots": None,
        "plots/metrics.json": b'{"a": 1}',
        "reports": None,
        "reports/2024": None,
        "reports/2024/metrics.json": b'{"a": 1}',
    }
    assert repo.file_info("reports/2024/metrics.json") == FileInfo(
        "reports/2024/metrics.json", False, 8
    )
    with repo.open_read("reports/2024/metrics.json") as stream:
        assert stream.read() == b'{"a": 1}'
    out = repo.download_artifacts("reports/2024/metrics.json", tmp_path / "out")
    assert out == str(tmp_path / "out" / "reports" / "2024" / "metrics.json")
    assert Path(out).read_bytes() == b'{"a": 1}'


def test_log_artifact_overwrites(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    local = tmp_path / "f.txt"
    local.write_text("one")
    repo.log_artifact(local)
    local.write_text("two!")
    repo.log_artifact(local)
    assert (root_of(repo) / "f.txt").read_text() == "two!"
    assert repo.file_info("f.txt") == FileInfo("f.txt", False, 4)


def test_log_artifact_needs_an_existing_file(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="not an existing local file"):
        repo.log_artifact(tmp_path / "missing.txt")
    with pytest.raises(InvalidArgument, match="not an existing local file"):
        repo.log_artifact(tmp_path)
    bad = tmp_path / "a;b.txt"
    bad.write_text("x")
    with pytest.raises(InvalidArgument, match="path parameters"):
        repo.log_artifact(bad)


def test_write_stream_round_trip(repo: LocalArtifactRepository) -> None:
    chunks: list[Any] = [b"abc", bytearray(b"def"), memoryview(b"ghi"), b""]  # bytes-like too
    assert repo.write_stream("deep/er/file.bin", chunks) == 9
    with repo.open_read("deep/er/file.bin") as stream:
        assert stream.read(4) == b"abcd"
        assert stream.read() == b"efghi"
    assert repo.list_artifacts("deep") == [FileInfo("deep/er", True, None)]


def test_write_errors(repo: LocalArtifactRepository) -> None:
    repo.write_stream("dir/file.txt", [b"x"])
    with pytest.raises(InvalidArgument, match="at the root"):
        repo.write_stream("", [b"x"])
    with pytest.raises(InvalidArgument, match="is a directory"):
        repo.write_stream("dir", [b"x"])
    with pytest.raises(InvalidArgument, match="not a directory"):
        repo.write_stream("dir/file.txt/below", [b"x"])
    with pytest.raises(InvalidArgument, match="reserved"):
        repo.write_stream(TEMP_PREFIX + "x", [b"x"])
    assert tree(root_of(repo)) == {"dir": None, "dir/file.txt": b"x"}


def test_open_read_errors(repo: LocalArtifactRepository) -> None:
    repo.write_stream("d/f", [b"x"])
    with pytest.raises(NotFound, match="'d/missing'"):
        repo.open_read("d/missing")
    with pytest.raises(InvalidArgument, match="is a directory"):
        repo.open_read("d")


# -- directories ---------------------------------------------------------------------------------


def test_directory_round_trip(repo: LocalArtifactRepository, source: Path, tmp_path: Path) -> None:
    repo.log_artifacts(source, "model")
    assert tree(root_of(repo) / "model") == tree(source)  # empty dirs included
    out = repo.download_artifacts("model", tmp_path / "dl")
    assert out == str(tmp_path / "dl" / "model")
    assert tree(Path(out)) == tree(source)
    everything = repo.download_artifacts("", tmp_path / "all")
    assert everything == str(tmp_path / "all")
    assert tree(Path(everything) / "model") == tree(source)


def test_log_artifacts_at_the_root_and_merging(
    repo: LocalArtifactRepository, source: Path, tmp_path: Path
) -> None:
    repo.log_artifacts(source)
    assert tree(root_of(repo)) == tree(source)
    other = tmp_path / "other"
    other.mkdir()
    (other / "MLmodel").write_text("replaced")
    (other / "extra.txt").write_text("extra")
    repo.log_artifacts(str(other))
    assert (root_of(repo) / "MLmodel").read_text() == "replaced"
    assert (root_of(repo) / "extra.txt").read_text() == "extra"
    assert (root_of(repo) / "data" / "weights.bin").exists()


def test_log_artifacts_of_an_empty_directory(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    repo.log_artifacts(tmp_path / "empty", "nothing/here")
    assert repo.file_info("nothing/here") == FileInfo("nothing/here", True, None)


def test_log_artifacts_refuses_invalid_names_before_copying(
    repo: LocalArtifactRepository, source: Path
) -> None:
    (source / "data" / "bad?.txt").write_text("x")
    with pytest.raises(InvalidArgument, match="query strings"):
        repo.log_artifacts(source, "model")
    assert not root_of(repo).exists() or tree(root_of(repo)) == {}


def test_log_artifacts_needs_a_directory(repo: LocalArtifactRepository, source: Path) -> None:
    with pytest.raises(InvalidArgument, match="not an existing local directory"):
        repo.log_artifacts(source / "MLmodel")
    with pytest.raises(InvalidArgument, match="not an existing local directory"):
        repo.log_artifacts(source / "missing")


def test_listing(repo: LocalArtifactRepository, source: Path) -> None:
    repo.log_artifacts(source, "model")
    assert repo.list_artifacts() == [FileInfo("model", True, None)]
    assert repo.list_artifacts("model") == [
        FileInfo("model/.hidden", False, 3),
        FileInfo("model/MLmodel", False, 12),
        FileInfo("model/data", True, None),
        FileInfo("model/empty", True, None),
    ]
    assert repo.list_artifacts("model/data/") == [
        FileInfo("model/data/nested", True, None),
        FileInfo("model/data/weights.bin", False, 10240),
    ]
    assert repo.list_artifacts("model/empty") == []
    assert repo.list_artifacts("model/missing") == []
    assert repo.list_artifacts("model/MLmodel") == []  # a file has no children


def test_listing_hides_temp_files_and_unreachable_names(repo: LocalArtifactRepository) -> None:
    repo.write_stream("d/ok.txt", [b"x"])
    d = root_of(repo) / "d"
    (d / (TEMP_PREFIX + "0123")).write_bytes(b"partial")
    (d / "a;b").write_bytes(b"unreachable")  # created outside the API
    (d / "back\\slash").write_bytes(b"unreachable")
    assert [f.path for f in repo.list_artifacts("d")] == ["d/ok.txt"]


def test_file_info(repo: LocalArtifactRepository) -> None:
    repo.write_stream("d/f.bin", [b"12345"])
    assert repo.file_info("d/f.bin") == FileInfo("d/f.bin", False, 5)
    assert repo.file_info("d") == FileInfo("d", True, None)
    assert repo.file_info("") == FileInfo("", True, None)
    assert repo.file_info("d/nope") is None


def test_file_info_to_dict() -> None:
    assert FileInfo("a/b", False, 3).to_dict() == {"path": "a/b", "is_dir": False, "file_size": 3}
    assert FileInfo("a", True, None).to_dict() == {"path": "a", "is_dir": True}
    info = FileInfo("a", True, None)
    with pytest.raises(AttributeError):
        info.path = "b"  # type: ignore[misc]
    assert not hasattr(info, "__dict__")


# -- deletes -------------------------------------------------------------------------------------


def test_deletes(repo: LocalArtifactRepository, source: Path) -> None:
    repo.log_artifacts(source, "model")
    repo.write_stream("keep.txt", [b"k"])
    repo.delete_artifacts("model/MLmodel")
    assert repo.file_info("model/MLmodel") is None
    repo.delete_artifacts("model/data/")
    assert [f.path for f in repo.list_artifacts("model")] == ["model/.hidden", "model/empty"]
    repo.delete_artifacts("model/not-there")  # idempotent
    repo.delete_artifacts("model")
    assert [f.path for f in repo.list_artifacts()] == ["keep.txt"]
    repo.delete_artifacts()
    assert not root_of(repo).exists()
    repo.write_stream("again.txt", [b"a"])  # the root is recreated on the next write
    assert [f.path for f in repo.list_artifacts()] == ["again.txt"]


# -- downloads -----------------------------------------------------------------------------------


def _mode(path: str | Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_default_destination_is_a_private_temp_dir(
    repo: LocalArtifactRepository, source: Path, tmp_path: Path
) -> None:
    repo.log_artifacts(source, "model")
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        file_out = Path(repo.download_artifacts("model/MLmodel"))
        dir_out = Path(repo.download_artifacts("model"))
    finally:
        os.umask(old_umask)
    file_temp = file_out.parent.parent
    assert file_out.read_text() == "flavors: {}\n"
    assert _mode(file_temp) == 0o700
    assert _mode(dir_out.parent) == 0o700
    assert file_temp != dir_out.parent  # a new directory for each call
    assert tree(dir_out) == tree(source)


def test_destination_is_created_when_missing(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    repo.write_stream("a/b.txt", [b"b"])
    out = repo.download_artifacts("a", str(tmp_path / "new" / "dir"))
    assert Path(out, "b.txt").read_bytes() == b"b"


def test_download_overwrites_existing_files(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    repo.write_stream("a/b.txt", [b"new"])
    (tmp_path / "dst" / "a").mkdir(parents=True)
    (tmp_path / "dst" / "a" / "b.txt").write_bytes(b"old")
    repo.download_artifacts("a", tmp_path / "dst")
    assert (tmp_path / "dst" / "a" / "b.txt").read_bytes() == b"new"
    assert [p.name for p in (tmp_path / "dst" / "a").iterdir()] == ["b.txt"]


# -- atomic writes -------------------------------------------------------------------------------


def test_readers_see_the_old_file_until_the_write_completes(
    repo: LocalArtifactRepository,
) -> None:
    repo.write_stream("f.txt", [b"old content"])
    target = root_of(repo) / "f.txt"

    def chunks() -> Iterator[bytes]:
        yield b"new "
        assert target.read_bytes() == b"old content"  # mid-write: the old file is intact
        with repo.open_read("f.txt") as stream:
            assert stream.read() == b"old content"
        yield b"content"

    assert repo.write_stream("f.txt", chunks()) == 11
    assert target.read_bytes() == b"new content"
    assert sorted(os.listdir(root_of(repo))) == ["f.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(
    repo: LocalArtifactRepository,
) -> None:
    repo.write_stream("f.txt", [b"old"])

    def failing() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        repo.write_stream("f.txt", failing())
    with pytest.raises(InvalidArgument, match="chunks must be bytes"):
        repo.write_stream("f.txt", [b"ok", "text"])  # type: ignore[list-item]
    with pytest.raises(ConnectionError):
        repo.write_stream("new.txt", failing())
    assert (root_of(repo) / "f.txt").read_bytes() == b"old"
    assert sorted(os.listdir(root_of(repo))) == ["f.txt"]


def test_written_files_get_the_usual_mode(repo: LocalArtifactRepository) -> None:
    old_umask = os.umask(0o022)
    try:
        repo.write_stream("f.txt", [b"x"])
    finally:
        os.umask(old_umask)
    assert _mode(root_of(repo) / "f.txt") == 0o644


# -- memory --------------------------------------------------------------------------------------


def test_large_files_are_copied_in_chunks(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    size = 48 * 1024 * 1024
    big = tmp_path / "big.bin"
    with open(big, "wb") as out:
        block = os.urandom(1024 * 1024)
        for _ in range(size // len(block)):
            out.write(block)
    tracemalloc.start()
    try:
        repo.log_artifact(big, "blobs")
        out_path = repo.download_artifacts("blobs/big.bin", tmp_path / "dl")
        with repo.open_read("blobs/big.bin") as stream:
            repo.write_stream("blobs/copy.bin", iter(lambda: stream.read(1 << 20), b""))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes: a file was held whole in memory"
    assert os.path.getsize(out_path) == size
    assert repo.file_info("blobs/copy.bin") == FileInfo("blobs/copy.bin", False, size)
    with open(big, "rb") as a, open(out_path, "rb") as b:
        while chunk := a.read(1 << 20):
            assert chunk == b.read(1 << 20)
