"""LocalArtifactRepository: what only files on disk have (empty folders, atomic writes, file
modes, temp files, memory); the contract all backends share is tests/artifacts/
test_repository_conformance.py."""

from __future__ import annotations

import os
import stat
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

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


def test_the_temp_file_prefix_is_reserved(repo: LocalArtifactRepository) -> None:
    repo.write_stream("dir/file.txt", [b"x"])
    with pytest.raises(InvalidArgument, match="reserved"):
        repo.write_stream(TEMP_PREFIX + "x", [b"x"])
    assert tree(root_of(repo)) == {"dir": None, "dir/file.txt": b"x"}


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


def test_listing_hides_temp_files_and_unreachable_names(repo: LocalArtifactRepository) -> None:
    repo.write_stream("d/ok.txt", [b"x"])
    d = root_of(repo) / "d"
    (d / (TEMP_PREFIX + "0123")).write_bytes(b"partial")
    (d / "a;b").write_bytes(b"unreachable")  # created outside the API
    (d / "back\\slash").write_bytes(b"unreachable")
    assert [f.path for f in repo.list_artifacts("d")] == ["d/ok.txt"]


def test_file_info_to_dict() -> None:
    assert FileInfo("a/b", False, 3).to_dict() == {"path": "a/b", "is_dir": False, "file_size": 3}
    assert FileInfo("a", True, None).to_dict() == {"path": "a", "is_dir": True}
    info = FileInfo("a", True, None)
    with pytest.raises(AttributeError):
        info.path = "b"  # type: ignore[misc]
    assert not hasattr(info, "__dict__")


# -- deletes -------------------------------------------------------------------------------------


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
