"""Fetching a project: a local folder in place, a local git repository at a version (cloned,
the working copy untouched), a git URL with #subdirectory (cloned); the source tags."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.projects.conftest import git, git_commit, git_init, write_files

from mltrail.exceptions import InvalidArgument
from mltrail.projects import fetch_project


def test_a_plain_folder_runs_in_place(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "p", {"train.py": ""})
    fetched = fetch_project(str(folder))
    assert (fetched.work_dir, fetched.source_name, fetched.git_tags) == (folder, str(folder), {})
    assert fetched.temp_dir is None
    assert fetch_project(folder.as_uri()).work_dir == folder


def test_a_local_repository_and_a_version_of_it(tmp_path: Path) -> None:
    repo = write_files(tmp_path / "repo", {"sub/train.py": "v1\n"})
    first = git_init(repo, remote="https://user:secret@example.com/org/repo.git")
    (repo / "sub" / "train.py").write_text("v2\n")
    second = git_commit(repo, "second")
    (repo / "sub" / "train.py").write_text("uncommitted\n")

    here = fetch_project(f"{repo}#sub")
    assert here.work_dir == repo / "sub"
    assert here.source_name == f"{repo.as_uri()}#sub"
    assert here.git_tags == {
        "mlflow.source.git.commit": second,
        "mlflow.source.git.branch": "main",
        "mlflow.source.git.repoURL": "https://example.com/org/repo.git",
        "mltrail.source.git.dirty": "true",
    }

    old = fetch_project(f"{repo}#sub", version=first)
    try:
        assert old.temp_dir is not None
        assert old.work_dir == old.temp_dir / "sub"
        assert (old.work_dir / "train.py").read_text() == "v1\n"
        assert old.source_name == f"{repo.as_uri()}#sub"
        assert old.git_tags == {
            "mlflow.source.git.commit": first,
            "mlflow.source.git.repoURL": "https://example.com/org/repo.git",
        }
    finally:
        old.cleanup()
    assert old.temp_dir is None
    # The working copy is never checked out (MLflow checks the version out in place).
    assert (repo / "sub" / "train.py").read_text() == "uncommitted\n"
    assert git(repo, "rev-parse", "HEAD") == second

    with pytest.raises(InvalidArgument, match="Invalid version 'nope'"):
        fetch_project(str(repo), version="nope")
    with pytest.raises(InvalidArgument, match="needs a git repository"):
        fetch_project(str(write_files(tmp_path / "plain", {"a.py": ""})), version="main")


def test_a_git_url_with_a_subdirectory_is_cloned(tmp_path: Path) -> None:
    work = write_files(tmp_path / "work", {"projects/one/train.py": "one\n", "other.txt": ""})
    commit = git_init(work)
    git(work, "tag", "v1")
    (work / "projects" / "one" / "train.py").write_text("two\n")
    git_commit(work, "second")
    git(tmp_path, "clone", "--quiet", "--bare", str(work), str(tmp_path / "remote.git"))
    url = (tmp_path / "remote.git").as_uri()

    latest = fetch_project(f"{url}#projects/one")
    try:
        assert (latest.work_dir / "train.py").read_text() == "two\n"
        assert latest.source_name == f"{url}#projects/one"
        assert latest.git_tags["mlflow.source.git.branch"] == "main"
        assert latest.git_tags["mlflow.source.git.repoURL"] == url
    finally:
        latest.cleanup()
    tagged = fetch_project(f"{url}#projects/one", version="v1")
    try:
        assert (tagged.work_dir / "train.py").read_text() == "one\n"
        assert tagged.git_tags["mlflow.source.git.commit"] == commit
        assert "mlflow.source.git.branch" not in tagged.git_tags  # a tag: detached
    finally:
        tagged.cleanup()


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("{root}#../x", "must be a relative path inside the project"),
        ("{root}#/etc", "must be a relative path inside the project"),
        ("{root}#missing", "there is no folder 'missing'"),
        ("{root}/missing", "there is no folder"),
        ("file:///no/such/folder", "there is no folder"),
    ],
)
def test_bad_uris(tmp_path: Path, uri: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        fetch_project(uri.format(root=tmp_path))
