"""get_artifact_repository: built-in local paths and entry-point lookup by scheme."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from importlib import metadata
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts import LocalArtifactRepository, _registry, get_artifact_repository

FAKE_MODULE = '''
from mltrail.artifacts.local import LocalArtifactRepository


class FakeRepository(LocalArtifactRepository):
    """Serves fake://<name> from a directory named in ROOT."""

    ROOT = "."

    def __init__(self, artifact_uri):
        super().__init__(self.ROOT + "/" + artifact_uri.split("://", 1)[1])
        self.artifact_uri = artifact_uri


def not_a_repository(artifact_uri):
    return object()


NOT_CALLABLE = 42
'''


@pytest.fixture(autouse=True)
def clear_caches() -> Iterator[None]:
    _registry._entry_points.cache_clear()
    _registry._factory.cache_clear()
    yield
    _registry._entry_points.cache_clear()
    _registry._factory.cache_clear()


@pytest.fixture
def fake_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Install a plugin module and entry points for it; return the list of lookups made."""
    module = f"mltrail_fake_repo_{uuid.uuid4().hex}"
    (tmp_path / f"{module}.py").write_text(FAKE_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    group = _registry.ENTRY_POINT_GROUP
    points = [
        EntryPoint("fake", f"{module}:FakeRepository", group),
        EntryPoint("FAKE", "elsewhere:Shadowed", group),  # same scheme later: ignored
        EntryPoint("odd", f"{module}:not_a_repository", group),
        EntryPoint("num", f"{module}:NOT_CALLABLE", group),
        EntryPoint("gone", "mltrail_no_such_module_xyz:Repo", group),
    ]
    calls: list[str] = []

    def entry_points(*, group: str) -> list[EntryPoint]:
        calls.append(group)
        return [p for p in points if p.group == group]

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    return calls


def test_local_paths_and_file_uris(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for uri, root in [
        (str(tmp_path / "a"), tmp_path / "a"),
        ((tmp_path / "b").as_uri(), tmp_path / "b"),
        ("FILE://" + str(tmp_path / "c"), tmp_path / "c"),
        ("mlruns/0/abc/artifacts", tmp_path / "mlruns" / "0" / "abc" / "artifacts"),
        ("./rel", tmp_path / "rel"),
    ]:
        repo = get_artifact_repository(uri)
        assert type(repo) is LocalArtifactRepository, uri
        assert repo.root == str(root), uri
        assert repo.artifact_uri == uri


def test_unknown_scheme_names_it(fake_entry_points: list[str]) -> None:
    with pytest.raises(InvalidArgument) as info:
        get_artifact_repository("s3://bucket/path")
    message = str(info.value)
    assert "'s3'" in message
    assert "known schemes: fake, file, gone, num, odd" in message


@pytest.mark.parametrize("uri", ["", None, 3])
def test_bad_uri_values(uri: object) -> None:
    with pytest.raises(InvalidArgument, match="artifact URI"):
        get_artifact_repository(uri)  # type: ignore[arg-type]


def test_entry_point_lookup_is_by_lowercase_scheme_and_cached(
    fake_entry_points: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = get_artifact_repository("fake://one")
    monkeypatch.setattr(type(first), "ROOT", str(tmp_path / "fake-root"))
    second = get_artifact_repository("Fake://two")
    assert type(first).__name__ == "FakeRepository"
    assert type(second) is type(first)
    assert second.artifact_uri == "Fake://two"
    second.write_stream("x.txt", [b"x"])
    assert (tmp_path / "fake-root" / "two" / "x.txt").read_bytes() == b"x"
    assert fake_entry_points == [_registry.ENTRY_POINT_GROUP]  # metadata read once


def test_a_factory_must_return_a_repository(fake_entry_points: list[str]) -> None:
    with pytest.raises(TypeError, match="not an ArtifactRepository"):
        get_artifact_repository("odd://x")
    with pytest.raises(TypeError, match="not callable"):
        get_artifact_repository("num://x")


def test_a_plugin_that_cannot_be_imported(fake_entry_points: list[str]) -> None:
    with pytest.raises(InvalidArgument, match=r"'gone'.*cannot be imported"):
        get_artifact_repository("gone://x")


def test_file_scheme_does_not_need_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*, group: str) -> list[EntryPoint]:
        raise AssertionError("entry points read for a local path")

    monkeypatch.setattr(metadata, "entry_points", broken)
    assert isinstance(get_artifact_repository("file:///tmp/x"), LocalArtifactRepository)
    assert isinstance(get_artifact_repository("/tmp/x"), LocalArtifactRepository)
