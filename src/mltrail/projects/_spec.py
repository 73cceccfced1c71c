"""The MLproject file, as MLflow reads it, with the errors MLflow leaves to a crash.

::

    name: tutorial
    python_env: python_env.yaml        # or conda_env: conda.yaml, or docker_env: {image: ...}
    entry_points:
      main:
        parameters:
          alpha: {type: float, default: 0.5}
          data: path                   # a type alone: a required parameter
        command: "python train.py --alpha {alpha} --data {data}"

Parameter types are ``string`` (the default), ``float``, ``int``, ``path`` and ``uri``.  A
parameter with no default is required.  Values are checked against their type (MLflow does
not check ``float`` and ``int``), ``path`` values are made absolute local paths that must
exist, and every value is shell-quoted (``shlex.quote``) where the command names it.
Parameters the entry point does not declare are appended as ``--name value``.

A folder without an MLproject file runs a ``.py`` file with ``python`` and a ``.sh`` file
with ``$SHELL`` (else ``bash``), named as the entry point.  Without an environment key the
project uses ``python_env.yaml`` or ``conda.yaml`` when the folder has one.

Every error in the file is an :class:`~mltrail.exceptions.InvalidArgument` naming the file,
the line and the rule.
"""

from __future__ import annotations

import os
import shlex
import string
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mltrail._exceptions import InvalidArgument

__all__ = [
    "CONDA_ENV",
    "DOCKER_ENV",
    "MLPROJECT_FILE",
    "PARAMETER_TYPES",
    "PYTHON_ENV",
    "Download",
    "EntryPoint",
    "Parameter",
    "Project",
    "load_project",
]

MLPROJECT_FILE = "MLproject"
PYTHON_ENV = "python_env"
CONDA_ENV = "conda_env"
DOCKER_ENV = "docker_env"
_ENV_KEYS = (PYTHON_ENV, CONDA_ENV, DOCKER_ENV)
DEFAULT_PYTHON_ENV_FILE = "python_env.yaml"
DEFAULT_CONDA_FILE = "conda.yaml"
PARAMETER_TYPES = ("string", "float", "int", "path", "uri")
_SCRIPT_RUNNERS = {".py": "python", ".sh": None}  # None: $SHELL, else bash

_Key = tuple[str, ...]


class _Source:
    """Where the project's text came from: the file's name and each key's line."""

    def __init__(self, path: Path | None, lines: Mapping[_Key, int]) -> None:
        self.path = path
        self.lines = lines

    def where(self, key: _Key = ()) -> str:
        if self.path is None:
            return "the project"
        for end in range(len(key), 0, -1):
            line = self.lines.get(key[:end])
            if line is not None:
                return f"{self.path}, line {line}"
        return str(self.path)


#: Fetches a remote ``path`` value (a URI) into a local folder: (uri, folder) -> local path.
Download = Callable[[str, Path], str]


@dataclass(frozen=True)
class Parameter:
    """A declared parameter of an entry point: its type and default (None: required)."""

    name: str
    type: str = "string"
    default: str | None = None

    def resolve(
        self,
        value: Any,
        where: str,
        storage_dir: Path | None = None,
        download: Download | None = None,
    ) -> str:
        """*value* checked against the type, as the text the command receives (unquoted).

        With *storage_dir*, a ``path`` is made an absolute local path that must exist (a local
        one relative to the working directory of ``mltrail run``; a remote URI is downloaded
        with *download* into a folder of *storage_dir*); without, it is returned as given
        (the value logged as the run's parameter).
        """
        text = str(value)
        if self.type == "float":
            try:
                float(text)
            except ValueError:
                raise self._invalid(text, where, "a number such as 0.5 or 1e-3") from None
        elif self.type == "int":
            try:
                int(text)
            except ValueError:
                raise self._invalid(text, where, "a whole number such as 10") from None
        elif self.type == "uri":
            if not urllib.parse.urlparse(text).scheme:
                raise self._invalid(
                    text, where, "a URI with a scheme, such as s3://bucket/data or file:///data"
                )
        elif self.type == "path" and storage_dir is not None:
            return self._path(text, where, storage_dir, download)
        return text

    def _invalid(self, text: str, where: str, expected: str) -> InvalidArgument:
        return InvalidArgument(
            f"Invalid value {text!r} for parameter '{self.name}' ({where}): type {self.type} "
            f"expects {expected}"
        )

    def _path(self, text: str, where: str, storage_dir: Path, download: Download | None) -> str:
        parsed = urllib.parse.urlparse(text)
        if parsed.scheme == "file" and not parsed.netloc:
            local = urllib.parse.unquote(parsed.path)
        elif len(parsed.scheme) > 1:  # a remote URI (one letter: a Windows drive)
            if download is None:
                raise self._invalid(text, where, "a local file or folder")
            folder = storage_dir / f"param_{self.name}"
            folder.mkdir(parents=True, exist_ok=True)
            return download(text, folder)
        else:
            local = text
        if not os.path.exists(local):
            raise self._invalid(text, where, "an existing file or folder; there is none there")
        return os.path.abspath(local)


