"""A model's requirements from a uv project, as MLflow's ``uv_project_path`` takes them.

A directory holding both ``uv.lock`` and ``pyproject.toml`` is a uv project.  Its pinned
dependencies come from ``uv export`` run against the lock file (frozen, no dev group, no hashes,
no header, no annotations, the project itself left out; ``--group``/``--extra`` for each group
and extra asked for), with ``--extra-index-url <url>`` lines for the private indexes the lock
file names; the project's ``uv.lock``, ``pyproject.toml`` and ``.python-version`` are copied
into the model beside ``requirements.txt``.  As in MLflow, a failing export (uv missing or
older than 0.6.10, a lock out of date) falls back to the usual inference with a warning, and
the current directory is looked at when no project path is given unless
``MLTRAIL_UV_AUTO_DETECT`` (or MLflow's ``MLFLOW_UV_AUTO_DETECT``) is false;
``MLTRAIL_LOG_UV_FILES`` / ``MLFLOW_LOG_UV_FILES`` false keeps the files out of the model.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Sequence

from mltrail._exceptions import InvalidArgument

__all__ = [
    "UV_FILES",
    "copy_uv_project_files",
    "export_uv_requirements",
    "find_uv_project",
    "uv_source_dir",
    "with_locked",
]

_log = logging.getLogger(__name__)

UV_LOCK = "uv.lock"
PYPROJECT = "pyproject.toml"
PYTHON_VERSION = ".python-version"
UV_FILES = (UV_LOCK, PYPROJECT, PYTHON_VERSION)
_MIN_UV_VERSION = (0, 6, 10)
_PYPI = {
    "https://pypi.org/simple",
    "https://pypi.org/simple/",
    "https://pypi.python.org/simple",
    "https://pypi.python.org/simple/",
}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_REGISTRY = re.compile(r"""source\s*=\s*\{\s*registry\s*=\s*["']([^"']+)["']""")


def _flag(name: str, default: bool) -> bool:
    for prefix in ("MLTRAIL_", "MLFLOW_"):
        value = os.environ.get(prefix + name)
        if value is not None:
            return value.strip().lower() in ("true", "1")
    return default


def _names(value: Sequence[str] | None, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not all(isinstance(v, str) and v for v in value):
        raise InvalidArgument(f"Invalid {what} {value!r}: expected a list of names")
    return list(value)


def uv_source_dir(
    uv_project_path: str | os.PathLike[str] | None,
    uv_groups: Sequence[str] | None = None,
    uv_extras: Sequence[str] | None = None,
) -> str | None:
    """The directory to look for a uv project in: *uv_project_path*, else the current directory
    unless auto-detection is off.  Checks the groups' and extras' types."""
    _names(uv_groups, "uv_groups")
    _names(uv_extras, "uv_extras")
    if uv_project_path is not None:
        if not isinstance(uv_project_path, (str, os.PathLike)):
            raise InvalidArgument(
                f"Invalid uv_project_path {uv_project_path!r}: expected a directory path"
            )
        return os.fspath(uv_project_path)
    return os.getcwd() if _flag("UV_AUTO_DETECT", True) else None


def find_uv_project(directory: str) -> tuple[str, str] | None:
    """(``uv.lock``, ``pyproject.toml``) of *directory* when it holds both, else None."""
    lock, pyproject = os.path.join(directory, UV_LOCK), os.path.join(directory, PYPROJECT)
    if os.path.exists(lock) and os.path.exists(pyproject):
        _log.info("Detected uv project: found %s and %s in %s", UV_LOCK, PYPROJECT, directory)
        return lock, pyproject
    return None


def _uv_binary() -> str | None:
    import subprocess  # off `import mltrail.<flavor>`: only a save with uv needs it

    uv = shutil.which("uv")
    if uv is None:
        return None
    try:
        out = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True)
        version = tuple(int(p) for p in out.stdout.split()[1].split(".")[:3])
    except (subprocess.CalledProcessError, IndexError, ValueError, OSError):
        return None
    return uv if version >= _MIN_UV_VERSION else None


def _private_indexes(lock: str) -> list[str]:
    try:
        with open(lock, encoding="utf-8") as f:
            urls = set(_REGISTRY.findall(f.read()))
    except OSError:
        return []
    return sorted(url for url in urls if url.lower() not in _PYPI)


def export_uv_requirements(
    directory: str,
    groups: Sequence[str] | None = None,
    extras: Sequence[str] | None = None,
) -> list[str] | None:
    """The requirements ``uv export`` gives for the uv project in *directory* (private index
    URLs first), or None when there is no project or the export fails (a warning says why)."""
    import subprocess  # off `import mltrail.<flavor>`: only a save with uv needs it

    project = find_uv_project(directory)
    if project is None:
        if groups or extras:
            _log.warning(
                "uv_groups and/or uv_extras were given but %s holds no uv project (uv.lock and "
                "pyproject.toml): they are ignored and the requirements are inferred",
                directory,
            )
        return None
    uv = _uv_binary()
    if uv is None:
        _log.warning("uv (0.6.10 or newer) is not installed: inferring the requirements instead")
        return None
    command = [uv, "export", "--no-dev", "--no-hashes", "--frozen"]
    for group in _names(groups, "uv_groups"):
        command += ["--group", group]
    for extra in _names(extras, "uv_extras"):
        command += ["--extra", extra]
    command += ["--no-header", "--no-emit-project", "--no-annotate"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=directory)
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", None) or exc
        _log.warning("uv export failed (%s): inferring the requirements instead", detail)
        return None
    lines = [line.strip() for line in done.stdout.splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]
    if not requirements:
        _log.warning("uv export returned no requirements: inferring them instead")
        return None
    indexes = [f"--extra-index-url {url}" for url in _private_indexes(project[0])]
    if indexes:
        _log.warning(
            "The uv lock file names private package indexes: their credentials must be "
            "available (UV_INDEX_* variables or .netrc) when the model's environment is built"
        )
    return indexes + requirements


def _name(requirement: str) -> str | None:
    found = _NAME.match(requirement)
    return re.sub(r"[-_.]+", "-", found.group(1)).lower() if found else None


def with_locked(exported: Sequence[str], defaults: Sequence[str]) -> list[str]:
    """The exported requirements and the flavor's *defaults* not pinned by the lock file,
    sorted (MLflow's order, the library's own pin put first by the caller)."""
    locked = {_name(r) for r in exported}
    return sorted({*exported, *(r for r in defaults if _name(r) not in locked)})


def copy_uv_project_files(dest_dir: str, source_dir: str) -> bool:
    """Copy the uv project's files of *source_dir* into the model directory *dest_dir*."""
    if not _flag("LOG_UV_FILES", True):
        return False
    project = find_uv_project(source_dir)
    if project is None:
        return False
    for source in (*project, os.path.join(source_dir, PYTHON_VERSION)):
        if os.path.exists(source):
            shutil.copy2(source, os.path.join(dest_dir, os.path.basename(source)))
    return True
