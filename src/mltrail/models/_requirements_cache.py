"""A cache of what loading a model imported, so that a model of a kind already seen skips the probe.

:func:`~mltrail.models._env.infer_requirements` loads a model in a fresh interpreter to see which
modules it needs (seconds: the interpreter imports the model's framework).  What that load
imports is decided by three things only, and the cache key holds all three:

- **The environment**: the interpreter (path, version), the ``PYTHON*`` variables (which
  decide the probe's ``sys.path``) and mltrail's version; the working directory too, when a
  relative ``PYTHONPATH`` entry depends on it.  An entry also records the probe's ``sys.path``
  and, for every directory on it, the names of what can be imported from it (modules,
  packages, extension modules) and the name and modification time of every installed
  distribution's metadata (``*.dist-info``, ``*.egg-info``, ``*.pth``), and the size and
  modification time of every mltrail source file the probe ran (its loaders import too); it
  is used only while those are unchanged: installing, upgrading or removing a package, adding
  a module that could shadow one, or editing mltrail's loaders retires it.  The working
  directory heads the probe's ``sys.path``: it is recorded as such, not by its location, so an
  entry serves any working directory that offers the same importable names (usually none).
- **The model's description**: ``MLmodel`` without what differs between two saves of the same
  model (its uuid, creation time, run id and artifact path).
- **The model's files**, reduced to what decides imports: the structure of a skops file (its
  schema without object ids, array file names and the values of JSON-encoded leaves) and of a
  pickle (every opcode and its string and memo arguments, with numbers and byte payloads left
  out), so that the same estimator retrained on other data has the same key; other files (and
  pickles that carry code by value, as cloudpickle writes) by their full content.  The data
  file of a flavor whose loader hands it to the framework's native code only (CatBoost's
  ``model.cb``: ``MLmodel`` names the class and the format) cannot change what a load
  imports, and is left out.

A result is stored only when the probe succeeded and imported no code from outside installed
packages (a model's ``code_paths``, the working directory, an editable install): such code can
change without changing the key.  Entries are small JSON files under
``$XDG_CACHE_HOME/mltrail/requirements`` (``~/.cache/mltrail/requirements``), written atomically
in a private directory; ``MLTRAIL_REQUIREMENTS_CACHE=false`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickletools
import sys
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._version import __version__

__all__ = [
    "CACHE_VARIABLE",
    "cache_dir",
    "cache_enabled",
    "model_key",
    "path_fingerprint",
    "ran_here",
    "read_modules",
    "write_modules",
]

CACHE_VARIABLE = "MLTRAIL_REQUIREMENTS_CACHE"
_FORMAT = 2  # bump to drop every entry after a change of what a key or an entry holds
# Written by finish_save after inference, or never read by a loader.
_UNREAD_FILES = {
    "requirements.txt",
    "python_env.yaml",
    "conda.yaml",
    "input_example.json",
    "serving_input_example.json",
}
# Differ between two saves of one model; no loader reads them.
_VOLATILE_MLMODEL_KEYS = (
    "model_uuid",
    "model_id",  # MLflow 3's logged model id: new for every log_model
    "utc_time_created",
    "run_id",
    "artifact_path",
    "model_size_bytes",
)
_WORKING_DIRECTORY = ""  # how an entry's sys.path names the probe's working directory
_METADATA_SUFFIXES = (".dist-info", ".egg-info", ".pth", ".egg-link")
_MODULE_SUFFIXES = (".py", ".pyc", ".so", ".pyd")
# python_function loaders whose data file only the framework's native code reads.
_NATIVE_DATA_LOADERS = frozenset({"mlflow.catboost"})
_MAX_HASHED_BYTES = 2 << 30  # a model larger than this is probed, not fingerprinted
_CHUNK = 1 << 20
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def cache_enabled() -> bool:
    """False when ``MLTRAIL_REQUIREMENTS_CACHE`` says so (default on)."""
    raw = os.environ.get(CACHE_VARIABLE, "").strip().lower()
    if not raw or raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise InvalidArgument(
        f"Invalid {CACHE_VARIABLE}={raw!r}: expected true or false (1/0, yes/no, on/off)"
    )


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/mltrail/requirements`` (``~/.cache/mltrail/requirements``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mltrail" / "requirements"


# -- the environment ---------------------------------------------------------------------------


def _is_importable_entry(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    if name.endswith(_MODULE_SUFFIXES) or name.endswith(_METADATA_SUFFIXES):
        return True
    if not name.isidentifier():
        return False
    try:
        if not entry.is_dir():
            return False
    except OSError:
        return False
    # A folder without __init__ is a namespace portion: it never shadows a module found
    # elsewhere, and a load that needs it fails (and is not cached) when it is missing.
    return any(
        os.path.exists(os.path.join(entry.path, f"__init__{suffix}")) for suffix in (".py", ".pyc")
    )


def _directory_fingerprint(path: str) -> list[Any]:
    """What *path* on ``sys.path`` offers: its importable names and metadata timestamps."""
    try:
        entries = list(os.scandir(path))
    except NotADirectoryError:
        try:
            stat = os.stat(path)
        except OSError:
            return [path, None]
        return [path, stat.st_size, stat.st_mtime_ns]  # a zip archive
    except OSError:
        return [path, None]
    names = []
    for entry in entries:
        if not _is_importable_entry(entry):
            continue
        if entry.name.endswith(_METADATA_SUFFIXES):
            try:
                names.append(f"{entry.name}@{entry.stat().st_mtime_ns}")
            except OSError:
                names.append(entry.name)
        else:
            names.append(entry.name)
    names.sort()
    return [path, names]


def _stamps(files: Iterable[str]) -> list[Any]:
    """(path, size, modification time) of each file; None for one that is gone."""
    out: list[Any] = []
    for file in sorted(set(files)):
        try:
            stat = os.stat(file)
        except OSError:
            out.append([file, None])
        else:
            out.append([file, stat.st_size, stat.st_mtime_ns])
    return out


def path_fingerprint(paths: Iterable[str]) -> list[Any]:
    """What the directories of a ``sys.path`` offer (see :func:`_directory_fingerprint`); an
    empty entry is the working directory, named as such rather than by its location."""
    seen: set[str] = set()
    directories = []
    for path in paths:
        full = os.path.abspath(path or os.curdir)
        if full not in seen:
            seen.add(full)
            offered = _directory_fingerprint(full)
            if not path:
                offered[0] = _WORKING_DIRECTORY
            directories.append(offered)
    return directories


def ran_here(path: Sequence[str]) -> bool:
    """Whether a probe whose ``sys.path`` is *path* ran in this working directory (``python -m``
    puts its working directory first, unless ``PYTHONSAFEPATH`` is set).  An early probe
    started before a change of directory did not: what it found is not stored."""
    return bool(os.environ.get("PYTHONSAFEPATH")) or (bool(path) and path[0] == os.getcwd())


def _relative_to_working_directory(path: Sequence[str]) -> list[str]:
    here = os.getcwd()
    return [_WORKING_DIRECTORY if entry == here else entry for entry in path]


def _environment() -> dict[str, Any]:
    """What decides the probe's ``sys.path`` and its loaders (the path itself is checked on
    reading an entry: the probe's ``sys.path`` is not this process's)."""
    pythonpath = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    relative = any(entry and not os.path.isabs(entry) for entry in pythonpath)
    return {
        "executable": sys.executable,
        "version": sys.version,
        # a relative PYTHONPATH entry names another directory from another working directory
        "cwd": os.getcwd() if relative else None,
        "variables": sorted((k, v) for k, v in os.environ.items() if k.startswith("PYTHON")),
        "mltrail": _mltrail_version(),
    }


def _mltrail_version() -> str:
    return __version__


# -- the model ---------------------------------------------------------------------------------


class _TooLarge(Exception):
    pass


class _Budget:
    def __init__(self) -> None:
        self.left = _MAX_HASHED_BYTES

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise _TooLarge


def _hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hash_file(path: str, budget: _Budget) -> str:
    budget.spend(os.path.getsize(path))
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _skops_structure(node: Any) -> Any:
    """A skops schema without object ids, array file names and JSON-encoded values."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "__id__":
                continue
            if key == "file" and isinstance(value, str):
                out[key] = "<file>"
            elif key == "content" and node.get("__loader__") == "JsonNode":
                out[key] = "<json>"
            else:
                out[key] = _skops_structure(value)
        return out
    if isinstance(node, list):
        return [_skops_structure(v) for v in node]
    return node


