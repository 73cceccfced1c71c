"""The automatic tags of a new run: who runs what, from where, at which git commit.

``resolve_run_context_tags()`` runs at every ``start_run``, so it is cheap: the git commit, branch
and remote come from reading the repository's files directly (``HEAD``, loose refs,
``packed-refs``, ``config``; linked worktrees and submodules through their ``gitdir:`` file), and
the only subprocess is one ``git status`` with a 2 s timeout for the dirty flag. Nothing is cached:
a long-lived process that commits between runs gets the new commit.

This module imports only ``os`` and ``sys`` at import time.  It sits below the tracking library
and ``mltrail.data``, which both record the run context (a dataset's code source takes its tags).
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

__all__ = [
    "GIT_BRANCH_TAG",
    "GIT_COMMIT_TAG",
    "GIT_DIRTY_TAG",
    "GIT_REPO_URL_TAG",
    "SOURCE_NAME_TAG",
    "SOURCE_TYPE_TAG",
    "USER_TAG",
    "current_user",
    "resolve_run_context_tags",
    "strip_url_credentials",
]

USER_TAG = "mlflow.user"
SOURCE_NAME_TAG = "mlflow.source.name"
SOURCE_TYPE_TAG = "mlflow.source.type"
GIT_COMMIT_TAG = "mlflow.source.git.commit"
GIT_BRANCH_TAG = "mlflow.source.git.branch"
GIT_REPO_URL_TAG = "mlflow.source.git.repoURL"
GIT_DIRTY_TAG = "mltrail.source.git.dirty"

CONSOLE_SOURCE = "<console>"
NOTEBOOK_SOURCE = "<ipykernel>"

_STATUS_TIMEOUT_S = 2.0
# Environment variables that would point a git subprocess at another repository than ours.
_GIT_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)
# Schemes whose user name is an account, not a secret: keep the user, drop any password.
_USER_IS_ACCOUNT_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git", "sftp"})
_HEX = frozenset("0123456789abcdef")


def resolve_run_context_tags(
    entry_point: str | None = None, *, check_dirty: bool = True
) -> dict[str, str]:
    """The automatic tags of a run started now by this process.

    ``mlflow.user``, ``mlflow.source.name`` (absolute path of the running script, ``<console>``
    for ``python -c`` and interactive shells, the notebook path or ``<ipykernel>`` in a Jupyter
    kernel), ``mlflow.source.type`` (``LOCAL`` or ``NOTEBOOK``) and, when the source lives in a
    git work tree, ``mlflow.source.git.commit``, ``.branch`` (omitted on a detached HEAD),
    ``.repoURL`` (remote "origin", else the first remote, without credentials) and
    ``mltrail.source.git.dirty`` (``"true"``/``"false"``; omitted when ``git`` is missing, fails
    or takes longer than 2 s, and when *check_dirty* is false).

    *entry_point*, when given, is the script to report instead of ``sys.argv[0]`` (a path; a
    string with ``://`` is reported as is and git is looked up from the working directory).
    """
    tags = {USER_TAG: _user()}
    source_name, source_type, search_dir = _source(entry_point)
    tags[SOURCE_NAME_TAG] = source_name
    tags[SOURCE_TYPE_TAG] = source_type
    tags.update(_git_tags(search_dir, check_dirty))
    return tags


# -- user and source -------------------------------------------------------------------------


def current_user() -> str:
    """The OS user name, as MLflow records it in ``mlflow.user`` and ``user_id``."""
    return _user()


def _user() -> str:
    import getpass

    try:
        name = getpass.getuser()
    except Exception:  # no USER/LOGNAME and no passwd entry (containers with arbitrary uids)
        return "unknown"
    return name or "unknown"


def _source(entry_point: str | None) -> tuple[str, str, str]:
    """(source name, source type, directory where the git lookup starts)."""
    notebook = _in_ipython_kernel()
    source_type = "NOTEBOOK" if notebook else "LOCAL"
    cwd = _cwd()
    if entry_point:
        if "://" in entry_point:
            return entry_point, source_type, cwd
        path = os.path.abspath(entry_point)
        return path, source_type, os.path.dirname(path)
    if notebook:
        notebook_path = _notebook_path()
        if notebook_path is None:
            return NOTEBOOK_SOURCE, source_type, cwd
        return notebook_path, source_type, os.path.dirname(notebook_path)
    main = sys.argv[0] if sys.argv else ""
    if main in ("", "-c", "-") or (_ipython_shell() is not None and _is_ipython_launcher(main)):
        return CONSOLE_SOURCE, source_type, cwd
    path = os.path.abspath(main)
    return path, source_type, os.path.dirname(path)


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:  # the working directory was deleted
        return os.path.abspath(os.sep)


def _ipython_shell() -> object | None:
    """The running IPython shell, found through ``sys.modules`` (IPython is never imported)."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return None
    try:
        shell: object | None = get_ipython()
    except Exception:
        return None
    return shell


def _is_ipython_launcher(main: str) -> bool:
    """True for the ``ipython`` command itself (not for a script started with ``%run``)."""
    name = os.path.basename(main).lower()
    return name.startswith("ipython") or main.endswith(os.path.join("IPython", "__main__.py"))


def _in_ipython_kernel() -> bool:
    shell = _ipython_shell()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _notebook_path() -> str | None:
    # jupyter-server (2.x) exports the notebook's path to its kernel; VS Code sets a global.
    path = os.environ.get("JPY_SESSION_NAME") or getattr(
        sys.modules.get("__main__"), "__vsc_ipynb_file__", None
    )
    if isinstance(path, str) and path.endswith(".ipynb") and os.path.isabs(path):
        return os.path.normpath(path)
    return None


# -- git ---------------------------------------------------------------------------------------


class _Repo(NamedTuple):
    work_tree: str
    git_dir: str  # where HEAD lives (a linked worktree has its own)
    common_dir: str  # where refs, packed-refs and config live


def _git_tags(start_dir: str, check_dirty: bool) -> dict[str, str]:
    repo = _find_repo(start_dir)
    if repo is None:
        return {}
    tags: dict[str, str] = {}
    commit, branch, readable = _read_head(repo)
    url = _remote_url(repo.common_dir)
    if check_dirty or not readable:
        status = _git_status(repo.work_tree)
        if status is not None:
            dirty, status_commit, status_branch = status
            if check_dirty:
                tags[GIT_DIRTY_TAG] = "true" if dirty else "false"
            if not readable:  # e.g. a reftable repository: trust git's own answer
                commit, branch = status_commit, status_branch
    if commit:
        tags[GIT_COMMIT_TAG] = commit
    if branch:
        tags[GIT_BRANCH_TAG] = branch
    if url:
        tags[GIT_REPO_URL_TAG] = strip_url_credentials(url)
    # Keep the conventional order: commit, branch, repoURL, dirty.
    order = (GIT_COMMIT_TAG, GIT_BRANCH_TAG, GIT_REPO_URL_TAG, GIT_DIRTY_TAG)
    return {key: tags[key] for key in order if key in tags}


def _find_repo(start_dir: str) -> _Repo | None:
    """The work tree containing *start_dir* (walking up like git does), or None."""
    directory = os.path.abspath(start_dir)
    while True:
        repo = _repo_at(directory)
        if repo is not None:
            return repo
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _repo_at(work_tree: str) -> _Repo | None:
    dot_git = os.path.join(work_tree, ".git")
    if os.path.isdir(dot_git):
        git_dir = dot_git
    else:
        text = _read_text(dot_git)  # a linked worktree or a submodule: "gitdir: <path>"
        if text is None or not text.startswith("gitdir:"):
            return None
        git_dir = text[len("gitdir:") :].strip()
        if not git_dir:
            return None
        git_dir = os.path.normpath(os.path.join(work_tree, git_dir))
    if not os.path.isfile(os.path.join(git_dir, "HEAD")):
        return None
    common_dir = git_dir
    common = _read_text(os.path.join(git_dir, "commondir"))
    if common:
        common_dir = os.path.normpath(os.path.join(git_dir, common.strip()))
    return _Repo(work_tree, git_dir, common_dir)


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and set(text) <= _HEX


def _read_head(repo: _Repo) -> tuple[str | None, str | None, bool]:
    """(commit, branch, readable): readable is False when the ref storage is not files-based."""
    head = (_read_text(os.path.join(repo.git_dir, "HEAD")) or "").strip()
    if _is_sha(head):
        return head, None, True  # detached HEAD
    if not head.startswith("ref:"):
        return None, None, False
    ref = head[len("ref:") :].strip()
    if os.path.isdir(os.path.join(repo.common_dir, "reftable")):
        return None, None, False  # refs live in binary tables; let git status answer
    branch = ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else None
    # A branch without commits yet (fresh `git init`) has a name but no commit.
    return _resolve_ref(repo, ref), branch, True


def _resolve_ref(repo: _Repo, ref: str, depth: int = 0) -> str | None:
    parts = ref.split("/")
    if depth > 5 or parts[0] != "refs" or any(p in ("", ".", "..") for p in parts):
        return None
    for base in (repo.git_dir, repo.common_dir):  # per-worktree refs first, then shared ones
        text = _read_text(os.path.join(base, *parts))
        if text is None:
            continue
        value = text.strip()
        if value.startswith("ref:"):
            return _resolve_ref(repo, value[len("ref:") :].strip(), depth + 1)
        return value if _is_sha(value) else None
    return _packed_ref(repo.common_dir, ref)


def _packed_ref(common_dir: str, ref: str) -> str | None:
    text = _read_text(os.path.join(common_dir, "packed-refs"))
    if text is None:
        return None
    for line in text.splitlines():
        if not line or line[0] in "#^":
            continue
        sha, _, name = line.partition(" ")
        if name.strip() == ref and _is_sha(sha):
            return sha
    return None


def _remote_url(common_dir: str) -> str | None:
    """The url of remote "origin", else of the first remote in the repository's config."""
    text = _read_text(os.path.join(common_dir, "config"))
    if text is None:
        return None
    first: str | None = None
    for remote, url in _remote_urls(text):
        if remote == "origin":
            return url
        if first is None:
            first = url
    return first


def _remote_urls(config: str) -> list[tuple[str, str]]:
    """(remote name, url) pairs of a git config file, in file order (first url per remote)."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    section = ""
    subsection: str | None = None
    lines = iter(config.splitlines())
    for raw in lines:
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            section, subsection = _parse_section(line)
            continue
        key, has_value, rest = line.partition("=")
        value, continued = _parse_value(rest) if has_value else ("", False)
        while continued:  # a value ending in a backslash goes on on the next line
            more = next(lines, None)
            if more is None:
                break
            tail, continued = _parse_value(more)
            value += tail
        is_url = section == "remote" and key.strip().lower() == "url"
        if is_url and subsection is not None and subsection not in seen and value:
            seen.add(subsection)
            found.append((subsection, value))
    return found


def _parse_section(line: str) -> tuple[str, str | None]:
    """``[remote "origin"]`` -> ("remote", "origin"); ``[core]`` -> ("core", None)."""
    end = line.rfind("]")
    inner = line[1:end] if end > 0 else line[1:]
    name, sep, rest = inner.partition('"')
    if sep:  # quoted subsection, case-sensitive, with \" and \\ escapes
        chars: list[str] = []
        escaped = False
        for ch in rest:
            if escaped:
                chars.append(ch)
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                break
            else:
                chars.append(ch)
        return name.strip().lower(), "".join(chars)
    section, dot, sub = inner.strip().partition(".")  # deprecated [remote.origin] form
    return section.lower(), (sub.lower() if dot else None)


def _parse_value(text: str) -> tuple[str, bool]:
    """A config value without quotes, escapes and trailing comment; True if it continues."""
    out: list[str] = []
    pending_space = ""
    in_quotes = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 == len(text):
                return "".join(out), True
            nxt = text[i + 1]
            out.append(pending_space + {"n": "\n", "t": "\t", "b": "\b"}.get(nxt, nxt))
            pending_space = ""
            i += 2
            continue
        if ch == '"':
            in_quotes = not in_quotes
        elif not in_quotes and ch in "#;":
            break
        elif not in_quotes and ch in " \t":
            if out:
                pending_space += ch
        else:
            out.append(pending_space + ch)
            pending_space = ""
        i += 1
    return "".join(out), False


def _git_status(work_tree: str) -> tuple[bool, str | None, str | None] | None:
    """(dirty, commit, branch) from one ``git status``, or None if git is absent or fails."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # never take index.lock behind the user's back
    command = [
        "git",
        "-C",
        work_tree,
        "status",
        "--porcelain=v2",
        "--branch",
        "--no-ahead-behind",
        "--untracked-files=no",
    ]
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_STATUS_TIMEOUT_S,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # no git, or it took too long
        return None
    if done.returncode != 0:
        return None
    dirty = False
    commit: str | None = None
    branch: str | None = None
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("# branch.oid "):
            value = line[len("# branch.oid ") :].strip()
            commit = value if _is_sha(value) else None
        elif line.startswith("# branch.head "):
            value = line[len("# branch.head ") :].strip()
            branch = None if value == "(detached)" else value
        elif line and not line.startswith("#"):
            dirty = True
    return dirty, commit, branch


def strip_url_credentials(url: str) -> str:
    """*url* without the secrets it may carry in ``user:password@``.

    ``https://user:token@host/x`` and ``https://token@host/x`` become ``https://host/x``; for
    ssh-like schemes the account name stays (``ssh://git@host/x``) and only a password goes.
    Strings without ``scheme://`` (scp-like ``git@host:org/repo.git``, paths) are unchanged.
    """
    sep = url.find("://")
    if sep <= 0:
        return url
    scheme = url[:sep].lower()
    start = sep + 3
    end = len(url)
    for stop in "/?#":
        pos = url.find(stop, start)
        if pos != -1:
            end = min(end, pos)
    authority = url[start:end]
    if "@" not in authority:
        return url
    userinfo, _, host = authority.rpartition("@")
    if scheme in _USER_IS_ACCOUNT_SCHEMES:
        user = userinfo.partition(":")[0]
        if user:
            host = f"{user}@{host}"
    return url[:start] + host + url[end:]