@dataclass(frozen=True)
class EntryPoint:
    """An entry point: a command template and the parameters it declares."""

    name: str
    command: str
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    source: _Source = field(default_factory=lambda: _Source(None, {}), compare=False, repr=False)

    def _where(self, *key: str) -> str:
        return self.source.where(("entry_points", self.name, *key))

    def _given(self, values: Mapping[str, Any] | None) -> dict[str, Any]:
        given = dict(values or {})
        missing = [n for n, p in self.parameters.items() if p.default is None and n not in given]
        if missing:
            names = ", ".join(f"'{n}'" for n in missing)
            raise InvalidArgument(
                f"No value given for the required parameters {names} of entry point "
                f"'{self.name}' ({self._where('parameters', missing[0])}): pass them with -P "
                "name=value"
            )
        return given

    def parameter_values(
        self,
        values: Mapping[str, Any] | None,
        storage_dir: Path | None = None,
        download: Download | None = None,
    ) -> tuple[dict[str, str], dict[str, str]]:
        """(declared, extra): every declared parameter's value (given or default), checked,
        and the given parameters the entry point does not declare.

        With *storage_dir*, ``path`` values are resolved to absolute local paths (for the
        command); without, they stay as given (the values logged as the run's parameters).
        """
        given = self._given(values)
        declared: dict[str, str] = {}
        for name, parameter in self.parameters.items():
            if name in given:
                value, where = given[name], f"entry point '{self.name}'"
            else:
                value, where = parameter.default, self._where("parameters", name)
            declared[name] = parameter.resolve(value, where, storage_dir, download)
        extra = {str(k): str(v) for k, v in given.items() if k not in self.parameters}
        return declared, extra

    def compute_command(
        self,
        values: Mapping[str, Any] | None,
        storage_dir: Path,
        download: Download | None = None,
    ) -> str:
        """The shell command, parameters substituted (shell-quoted) and extras appended."""
        declared, extra = self.parameter_values(values, storage_dir, download)
        where = f"Invalid command of entry point '{self.name}' ({self._where('command')})"
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(self.command) if f is not None]
            unknown = [f for f in fields if f not in declared]
            if unknown:
                shown = "{" + unknown[0] + "}"
                raise InvalidArgument(
                    f"{where}: {shown} names no declared parameter (write {{{{ and }}}} for "
                    "literal braces)"
                )
            command = self.command.format(**{k: shlex.quote(v) for k, v in declared.items()})
        except (ValueError, IndexError) as exc:
            raise InvalidArgument(f"{where}: {exc}") from None
        tail = [f"--{shlex.quote(k)} {shlex.quote(v)}" for k, v in extra.items()]
        return " ".join([command, *tail])