def _skops_digest(path: str, budget: _Budget) -> str | None:
    """The structure digest of a skops zip; None when *path* is not one."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "schema.json" not in names:
                return None
            budget.spend(archive.getinfo("schema.json").file_size)
            schema = json.loads(archive.read("schema.json"))
            others = []
            for name in sorted(names):
                if name == "schema.json":
                    continue
                if name.endswith(".npy"):  # arrays, read with allow_pickle=False
                    others.append("<npy>")
                else:
                    info = archive.getinfo(name)
                    budget.spend(info.file_size)
                    others.append(f"{name}:{_hash_bytes(archive.read(name))}")
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return None
    if not isinstance(schema, dict) or "__loader__" not in schema:
        return None
    text = json.dumps([_skops_structure(schema), others], sort_keys=True)
    return "skops:" + _hash_bytes(text.encode())


_MEMO_OPCODES = {"PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET", "PROTO"}


def _pickle_digest(path: str, budget: _Budget) -> str | None:
    """The structure digest of a pickle; None when *path* is not one or carries code."""
    with open(path, "rb") as f:
        head = f.read(2)
    if len(head) < 2 or head[0] != 0x80 or not 2 <= head[1] <= 5:
        return None
    budget.spend(os.path.getsize(path))
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for opcode, arg, _ in pickletools.genops(f):
                if isinstance(arg, str):
                    if arg.startswith("cloudpickle"):
                        return None  # functions and classes by value: hash it whole
                    part = f"{opcode.name}:{arg}"
                elif opcode.name in _MEMO_OPCODES:
                    part = f"{opcode.name}:{arg}"
                else:
                    part = opcode.name
                digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    except (ValueError, EOFError, UnicodeError):
        return None
    return "pickle:" + digest.hexdigest()


def _file_digest(path: str, budget: _Budget) -> str:
    return _skops_digest(path, budget) or _pickle_digest(path, budget) or _hash_file(path, budget)


def _mlmodel(path: str) -> Any:
    import yaml

    with open(path, encoding="utf-8") as f:
        meta = yaml.safe_load(f)
    if isinstance(meta, dict):
        for key in _VOLATILE_MLMODEL_KEYS:
            meta.pop(key, None)
    return meta


def _model_files(model_path: str) -> Iterable[tuple[str, str]]:
    for folder, dirs, names in os.walk(model_path):
        dirs.sort()
        for name in sorted(names):
            full = os.path.join(folder, name)
            yield os.path.relpath(full, model_path).replace(os.sep, "/"), full


def _native_data_file(meta: Any) -> str | None:
    """The data file of *meta*'s python_function flavor when only native code reads it."""
    flavors = meta.get("flavors") if isinstance(meta, dict) else None
    pyfunc = flavors.get("python_function") if isinstance(flavors, dict) else None
    if not isinstance(pyfunc, dict) or pyfunc.get("loader_module") not in _NATIVE_DATA_LOADERS:
        return None
    data = pyfunc.get("data")
    return data if isinstance(data, str) else None


