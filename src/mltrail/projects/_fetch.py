"""Where a project's files come from: a local folder, a local git repository, a git URL.

``URI[#subdirectory]``: a local folder (or ``file://`` URI) runs in place; with a version
(``-v``, a commit, branch or tag) its git repository is cloned into a temporary folder and
that version checked out, so the user's working copy is never touched (MLflow checks the
version out in place).  Anything else, and a bare repository on this machine, is a git URL
cloned into a temporary folder (shallowly when no version is asked for).

The run's source tags follow MLflow: ``mlflow.source.name`` is ``file://<work tree>#<folder>``
for a local folder in a git work tree, its absolute path otherwise, and the URI as given for
a git URL; ``mlflow.source.git.commit`` the commit that runs, ``mlflow.source.git.repoURL``
the repository's remote.  ``mlflow.source.git.branch`` is the branch checked out (MLflow
writes it only when ``-v`` names a branch).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from mltrail._exceptions import ExecutionException, InvalidArgument
from mltrail._run_context import (
    GIT_BRANCH_TAG,
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
    GIT_REPO_URL_TAG,
    resolve_run_context_tags,
)

__all__ = ["FetchedProject", "fetch_project", "split_uri"]

_GIT_TIMEOUT_S = 600.0
_SCP_LIKE = re.compile(r"^[\w.+-]+@[\w.-]+:")
# Variables that would point git at another repository than the one named.
_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")
_GIT_TAGS = (GIT_COMMIT_TAG, GIT_BRANCH_TAG, GIT_REPO_URL_TAG, GIT_DIRTY_TAG)


@dataclass
class FetchedProject:
    """A project's folder on this machine and what the run records about its source."""

    work_dir: Path
    source_name: str
    git_tags: dict[str, str] = field(default_factory=dict)
    temp_dir: Path | None = None  # a clone, removed by cleanup()

    def cleanup(self) -> None:
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None


def split_uri(uri: str) -> tuple[str, str]:
    """(location, subdirectory) of ``location#subdirectory``; the subdirectory stays inside."""
    text = uri.strip().strip("'\"")
    location, _, subdirectory = text.partition("#")
    sub = subdirectory.strip("/")
    parts = sub.split("/") if sub else []
    if os.path.isabs(subdirectory) or any(p in ("", ".", "..") for p in parts) or "\0" in sub:
        raise InvalidArgument(
            f"Invalid project URI {uri!r}: the subdirectory after '#' must be a relative path "
            "inside the project, without '.' or '..' parts"
        )
    if not location:
        raise InvalidArgument(f"Invalid project URI {uri!r}: it names no folder or repository")
    return location, sub


def _local_path(location: str) -> Path | None:
    """The local folder *location* names (a path or a ``file://`` URI), or None."""
    if location.startswith("file://"):
        parsed = urllib.parse.urlparse(location)
        if parsed.netloc not in ("", "localhost"):
            return None
        path = Path(urllib.parse.unquote(parsed.path))
    elif "://" in location:
        return None
    else:
        path = Path(location).expanduser()
    return Path(os.path.abspath(path)) if path.is_dir() else None


def _names_a_path(location: str) -> bool:
    """True for a path or file: URI; False for a URL or scp-like git syntax (git@host:repo)."""
    if location.startswith("file:"):
        return True
    return "://" not in location and _SCP_LIKE.match(location) is None


def _is_bare_repository(path: Path) -> bool:
    return (
        (path / "HEAD").is_file()
        and (path / "objects").is_dir()
        and (path / "refs").is_dir()
        and not (path / ".git").exists()
    )


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    env["GIT_TERMINAL_PROMPT"] = "0"  # a missing credential fails instead of waiting for input
    return env