@dataclass(frozen=True)
class Project:
    """A loaded project: its entry points and the environment it declares.

    *env_type* is ``python_env``, ``conda_env``, ``docker_env`` or None (no environment
    declared); *env_file* the environment file's absolute path when there is one.
    """

    directory: Path
    name: str | None = None
    entry_points: Mapping[str, EntryPoint] = field(default_factory=dict)
    env_type: str | None = None
    env_file: Path | None = None
    docker_env: Mapping[str, Any] | None = None
    mlproject_file: Path | None = None

    def get_entry_point(self, name: str) -> EntryPoint:
        """The entry point *name*, or a ``.py``/``.sh`` file of the project run as a script."""
        found = self.entry_points.get(name)
        if found is not None:
            return found
        extension = os.path.splitext(name)[1]
        known = ", ".join(f"'{n}'" for n in self.entry_points) or "none"
        if extension not in _SCRIPT_RUNNERS:
            raise InvalidArgument(
                f"Invalid entry point '{name}': the project declares no such entry point "
                f"(it has {known}) and it is not a .py or .sh script to run by its file name"
            )
        script = (self.directory / name).resolve()
        if not script.is_relative_to(self.directory.resolve()) or not script.is_file():
            raise InvalidArgument(
                f"Invalid entry point '{name}': the project declares no such entry point "
                f"(it has {known}) and there is no file {name} in {self.directory}"
            )
        runner = _SCRIPT_RUNNERS[extension] or os.environ.get("SHELL") or "bash"
        return EntryPoint(name, f"{runner} {shlex.quote(name)}")


# -- loading -------------------------------------------------------------------------------------


def _find_mlproject(directory: Path) -> Path | None:
    """MLflow's lookup: a file named ``MLproject`` in any letter case."""
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise InvalidArgument(
            f"Cannot read the project folder {directory}: {exc.strerror}"
        ) from None
    for name in names:
        if name.lower() == MLPROJECT_FILE.lower() and (directory / name).is_file():
            return directory / name
    return None


def _key_lines(node: Any, prefix: _Key = ()) -> dict[_Key, int]:
    """The 1-based line of every mapping key under *node*, by its path of keys."""
    import yaml

    lines: dict[_Key, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*prefix, str(key_node.value))
            lines[key] = key_node.start_mark.line + 1
            lines.update(_key_lines(value_node, key))
    return lines


def _read_yaml(path: Path) -> tuple[Any, dict[_Key, int]]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"Cannot read {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
        lines = _key_lines(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidArgument(f"Invalid YAML in {path}{at}: {problem}") from None
    return data, lines


def _mapping(value: Any, what: str, source: _Source, key: _Key) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f"Invalid MLproject ({source.where(key)}): {what} must be a mapping, "
            f"not {type(value).__name__}"
        )
    return value


def _parameter(name: str, spec: Any, source: _Source, key: _Key) -> Parameter:
    if isinstance(spec, str):
        kind, default = spec, None
    elif isinstance(spec, Mapping):
        kind = spec.get("type", "string")
        raw = spec.get("default")
        default = None if raw is None else str(raw)
    else:
        raise InvalidArgument(
            f"Invalid parameter '{name}' ({source.where(key)}): expected a type name or a "
            "mapping with type and default"
        )
    if kind not in PARAMETER_TYPES:
        raise InvalidArgument(
            f"Invalid parameter '{name}' ({source.where((*key, 'type'))}): unknown type "
            f"{kind!r}; the types are {', '.join(PARAMETER_TYPES)}"
        )
    parameter = Parameter(str(name), str(kind), default)
    if default is not None:  # a path default is checked when it is used
        parameter.resolve(default, source.where((*key, "default")))
    return parameter


def _entry_point(name: str, spec: Any, source: _Source) -> EntryPoint:
    key = ("entry_points", name)
    body = _mapping(spec, f"entry point '{name}'", source, key)
    command = body.get("command")
    if not isinstance(command, str) or not command.strip():
        raise InvalidArgument(
            f"Invalid entry point '{name}' ({source.where(key)}): it needs a command, a string "
            'such as "python train.py --alpha {alpha}"'
        )
    declared = _mapping(body.get("parameters"), "parameters", source, (*key, "parameters"))
    parameters = {
        str(p): _parameter(str(p), s, source, (*key, "parameters", str(p)))
        for p, s in declared.items()
    }
    return EntryPoint(str(name), command, parameters, source)