def _model_fingerprint(model_path: str) -> list[Any]:
    budget = _Budget()
    files: list[Any] = []
    mlmodel = os.path.join(model_path, "MLmodel")
    meta = _mlmodel(mlmodel) if os.path.isfile(mlmodel) else None
    native = _native_data_file(meta)
    for relative, full in _model_files(model_path):
        if relative in _UNREAD_FILES:
            continue
        if relative == "MLmodel":
            files.append([relative, meta])
        elif relative == native:
            files.append([relative, "native"])
        else:
            files.append([relative, _file_digest(full, budget)])
    return files


def model_key(model_path: str) -> str | None:
    """The cache key of the model saved at *model_path*; None when it cannot have one."""
    try:
        fingerprint = {
            "format": _FORMAT,
            "environment": _environment(),
            "model": _model_fingerprint(model_path),
        }
        text = json.dumps(fingerprint, sort_keys=True, default=str)
    except (_TooLarge, OSError, ValueError):
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# -- entries -----------------------------------------------------------------------------------


def _offered(path: Sequence[str], sources: Sequence[str]) -> str:
    """A digest of what the directories on *path* offer and of the *sources*' stamps."""
    state = [path_fingerprint(path), _stamps(sources)]
    return _hash_bytes(json.dumps(state, sort_keys=True).encode("utf-8", "surrogatepass"))


def _entry(key: str) -> Path:
    return cache_dir() / f"{key}.json"


def read_modules(key: str) -> set[str] | None:
    """The modules stored under *key*; None when there is no valid, current entry.

    An entry is current when the directories on the probe's ``sys.path`` still offer what they
    offered when it was written.
    """
    try:
        with open(_entry(key), encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(value, dict) or value.get("format") != _FORMAT:
        return None
    modules, path = value.get("modules"), value.get("path")
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        return None
    if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
        return None
    sources = value.get("sources")
    if not isinstance(sources, list) or not all(isinstance(f, str) for f in sources):
        return None
    if value.get("offered") != _offered(path, sources):
        return None
    return set(modules)


def write_modules(
    key: str, modules: Iterable[str], path: Sequence[str], sources: Sequence[str]
) -> None:
    """Store *modules* under *key*, with what the probe's *path* offers now and the stamps of
    the mltrail *sources* it ran (atomically; a failure to write is ignored: the cache only
    saves time)."""
    relative = _relative_to_working_directory(path)
    folder = cache_dir()
    entry = {
        "format": _FORMAT,
        "modules": sorted(set(modules)),
        "path": relative,
        "sources": sorted(set(sources)),
        "offered": _offered(relative, sources),
    }
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = folder / f".{key}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(entry, f)
        os.replace(temporary, _entry(key))
    except OSError:
        return