def _git(args: list[str], what: str, cwd: Path | None = None) -> str:
    if shutil.which("git") is None:
        raise ExecutionException(
            f"Fetching the project needs git, which is not on PATH (while {what})"
        )
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=_git_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ExecutionException(f"git took too long while {what}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-2000:]
        raise ExecutionException(f"git failed while {what}: {tail}")
    return done.stdout


def _work_tree(path: Path) -> Path | None:
    """The root of the git work tree holding *path*, or None."""
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _clone(source: str, version: str | None, shallow: bool) -> Path:
    """A temporary clone of *source* with *version* (else its default branch) checked out."""
    target = Path(tempfile.mkdtemp(prefix="mltrail-project-"))
    try:
        if version is None:
            depth = ["--depth", "1"] if shallow else []
            _git(["clone", "--quiet", *depth, source, str(target)], f"cloning {source}")
        else:
            _git(["clone", "--quiet", "--no-checkout", source, str(target)], f"cloning {source}")
            try:
                _git(["checkout", "--quiet", version], f"checking out {version}", target)
            except ExecutionException as exc:
                raise InvalidArgument(
                    f"Invalid version {version!r} of {source}: no commit, branch or tag of that "
                    f"name could be checked out ({exc.message})"
                ) from None
        if (target / ".gitmodules").is_file():
            _git(
                ["submodule", "update", "--init", "--recursive", "--quiet"],
                "fetching submodules",
                target,
            )
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def _git_tags(folder: Path, check_dirty: bool) -> dict[str, str]:
    tags = resolve_run_context_tags(str(folder / "MLproject"), check_dirty=check_dirty)
    return {key: tags[key] for key in _GIT_TAGS if key in tags}


def _project_folder(root: Path, subdirectory: str, uri: str) -> Path:
    folder = root / subdirectory if subdirectory else root
    if not folder.is_dir():
        raise InvalidArgument(f"Invalid project URI {uri!r}: there is no folder {subdirectory!r}")
    return folder


def fetch_project(uri: str, version: str | None = None) -> FetchedProject:
    """The project at *uri* on this machine: in place, or cloned into a temporary folder."""
    location, subdirectory = split_uri(uri)
    local = _local_path(location)
    if local is not None and not _is_bare_repository(local):
        return _fetch_local(local, subdirectory, version, uri)
    if local is None and _names_a_path(location):
        raise InvalidArgument(
            f"Invalid project URI {uri!r}: there is no folder {location!r} and it is not a git URL"
        )
    clone = _clone(location, version, shallow=True)
    try:
        work_dir = _project_folder(clone, subdirectory, uri)
        tags = _git_tags(clone, check_dirty=False)
        tags.pop(GIT_DIRTY_TAG, None)
        return FetchedProject(work_dir, uri.strip().strip("'\""), tags, clone)
    except BaseException:
        shutil.rmtree(clone, ignore_errors=True)
        raise


def _fetch_local(path: Path, subdirectory: str, version: str | None, uri: str) -> FetchedProject:
    folder = _project_folder(path, subdirectory, uri)
    tree = _work_tree(folder)
    if tree is not None:
        relative = folder.relative_to(tree).as_posix()
        source_name = tree.as_uri() + ("" if relative == "." else f"#{relative}")
    else:
        relative = "."
        source_name = str(folder)
    if version is None:
        return FetchedProject(folder, source_name, _git_tags(folder, check_dirty=True))
    if tree is None:
        raise InvalidArgument(
            f"Invalid version {version!r} for {uri!r}: a version (-v) needs a git repository, "
            f"and {folder} is not in one"
        )
    clone = _clone(str(tree), version, shallow=False)
    try:
        tags = _git_tags(clone, check_dirty=False)
        tags.pop(GIT_DIRTY_TAG, None)
        tags.pop(GIT_REPO_URL_TAG, None)  # the clone's origin is the local repository
        original_url = _git_tags(tree, check_dirty=False).get(GIT_REPO_URL_TAG)
        if original_url:
            tags[GIT_REPO_URL_TAG] = original_url
        work_dir = _project_folder(clone / relative, "", uri)
        return FetchedProject(work_dir, source_name, tags, clone)
    except BaseException:
        shutil.rmtree(clone, ignore_errors=True)
        raise