def _docker_env(spec: Any, source: _Source) -> dict[str, Any]:
    key = (DOCKER_ENV,)
    body = dict(_mapping(spec, DOCKER_ENV, source, key))
    image = body.get("image")
    if not isinstance(image, str) or not image.strip():
        raise InvalidArgument(
            f"Invalid docker_env ({source.where(key)}): it needs an image, e.g. "
            "image: python:3.11-slim"
        )
    volumes = body.get("volumes")
    if volumes is not None and not (
        isinstance(volumes, list) and all(isinstance(v, str) for v in volumes)
    ):
        raise InvalidArgument(
            f"Invalid docker_env ({source.where((*key, 'volumes'))}): volumes must be a list "
            'of strings such as "/host/data:/data"'
        )
    environment = body.get("environment")
    if environment is not None and not (
        isinstance(environment, list)
        and all(
            isinstance(e, str)
            or (isinstance(e, list) and len(e) == 2 and all(isinstance(x, str) for x in e))
            for e in environment
        )
    ):
        raise InvalidArgument(
            f"Invalid docker_env ({source.where((*key, 'environment'))}): environment must be a "
            'list of variable names to copy from this machine ("HOME") and [name, value] pairs'
        )
    return body


def _env_file(directory: Path, kind: str, value: Any, source: _Source) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(
            f"Invalid {kind} ({source.where((kind,))}): expected the name of a file in the project"
        )
    path = (directory / value).resolve()
    if not path.is_relative_to(directory.resolve()):
        raise InvalidArgument(
            f"Invalid {kind} ({source.where((kind,))}): {value!r} must be inside the project"
        )
    if not path.is_file():
        raise InvalidArgument(
            f"Invalid {kind} ({source.where((kind,))}): the project has no file {value!r}"
        )
    return path


def load_project(directory: str | os.PathLike[str]) -> Project:
    """Read the project in the local folder *directory* (its MLproject file, if any)."""
    root = Path(os.path.abspath(directory))
    mlproject = _find_mlproject(root)
    if mlproject is None:
        return _implicit_project(root)
    data, lines = _read_yaml(mlproject)
    source = _Source(mlproject, lines)
    body = _mapping(data, "the MLproject file", source, ())
    envs = [k for k in _ENV_KEYS if k in body]
    if len(envs) > 1:
        raise InvalidArgument(
            f"Invalid MLproject ({source.where((envs[1],))}): it declares {' and '.join(envs)}; "
            "a project has at most one environment"
        )
    name = body.get("name")
    if name is not None and not isinstance(name, (str, int, float)):
        raise InvalidArgument(f"Invalid MLproject ({source.where(('name',))}): name must be text")
    entries = _mapping(body.get("entry_points"), "entry_points", source, ("entry_points",))
    entry_points = {str(n): _entry_point(str(n), s, source) for n, s in entries.items()}
    common: dict[str, Any] = {
        "directory": root,
        "name": None if name is None else str(name),
        "entry_points": entry_points,
        "mlproject_file": mlproject,
    }
    if DOCKER_ENV in body:
        docker = _docker_env(body[DOCKER_ENV], source)
        return Project(**common, env_type=DOCKER_ENV, docker_env=docker)
    for kind in (PYTHON_ENV, CONDA_ENV):
        if kind in body:
            env_file = _env_file(root, kind, body[kind], source)
            return Project(**common, env_type=kind, env_file=env_file)
    return _with_default_env(Project(**common))


def _implicit_project(root: Path) -> Project:
    if not root.is_dir():
        raise InvalidArgument(f"Invalid project: {root} is not a folder")
    return _with_default_env(Project(root))


def _with_default_env(project: Project) -> Project:
    """The environment file a project without an environment key uses (as MLflow)."""
    for kind, name in ((PYTHON_ENV, DEFAULT_PYTHON_ENV_FILE), (CONDA_ENV, DEFAULT_CONDA_FILE)):
        path = project.directory / name
        if path.is_file():
            return Project(
                project.directory,
                project.name,
                project.entry_points,
                kind,
                path,
                None,
                project.mlproject_file,
            )
    return project
