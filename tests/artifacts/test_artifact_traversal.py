"""Symbolic links and special files around a local repository, and the traversal forms
(``TRAVERSALS``) that tests/artifacts/test_repository_conformance.py tries on every backend.

Each test snapshots the whole temporary tree (the repository root, a sentinel directory beside
it, the upload sources, the download destination and the directory ``tempfile`` uses) and
checks that a refused operation changed nothing anywhere: no file altered, removed or added.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mltrail._exceptions import InvalidArgument, MltrailError, PermissionDenied
from mltrail.artifacts import LocalArtifactRepository

Snapshot = dict[str, tuple[str, bytes | str | None, int]]


def snapshot(top: Path) -> Snapshot:
    """Every entry below *top*: kind, content (file bytes or link target) and mtime."""
    found: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, top)
            st = os.lstat(path)
            if os.path.islink(path):
                found[rel] = ("link", os.readlink(path), st.st_mtime_ns)
            elif os.path.isdir(path):
                found[rel] = ("dir", None, st.st_mtime_ns)
            else:
                found[rel] = ("file", Path(path).read_bytes(), st.st_mtime_ns)
    return found


@dataclass
class Env:
    top: Path
    root: Path
    outside: Path
    sentinel: Path
    source_file: Path
    source_dir: Path
    dst: Path
    repo: LocalArtifactRepository


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "b.txt").write_bytes(b"inside")
    (root / "top.txt").write_bytes(b"top")
    outside = tmp_path / "outside"
    outside.mkdir()
    sentinel = outside / "sentinel.txt"
    sentinel.write_bytes(b"do not touch")
    source_dir = tmp_path / "src"
    (source_dir / "sub").mkdir(parents=True)
    source_file = source_dir / "payload.txt"
    source_file.write_bytes(b"payload")
    (source_dir / "sub" / "deep.txt").write_bytes(b"deep")
    dst = tmp_path / "dst"
    dst.mkdir()
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return Env(
        tmp_path, root, outside, sentinel, source_file, source_dir, dst,
        LocalArtifactRepository(root.as_uri()),
    )  # fmt: skip


Operation = Callable[[Env, str], object]

OPERATIONS: dict[str, Operation] = {
    "log_artifact": lambda e, p: e.repo.log_artifact(e.source_file, p),
    "log_artifacts": lambda e, p: e.repo.log_artifacts(e.source_dir, p),
    "list_artifacts": lambda e, p: e.repo.list_artifacts(p),
    "download_artifacts": lambda e, p: e.repo.download_artifacts(p, e.dst),
    "download_artifacts_tempdir": lambda e, p: e.repo.download_artifacts(p),
    "delete_artifacts": lambda e, p: e.repo.delete_artifacts(p),
    "open_read": lambda e, p: e.repo.open_read(p).close(),
    "write_stream": lambda e, p: e.repo.write_stream(p, [b"evil"]),
    "file_info": lambda e, p: e.repo.file_info(p),
}

# "{outside}" stands for the absolute path of the sentinel directory beside the root.
TRAVERSALS = [
    "..",
    "../outside/sentinel.txt",
    "../outside",
    "a/../../outside/sentinel.txt",
    "a/..",
    "a/../top.txt",
    "%2e%2e/outside/sentinel.txt",
    "%2E%2E/outside/sentinel.txt",
    "%2e%2E%2foutside%2fsentinel.txt",
    "%252e%252e/outside/sentinel.txt",
    "%25252e%25252e/outside/sentinel.txt",
    "%2525252E%2525252E/outside",
    "..%2foutside%2fsentinel.txt",
    "a%2f..%2f..%2foutside",
    "{outside}/sentinel.txt",
    "{outside}",
    "/etc/passwd",
    "//proc/self/root/etc/passwd",
    "%2f{outside}",
    "C:\\Windows\\win.ini",
    "c:/windows/win.ini",
    "C:x",
    "\\\\server\\share\\x",
    "..\\outside\\sentinel.txt",
    "a\\..\\..\\outside",
    "..%5coutside%5csentinel.txt",
    "a/b.txt\x00.png",
    "%00",
    "a%2500",
    "a/..;/..;/outside/sentinel.txt",
    "..;/outside",
    "a/b.txt;x",
    "a/b.txt#/../../outside",
    "a/b.txt?x=/../../outside",
    "a%23b",
    "a%3fb",
    "file:{outside}/sentinel.txt",
    "file://{outside}",
    "file:///etc/passwd",
    "file:../outside",
    "FiLe:../outside",
    "s3://bucket/key",
    "http://evil.example/x",
    ":{outside}",
    "~/x",
    "~root/x",
    "a//b.txt",
    "a/b//",
    ".",
    "./a",
    "a/./b.txt",
    "a/.",
    "\uff0e\uff0e/outside/sentinel.txt",
    "a\uff0f..\uff0f..\uff0foutside",
]


# -- symbolic links inside the root -------------------------------------------------------------


@pytest.fixture
def linked(env: Env) -> Env:
    (env.root / "escape_dir").symlink_to(env.outside, target_is_directory=True)
    (env.root / "escape_file").symlink_to(env.sentinel)
    (env.root / "a" / "up").symlink_to("../..", target_is_directory=True)  # the tmp dir
    return env


ESCAPES = [
    "escape_dir",
    "escape_dir/sentinel.txt",
    "escape_dir/new.txt",
    "escape_dir/new/deeper.txt",
    "escape_file",
    "a/up",
    "a/up/outside/sentinel.txt",
]


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("path", ESCAPES)
def test_symlink_escape_is_refused(linked: Env, operation: str, path: str) -> None:
    before = snapshot(linked.top)
    with pytest.raises(PermissionDenied, match="outside"):
        OPERATIONS[operation](linked, path)
    assert snapshot(linked.top) == before
    assert linked.sentinel.read_bytes() == b"do not touch"


def test_listing_leaves_out_escaping_links(linked: Env) -> None:
    assert [f.path for f in linked.repo.list_artifacts()] == ["a", "top.txt"]
    assert [f.path for f in linked.repo.list_artifacts("a")] == ["a/b.txt"]


def test_recursive_download_refuses_escaping_links(linked: Env) -> None:
    outside_before = snapshot(linked.outside)
    with pytest.raises(PermissionDenied, match="outside the artifact root"):
        linked.repo.download_artifacts("", linked.dst)
    assert snapshot(linked.outside) == outside_before
    written = {p.relative_to(linked.dst).as_posix() for p in linked.dst.rglob("*")}
    assert written <= {"a", "a/b.txt"}  # what was copied before the refusal, nothing else


def test_deleting_the_root_does_not_follow_links(linked: Env) -> None:
    before = snapshot(linked.outside)
    linked.repo.delete_artifacts()
    assert not linked.root.exists()
    assert snapshot(linked.outside) == before


def test_deleting_a_directory_with_an_escaping_link_inside(linked: Env) -> None:
    (linked.root / "a" / "out").symlink_to(linked.outside, target_is_directory=True)
    linked.repo.delete_artifacts("a")
    assert not (linked.root / "a").exists()
    assert linked.sentinel.read_bytes() == b"do not touch"


def test_root_that_is_itself_a_link_works(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    repo = LocalArtifactRepository(str(tmp_path / "link"))
    repo.write_stream("x/y.txt", [b"data"])
    assert (real / "x" / "y.txt").read_bytes() == b"data"
    assert [f.path for f in repo.list_artifacts("x")] == ["x/y.txt"]
    assert Path(repo.download_artifacts("x", tmp_path / "out")).joinpath("y.txt").exists()


def test_links_inside_the_root_are_followed_for_reads(env: Env) -> None:
    (env.root / "a" / "alias.txt").symlink_to("b.txt")
    (env.root / "alias_dir").symlink_to("a", target_is_directory=True)
    infos = {f.path: f for f in env.repo.list_artifacts()}
    assert infos["alias_dir"].is_dir
    with env.repo.open_read("a/alias.txt") as stream:
        assert stream.read() == b"inside"
    assert env.repo.file_info("alias_dir/b.txt") is not None
    local = Path(env.repo.download_artifacts("alias_dir", env.dst))
    assert (local / "alias.txt").read_bytes() == b"inside"
    assert not (local / "alias.txt").is_symlink()  # downloaded as a regular file


def test_writing_through_an_inside_link_replaces_the_link(env: Env) -> None:
    (env.root / "alias.txt").symlink_to("top.txt")
    env.repo.write_stream("alias.txt", [b"new"])
    assert not (env.root / "alias.txt").is_symlink()
    assert (env.root / "alias.txt").read_bytes() == b"new"
    assert (env.root / "top.txt").read_bytes() == b"top"


def test_deleting_an_inside_link_keeps_its_target(env: Env) -> None:
    (env.root / "alias").symlink_to("a", target_is_directory=True)
    env.repo.delete_artifacts("alias")
    assert not os.path.lexists(env.root / "alias")
    assert (env.root / "a" / "b.txt").read_bytes() == b"inside"


def test_download_refuses_a_link_loop(env: Env) -> None:
    (env.root / "a" / "loop").symlink_to("..", target_is_directory=True)
    with pytest.raises(InvalidArgument, match="loop"):
        env.repo.download_artifacts("a", env.dst)


# -- download destinations -----------------------------------------------------------------------


def test_download_never_writes_through_a_link_in_the_destination(env: Env) -> None:
    (env.dst / "a").symlink_to(env.outside, target_is_directory=True)
    before = snapshot(env.outside)
    for path in ("a/b.txt", "a", ""):
        with pytest.raises(PermissionDenied):
            env.repo.download_artifacts(path, env.dst)
    assert snapshot(env.outside) == before


def test_download_into_the_source_is_refused(env: Env) -> None:
    before = snapshot(env.root)
    with pytest.raises(InvalidArgument, match="inside the artifacts"):
        env.repo.download_artifacts("", env.root / "a" / "copy")
    with pytest.raises(InvalidArgument, match="inside the artifacts"):
        env.repo.download_artifacts("a", env.root / "a")
    assert snapshot(env.root) == before


# -- symbolic links in an uploaded directory ---------------------------------------------------


def test_upload_copies_links_inside_the_source_as_files(env: Env) -> None:
    (env.source_dir / "alias.txt").symlink_to("payload.txt")
    (env.source_dir / "sub_alias").symlink_to("sub", target_is_directory=True)
    env.repo.log_artifacts(env.source_dir, "up")
    up = env.root / "up"
    assert (up / "alias.txt").read_bytes() == b"payload"
    assert not (up / "alias.txt").is_symlink()
    assert (up / "sub_alias" / "deep.txt").read_bytes() == b"deep"
    assert not (up / "sub_alias").is_symlink()


@pytest.mark.parametrize(
    ("make_link", "message"),
    [
        (lambda e: (e.source_dir / "leak").symlink_to(e.sentinel), "outside the directory"),
        (
            lambda e: (e.source_dir / "sub" / "leak").symlink_to(e.outside, True),
            "outside the directory",
        ),
        (lambda e: (e.source_dir / "sub" / "up").symlink_to("..", True), "loop"),
        (lambda e: (e.source_dir / "dangling").symlink_to(e.top / "missing"), "dangling"),
    ],
    ids=["file-outside", "dir-outside", "loop", "dangling"],
)
def test_upload_refuses_bad_links_before_copying(
    env: Env, make_link: Callable[[Env], None], message: str
) -> None:
    make_link(env)
    before = snapshot(env.top)
    with pytest.raises(InvalidArgument, match=message):
        env.repo.log_artifacts(env.source_dir, "up")
    assert snapshot(env.top) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_are_not_read_listed_or_uploaded(env: Env) -> None:
    os.mkfifo(env.root / "pipe")
    assert "pipe" not in [f.path for f in env.repo.list_artifacts()]
    assert env.repo.file_info("pipe") is None
    with pytest.raises(InvalidArgument, match="not a regular file"):
        env.repo.open_read("pipe")  # refused without blocking on the FIFO
    os.mkfifo(env.source_dir / "pipe")
    with pytest.raises(InvalidArgument, match="regular files and directories"):
        env.repo.log_artifacts(env.source_dir)


def test_every_refusal_is_an_mltrail_error(linked: Env) -> None:
    for name, operation in OPERATIONS.items():
        with pytest.raises(MltrailError):
            operation(linked, "escape_dir/sentinel.txt")
        with pytest.raises(MltrailError):
            operation(linked, "../outside")
        assert linked.sentinel.read_bytes() == b"do not touch", name
