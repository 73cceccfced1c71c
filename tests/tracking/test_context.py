"""Automatic run tags, checked against real git repositories built with the git CLI."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from mltrail import _run_context as _context
from mltrail._run_context import resolve_run_context_tags, strip_url_credentials

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git CLI")

COMMIT = "mlflow.source.git.commit"
BRANCH = "mlflow.source.git.branch"
REPO_URL = "mlflow.source.git.repoURL"
DIRTY = "mltrail.source.git.dirty"
GIT_KEYS = {COMMIT, BRANCH, REPO_URL, DIRTY}


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git must not read the machine's or the user's configuration."""
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"):
        monkeypatch.delenv(var, raising=False)


def git(cwd: Path, *args: str) -> str:
    command = [
        "git",
        "-c",
        "user.name=Test User",
        "-c",
        "user.email=test@example.com",
        "-c",
        "init.defaultBranch=main",
        "-c",
        "commit.gpgsign=false",
        *args,
    ]
    done = subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q")
    (path / "train.py").write_text("print('train')\n")
    (path / "data.csv").write_text("x\n1\n")
    git(path, "add", "train.py", "data.csv")
    git(path, "commit", "-q", "-m", "first")
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with a committed train.py, which is the running script."""
    path = make_repo(tmp_path / "project")
    monkeypatch.setattr(sys, "argv", [str(path / "train.py"), "--epochs", "3"])
    return path


def inside_some_repo(path: Path) -> bool:
    return any((p / ".git").exists() for p in [path, *path.parents])


# -- user and source ---------------------------------------------------------------------------


def test_user_and_script_source(repo: Path) -> None:
    tags = resolve_run_context_tags()
    assert tags["mlflow.user"] == getpass.getuser()
    assert tags["mlflow.source.name"] == str(repo / "train.py")
    assert tags["mlflow.source.type"] == "LOCAL"


def test_relative_script_path_is_made_absolute(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    monkeypatch.setattr(sys, "argv", ["train.py"])
    tags = resolve_run_context_tags()
    assert tags["mlflow.source.name"] == str(repo / "train.py")
    assert COMMIT in tags


def test_user_falls_back_to_unknown(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_user() -> str:
        raise OSError("no user name")

    monkeypatch.setattr(getpass, "getuser", no_user)
    assert resolve_run_context_tags()["mlflow.user"] == "unknown"


@pytest.mark.parametrize("argv", [[""], ["-c"], []])
def test_console_source_looks_for_git_from_the_working_directory(
    repo: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.chdir(repo)
    tags = resolve_run_context_tags()
    assert tags["mlflow.source.name"] == "<console>"
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags[COMMIT] == git(repo, "rev-parse", "HEAD")


def test_entry_point_overrides_the_script(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "elsewhere.py")])
    tags = resolve_run_context_tags(entry_point=str(repo / "train.py"))
    assert tags["mlflow.source.name"] == str(repo / "train.py")
    assert tags[COMMIT] == git(repo, "rev-parse", "HEAD")


def _fake_ipython(monkeypatch: pytest.MonkeyPatch, *, kernel: bool) -> None:
    shell = types.SimpleNamespace(kernel=object() if kernel else None)
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", module)


def test_notebook_kernel_is_detected_without_importing_ipython(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setattr(sys, "argv", ["/venv/lib/ipykernel_launcher.py", "-f", "kernel.json"])
    monkeypatch.chdir(repo)
    _fake_ipython(monkeypatch, kernel=True)
    tags = resolve_run_context_tags()
    assert tags["mlflow.source.type"] == "NOTEBOOK"
    assert tags["mlflow.source.name"] == "<ipykernel>"
    assert tags[COMMIT] == git(repo, "rev-parse", "HEAD")


def test_notebook_path_from_jupyter_server(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = repo / "explore.ipynb"
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))
    _fake_ipython(monkeypatch, kernel=True)
    tags = resolve_run_context_tags()
    assert tags["mlflow.source.name"] == str(notebook)
    assert tags["mlflow.source.type"] == "NOTEBOOK"
    assert tags[COMMIT] == git(repo, "rev-parse", "HEAD")


def test_terminal_ipython_is_a_console(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/usr/bin/ipython3"])
    _fake_ipython(monkeypatch, kernel=False)
    tags = resolve_run_context_tags()
    assert tags["mlflow.source.name"] == "<console>"
    assert tags["mlflow.source.type"] == "LOCAL"
    # A script started from IPython with %run is still that script.
    monkeypatch.setattr(sys, "argv", [str(repo / "train.py")])
    assert resolve_run_context_tags()["mlflow.source.name"] == str(repo / "train.py")


# -- git ---------------------------------------------------------------------------------------


def test_git_tags_of_a_clean_checkout(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://example.com/team/project.git")
    tags = resolve_run_context_tags()
    assert tags[COMMIT] == git(repo, "rev-parse", "HEAD")
    assert len(tags[COMMIT]) == 40
    assert tags[BRANCH] == "main"
    assert tags[REPO_URL] == "https://example.com/team/project.git"
    assert tags[DIRTY] == "false"


def test_script_in_a_subdirectory(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "src" / "pkg").mkdir(parents=True)
    monkeypatch.setattr(sys, "argv", [str(repo / "src" / "pkg" / "job.py")])
    assert resolve_run_context_tags()[COMMIT] == git(repo, "rev-parse", "HEAD")


def test_dirty_flag_both_ways(repo: Path) -> None:
    assert resolve_run_context_tags()[DIRTY] == "false"
    (repo / "notes.txt").write_text("untracked files do not count\n")
    assert resolve_run_context_tags()[DIRTY] == "false"
    (repo / "train.py").write_text("print('changed')\n")
    assert resolve_run_context_tags()[DIRTY] == "true"
    git(repo, "add", "train.py")  # staged but not committed is still dirty
    assert resolve_run_context_tags()[DIRTY] == "true"
    git(repo, "commit", "-q", "-m", "second")
    assert resolve_run_context_tags()[DIRTY] == "false"
    (repo / "data.csv").unlink()
    assert resolve_run_context_tags()[DIRTY] == "true"


def test_fresh_commit_is_seen_by_the_next_call(repo: Path) -> None:
    first = resolve_run_context_tags()[COMMIT]
    (repo / "train.py").write_text("print('v2')\n")
    git(repo, "commit", "-q", "-am", "v2")
    second = resolve_run_context_tags()[COMMIT]
    assert first != second == git(repo, "rev-parse", "HEAD")


def test_other_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature/fast-loader")
    assert resolve_run_context_tags()[BRANCH] == "feature/fast-loader"


def test_detached_head_has_commit_but_no_branch(repo: Path) -> None:
    (repo / "train.py").write_text("print('v2')\n")
    git(repo, "commit", "-q", "-am", "v2")
    first = git(repo, "rev-parse", "HEAD~1")
    git(repo, "checkout", "-q", "--detach", first)
    tags = resolve_run_context_tags()
    assert tags[COMMIT] == first
    assert BRANCH not in tags
    assert tags[DIRTY] == "false"


def test_packed_refs(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "packed")
    git(repo, "pack-refs", "--all", "--prune")
    assert not (repo / ".git" / "refs" / "heads" / "packed").exists()
    assert "refs/heads/packed" in (repo / ".git" / "packed-refs").read_text()
    tags = resolve_run_context_tags()
    assert tags[COMMIT] == git(repo, "rev-parse", "HEAD")
    assert tags[BRANCH] == "packed"


def test_loose_ref_wins_over_a_stale_packed_one(repo: Path) -> None:
    git(repo, "pack-refs", "--all")
    (repo / "train.py").write_text("print('v2')\n")
    git(repo, "commit", "-q", "-am", "v2")  # writes a loose ref newer than packed-refs
    assert resolve_run_context_tags()[COMMIT] == git(repo, "rev-parse", "HEAD")


def test_linked_worktree(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "remote", "add", "origin", "git@example.com:team/project.git")
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "experiment", str(worktree))
    assert (worktree / ".git").is_file()
    (worktree / "train.py").write_text("print('experiment')\n")
    git(worktree, "commit", "-q", "-am", "experiment")
    monkeypatch.setattr(sys, "argv", [str(worktree / "train.py")])
    tags = resolve_run_context_tags()
    assert tags[COMMIT] == git(worktree, "rev-parse", "HEAD") != git(repo, "rev-parse", "HEAD")
    assert tags[BRANCH] == "experiment"
    assert tags[REPO_URL] == "git@example.com:team/project.git"
    assert tags[DIRTY] == "false"
    (worktree / "data.csv").write_text("x\n2\n")
    assert resolve_run_context_tags()[DIRTY] == "true"
    # The main checkout is unaffected.
    monkeypatch.setattr(sys, "argv", [str(repo / "train.py")])
    main_tags = resolve_run_context_tags()
    assert main_tags[BRANCH] == "main"
    assert main_tags[DIRTY] == "false"


def test_gitdir_file_with_a_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    git(tmp_path, "init", "-q", f"--separate-git-dir={tmp_path / 'store.git'}", str(work))
    (work / ".git").write_text("gitdir: ../store.git\n")
    (work / "run.py").write_text("print(1)\n")
    git(work, "add", "run.py")
    git(work, "commit", "-q", "-m", "first")
    monkeypatch.setattr(sys, "argv", [str(work / "run.py")])
    tags = resolve_run_context_tags()
    assert tags[COMMIT] == git(work, "rev-parse", "HEAD")
    assert tags[BRANCH] == "main"
    assert tags[DIRTY] == "false"


def test_repository_without_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "fresh"
    path.mkdir()
    git(path, "init", "-q")
    monkeypatch.setattr(sys, "argv", [str(path / "train.py")])
    tags = resolve_run_context_tags()
    assert COMMIT not in tags
    assert tags[BRANCH] == "main"


def test_credentials_are_stripped_from_the_repo_url(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://alice:s3cr3t-token@example.com/team/project.git")
    tags = resolve_run_context_tags()
    assert tags[REPO_URL] == "https://example.com/team/project.git"
    assert not any("s3cr3t" in value or "alice" in value for value in tags.values())


def test_first_remote_when_there_is_no_origin(repo: Path) -> None:
    git(repo, "remote", "add", "upstream", "https://example.com/upstream/project.git")
    git(repo, "remote", "add", "backup", "https://example.com/backup/project.git")
    assert resolve_run_context_tags()[REPO_URL] == "https://example.com/upstream/project.git"
    git(repo, "remote", "add", "origin", "https://example.com/origin/project.git")
    assert resolve_run_context_tags()[REPO_URL] == "https://example.com/origin/project.git"


def test_no_remote_no_repo_url(repo: Path) -> None:
    assert REPO_URL not in resolve_run_context_tags()


def test_non_git_directory_gives_no_git_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    if inside_some_repo(plain):
        pytest.skip("the temporary directory is inside a git repository")
    monkeypatch.setattr(sys, "argv", [str(plain / "train.py")])
    tags = resolve_run_context_tags()
    assert set(tags) == {"mlflow.user", "mlflow.source.name", "mlflow.source.type"}


def test_without_git_the_dirty_flag_is_omitted(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_bin = tmp_path / "no-git-here"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    tags = resolve_run_context_tags()
    assert DIRTY not in tags
    assert tags[COMMIT] == git_with_path(repo, "rev-parse", "HEAD")
    assert tags[BRANCH] == "main"


def git_with_path(repo: Path, *args: str) -> str:
    real_git = shutil.which("git", path=os.defpath) or "/usr/bin/git"
    return subprocess.run(
        [real_git, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.skipif(sys.platform == "win32", reason="uses a shell script as a fake git")
def test_a_hanging_git_status_is_abandoned(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_bin = tmp_path / "slow-bin"
    fake_bin.mkdir()
    fake_git = fake_bin / "git"
    fake_git.write_text("#!/bin/sh\nexec sleep 30\n")
    fake_git.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(_context, "_STATUS_TIMEOUT_S", 0.3)
    statuses: list[tuple[object, str]] = []
    run = subprocess.run

    def watched(*args: Any, **kwargs: Any) -> Any:
        try:
            done = run(*args, **kwargs)
        except subprocess.TimeoutExpired:
            statuses.append((kwargs.get("timeout"), "timed out"))
            raise
        statuses.append((kwargs.get("timeout"), "finished"))
        return done

    monkeypatch.setattr(subprocess, "run", watched)
    tags = resolve_run_context_tags()
    # The one `git status` was given up after its timeout (the fake one sleeps 30 s).
    assert statuses == [(0.3, "timed out")]
    assert DIRTY not in tags
    assert COMMIT in tags


def test_git_dir_in_the_environment_does_not_mislead_the_status(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_repo(tmp_path / "other")
    (other / "train.py").write_text("dirty elsewhere\n")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    assert resolve_run_context_tags()[DIRTY] == "false"


def test_check_dirty_false_runs_no_subprocess(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("no subprocess expected")

    monkeypatch.setattr(subprocess, "run", forbidden)
    tags = resolve_run_context_tags(check_dirty=False)
    assert DIRTY not in tags
    assert tags[BRANCH] == "main"


def test_tags_are_all_strings(repo: Path) -> None:
    tags = resolve_run_context_tags()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items())
    assert GIT_KEYS - {REPO_URL} <= set(tags)


# -- pieces ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pass@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://ghp_token@github.com/o/r.git", "https://github.com/o/r.git"),
        ("http://u:p@host:8080/r?x=1#frag", "http://host:8080/r?x=1#frag"),
        ("HTTPS://u:p@host", "HTTPS://host"),
        ("https://u:p%40x@host/r", "https://host/r"),
        ("https://github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://host/path/with@sign", "https://host/path/with@sign"),
        ("ssh://git@github.com/o/r.git", "ssh://git@github.com/o/r.git"),
        ("ssh://git:secret@github.com/o/r.git", "ssh://git@github.com/o/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("/srv/git/r.git", "/srv/git/r.git"),
        ("file:///srv/git/r.git", "file:///srv/git/r.git"),
    ],
)
def test_strip_url_credentials(url: str, expected: str) -> None:
    assert strip_url_credentials(url) == expected


def test_config_parsing_of_unusual_but_valid_files() -> None:
    config = "\n".join(
        [
            "# comment",
            "[core]",
            "\tbare = false",
            '[Remote "Fork"]',
            '\tURL = "https://example.com/fork.git" ; trailing comment',
            "[remote.legacy]",
            "\turl = https://example.com/legacy.git # comment",
            '[remote "split"]',
            "\turl = https://example.com/\\",
            "split.git",
            '[remote "origin"]',
            "\tfetch = +refs/heads/*:refs/remotes/origin/*",
            "\turl=https://example.com/first.git",
            "\turl = https://example.com/second.git",
        ]
    )
    assert _context._remote_urls(config) == [
        ("Fork", "https://example.com/fork.git"),
        ("legacy", "https://example.com/legacy.git"),
        ("split", "https://example.com/split.git"),
        ("origin", "https://example.com/first.git"),
    ]


def test_import_is_light(tmp_path: Path) -> None:
    """Importing the module loads only stdlib modules.

    ``import mltrail`` loads it already, so the probe executes its file (and ``_run_names``'s)
    in a fresh interpreter outside the package and records what that loads.
    """
    import mltrail

    package = Path(mltrail.__file__).resolve().parent
    paths = [str(package / "_run_context.py"), str(package / "_run_names.py")]
    probe = (
        "import sys, json, importlib.util\n"
        "before = set(sys.modules)\n"
        f"for i, path in enumerate({paths!r}):\n"
        "    spec = importlib.util.spec_from_file_location(f'_probe{i}', path)\n"
        "    module = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pycache")
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    new_modules = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert {m.split(".")[0] for m in new_modules} <= set(sys.stdlib_module_names)
