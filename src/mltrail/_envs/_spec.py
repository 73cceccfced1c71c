"""What a Python environment must hold, read from ``python_env.yaml``, ``conda.yaml`` or
``requirements.txt``.

``python_env.yaml`` (MLflow's format)::

    python: "3.11.7"
    build_dependencies: [pip, setuptools]
    dependencies: ["-r requirements.txt", "scikit-learn==1.5.0"]

A ``conda.yaml`` read for virtualenv or uv gives its pinned ``python=X.Y.Z``, its other plain
conda dependencies as build dependencies and its ``pip:`` list as the requirements, as MLflow
reads one.  ``-r FILE`` lines are read relative to the environment file and must stay inside
its folder.  ``mltrail`` itself is never a requirement: the environment managers copy the
running mltrail in.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mltrail._exceptions import InvalidArgument, NotFound

__all__ = [
    "PythonEnvironment",
    "overridden",
    "read_conda_as_python_env",
    "read_model_environment",
    "read_python_env",
]

# What a model's or project's requirements never need installed: mltrail is copied in.
_SKIP = {"mltrail"}
# A conda dependency: package, then optionally an operator and a version (build strings ignored).
_CONDA_DEP = re.compile(
    r"^(?P<package>[A-Za-z0-9_.\-]+)\s*(?:(?P<op><=|>=|==|=|<|>|!=)\s*(?P<version>[^\s=]+))?"
)


def _this_python() -> str:
    return ".".join(map(str, sys.version_info[:3]))


@dataclass(frozen=True)
class PythonEnvironment:
    """What an environment needs: a Python version and pip requirements."""

    python: str
    build_dependencies: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def python_minor(self) -> str:
        return ".".join(self.python.split(".")[:2])


def _requirement_name(line: str) -> str:
    for sep in ("==", ">=", "<=", "~=", "!=", "===", ">", "<", "[", ";", " ", "@"):
        line = line.split(sep, 1)[0]
    return line.strip().lower().replace("_", "-")


def overridden(env: PythonEnvironment, override: Sequence[str]) -> PythonEnvironment:
    """*env* with the requirements of *override* in place of its own of the same packages
    (``predict(pip_requirements_override=...)``: MLflow installs them over the model's)."""
    names = {_requirement_name(r) for r in override}
    kept = [r for r in env.requirements if _requirement_name(r) not in names]
    return replace(env, requirements=_without_mltrail([*kept, *override]))


def _without_mltrail(requirements: list[str]) -> tuple[str, ...]:
    return tuple(r for r in requirements if _requirement_name(r) not in _SKIP)


def _read_requirements_file(root: Path, name: str, seen: set[Path], owner: str) -> list[str]:
    path = (root / name).resolve()
    if not path.is_relative_to(root.resolve()):
        raise InvalidArgument(
            f"Invalid requirements file {name!r} in the {owner}'s environment: it must be inside "
            f"the {owner} directory"
        )
    if path in seen:
        return []
    seen.add(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotFound(
            f"Cannot read the {owner}'s requirements file {name!r}: {exc.strerror}"
        ) from None
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            out += _read_requirements_file(root, line.split(None, 1)[1].strip(), seen, owner)
        elif line.startswith(("-c ", "--constraint ")):
            raise InvalidArgument(
                f"Unsupported line {line!r} in {name!r}: constraint files are not supported"
            )
        else:
            out.append(line)
    return out


def _load_yaml(path: Path, owner: str) -> dict[str, Any]:
    import yaml

    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise NotFound(f"Cannot read the {owner}'s {path.name}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"Invalid {path.name} in the {owner}: {exc}") from None
    if not isinstance(spec, dict):
        raise InvalidArgument(f"Invalid {path.name} in the {owner}: expected a mapping")
    return spec


def read_python_env(path: str | os.PathLike[str], owner: str = "project") -> PythonEnvironment:
    """The environment a ``python_env.yaml`` file (of any name) declares.

    *owner* names what the file belongs to in messages ("model", "project").
    """
    env_file = Path(path)
    spec = _load_yaml(env_file, owner)
    python = str(spec["python"]) if spec.get("python") else _this_python()
    build = [str(d) for d in spec.get("build_dependencies") or []]
    requirements: list[str] = []
    seen: set[Path] = set()
    for dep in spec.get("dependencies") or []:
        dep = str(dep).strip()
        if dep.startswith(("-r ", "--requirement ")):
            name = dep.split(None, 1)[1].strip()
            requirements += _read_requirements_file(env_file.parent, name, seen, owner)
        else:
            requirements.append(dep)
    return PythonEnvironment(python, tuple(build), _without_mltrail(requirements))


def read_conda_as_python_env(
    path: str | os.PathLike[str], owner: str = "project"
) -> PythonEnvironment:
    """A ``conda.yaml``'s Python version and pip packages, for virtualenv or uv."""
    conda_file = Path(path)
    spec = _load_yaml(conda_file, owner)
    python: str | None = None
    build: list[str] = []
    requirements: list[str] = []
    notes: list[str] = []
    for dep in spec.get("dependencies") or []:
        if isinstance(dep, dict):
            requirements += [str(p) for p in dep.get("pip") or []]
            continue
        match = _CONDA_DEP.match(str(dep))
        if match is None:
            notes.append(f"the conda dependency {dep!r} has no pip equivalent: skipped")
            continue
        package, op, version = match.group("package", "op", "version")
        if package == "python":
            if op is None or op in ("<", ">", "!="):
                raise InvalidArgument(
                    f"Invalid python dependency {dep!r} in {conda_file.name}: pin it "
                    "(python=3.11 or python==3.11.7) to use it with virtualenv or uv"
                )
            python = python or version
        elif package != "pip":
            op = "==" if op == "=" else op
            build.append(package + (op or "") + (version or ""))
    if python is None:
        python = _this_python()
        notes.append(f"{conda_file.name} pins no python: using this Python's version")
    expanded: list[str] = []
    seen: set[Path] = set()
    for req in requirements:
        if req.startswith(("-r ", "--requirement ")):
            name = req.split(None, 1)[1].strip()
            expanded += _read_requirements_file(conda_file.parent, name, seen, owner)
        else:
            expanded.append(req)
    return PythonEnvironment(python, tuple(build), _without_mltrail(expanded), tuple(notes))


def read_model_environment(model_dir: str | os.PathLike[str]) -> PythonEnvironment:
    """The environment the model at *model_dir* (a local directory) declares."""
    root = Path(model_dir)
    env_file = root / "python_env.yaml"
    if env_file.is_file():
        return read_python_env(env_file, "model")
    if (root / "requirements.txt").is_file():
        requirements = _read_requirements_file(root, "requirements.txt", set(), "model")
        note = "the model has no python_env.yaml: using this Python's version"
        return PythonEnvironment(_this_python(), (), _without_mltrail(requirements), (note,))
    note = "the model declares no environment: installing mltrail's dependencies only"
    return PythonEnvironment(_this_python(), notes=(note,))
