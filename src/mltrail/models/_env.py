"""A model's environment: ``requirements.txt``, ``python_env.yaml`` and ``conda.yaml``.

Requirements are inferred by loading the saved model in a fresh interpreter
(``python -m mltrail.models._probe``, with a timeout) and pinning, at their installed versions,
the distributions of the modules loading it imported.  What a load imported is cached, keyed by
the environment and the model's structure (``_requirements_cache``), so that a model of a kind
already logged in this environment is not loaded again.  When the probe fails or times out, the
flavor's own requirements are used and a message is logged.  Local version labels are dropped
(``torch==2.13.0+cpu`` is written ``torch==2.13.0``) so the pins install from PyPI.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import metadata
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.models import _requirements_cache as cache
from mltrail.models._distributions import module_distributions
from mltrail.models._probe import ROOT

__all__ = [
    "CONDA_ENV_FILE",
    "PYTHON_ENV_FILE",
    "REQUIREMENTS_FILE",
    "StartedProbe",
    "conda_environment",
    "early_probe",
    "infer_requirements",
    "modules_to_requirements",
    "pinned",
    "probed_modules",
    "write_environment",
]

REQUIREMENTS_FILE = "requirements.txt"
CONSTRAINTS_FILE = "constraints.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_ENV_FILE = "conda.yaml"
DEFAULT_TIMEOUT_SECONDS = 120.0
_TIMEOUT_VARIABLE = "MLTRAIL_REQUIREMENTS_INFERENCE_TIMEOUT"

_log = logging.getLogger(__name__)

# Imported by every load through mltrail itself; never a requirement of a model on their own.
_INFRASTRUCTURE = {"mltrail", "yaml", "_yaml", "pip", "setuptools", "pkg_resources", "wheel"}
# Every python_function model takes and returns numpy arrays and pandas DataFrames.
_MODEL_RUNTIME_MODULES = ("numpy", "pandas")
_MODEL_RUNTIME = {"numpy", "pandas", "cloudpickle"}


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def pinned(dist: str) -> str:
    """``dist==<installed version>`` without a local label; the bare name when not installed."""
    version = _version(dist)
    if version is None:
        return dist
    return f"{dist}=={version.split('+', 1)[0]}"


def _timeout() -> float:
    raw = os.environ.get(_TIMEOUT_VARIABLE)
    if not raw:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise InvalidArgument(
            f"Invalid {_TIMEOUT_VARIABLE}={raw!r}: expected a number of seconds"
        ) from None
    if value <= 0:
        raise InvalidArgument(f"Invalid {_TIMEOUT_VARIABLE}={raw!r}: must be positive")
    return value


def modules_to_requirements(modules: Iterable[str]) -> list[str]:
    """Pinned distributions providing the top-level *modules* (standard library left out)."""
    stdlib = set(getattr(sys, "stdlib_module_names", ()))
    dists: set[str] = set()
    tops = set()
    for module in modules:
        top = module.split(".", 1)[0]
        if not top or top.startswith("_") or top in stdlib or top in _INFRASTRUCTURE:
            continue
        tops.add(top)
    mapping = module_distributions(tops)
    for top in tops:
        for dist in mapping.get(top, []):
            if _req_name(dist) not in _own_requirements():
                dists.add(dist)
    return sorted((pinned(d) for d in dists), key=str.lower)


@functools.cache
def _own_requirements() -> frozenset[str]:
    """mltrail's own (non-optional) dependencies, but those models need at predict time."""
    try:
        declared = metadata.requires("mltrail") or []
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        declared = []
    names = {_req_name(r) for r in declared if "extra ==" not in r}
    return frozenset(names - _MODEL_RUNTIME)


def probed_modules(edges: Iterable[Sequence[str]]) -> set[str]:
    """The top-level modules the model needs, from the probe's ``[importer, imported]`` pairs.

    Kept: what the loader (mltrail, the unpickler, skops, ``torch.load``) or the model's own
    local code imported, plus numpy and pandas.  Dropped: what installed libraries imported
    for themselves, and mltrail itself (its modules import each other as the loader loads: in
    a fresh probe after the hooks go in, in an early one before).
    """
    return set(_MODEL_RUNTIME_MODULES) | {b for a, b in edges if a == ROOT and b != "mltrail"}


def infer_requirements(
    model_path: str,
    fallback: Sequence[str],
    started: StartedProbe | None = None,
    *,
    timeout: float | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> list[str]:
    """The pinned requirements of the model saved at *model_path*, found by loading it.

    The model loads in a fresh interpreter (``python -m mltrail.models._probe``) within the
    timeout (*started*, when the flavor started one early), unless the cache knows what a model
    like it imports; the distributions of what it needed are pinned at their installed
    versions, and the flavor's own requirements (*fallback*) are added.  When the probe fails
    or times out, *fallback* alone is returned and a warning logged.  *timeout* (seconds)
    replaces ``MLTRAIL_REQUIREMENTS_INFERENCE_TIMEOUT``; *extra_env* adds variables to the
    probe's environment (its answer is then not cached).
    """
    modules = _needed_modules(model_path, started, timeout, extra_env)
    if modules is None:
        return list(fallback)
    found = modules_to_requirements(modules)
    names = {_req_name(r) for r in found}
    return found + [r for r in fallback if _req_name(r) not in names]


class StartedProbe:
    """A probe interpreter started before the model is written (``--wait``): it imports the
    flavor's libraries while the model is saved, then loads the directory it is sent.

    :meth:`close` ends it when it is not needed (a cached answer, a failed save).
    """

    def __init__(self, prewarm: Sequence[str]) -> None:
        command = [sys.executable, "-m", "mltrail.models._probe", "--wait", *prewarm]
        self._process: subprocess.Popen[str] | None = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_probe_environment(),
        )

    def run(self, model_path: str) -> tuple[int, str, str] | None:
        """(return code, stdout, stderr) of loading *model_path*; None after a timeout."""
        process, self._process = self._process, None
        if process is None:
            raise RuntimeError("this probe was already used or closed")
        timeout = _timeout()
        try:
            if process.stdin is not None:
                process.stdin.write(model_path + "\n")
                process.stdin.flush()
            _prepare_pins()  # while the probe loads the model
            out, err = process.communicate(timeout=timeout)
        except BrokenPipeError:  # it ended early: its output says why
            out, err = process.communicate()
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return None
        return process.returncode, out, err

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.communicate()


@contextlib.contextmanager
def early_probe(
    prewarm: Sequence[str] | None, pip_requirements: object, conda_env: object
) -> Iterator[StartedProbe | None]:
    """A :class:`StartedProbe` importing *prewarm* (the libraries the flavor's loader imports)
    while the flavor writes its model, ended on exit if unused; None when the requirements are
    given, so that nothing is inferred (or *prewarm* is None)."""
    if prewarm is None or pip_requirements is not None or conda_env is not None:
        yield None
        return
    started = StartedProbe(prewarm)
    try:
        yield started
    finally:
        started.close()


def _prepare_pins() -> None:
    """Read what pinning the probe's answer needs: the installed distributions, mltrail's own
    requirements, the YAML writer."""
    module_distributions(())
    _own_requirements()
    import yaml  # noqa: F401  (write_environment's)


def _probe_environment(extra_env: Mapping[str, str] | None = None) -> dict[str, str]:
    return dict(os.environ, **(extra_env or {}), MLTRAIL_ALLOW_PICKLE="true")


def _needed_modules(
    model_path: str,
    started: StartedProbe | None,
    timeout: float | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> set[str] | None:
    """The top-level modules the model needs: cached, else probed (and cached when it may be)."""
    cached = cache.cache_enabled() and not extra_env
    key = cache.model_key(model_path) if cached else None
    if key is not None:
        known = cache.read_modules(key)
        if known is not None:
            if started is not None:
                started.close()
            return known
    probed = _probe(model_path, started, timeout, extra_env)
    if probed is None:
        return None
    modules, local, path, sources = probed
    if key is not None and not local and cache.ran_here(path):
        cache.write_modules(key, modules, path, sources)
    return modules


def _asks_for_retry(stdout: str) -> bool:
    try:
        answer = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return False
    return isinstance(answer, dict) and answer.get("retry") is True


def _run_probe(
    model_path: str,
    started: StartedProbe | None,
    timeout: float | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> tuple[int, str, str] | None:
    """Run a probe on *model_path* (the started one, if any): its outcome; None on timeout."""
    if started is not None:
        done = started.run(model_path)
        if done is None or not _asks_for_retry(done[1]):
            return done
        # Its early imports ran code from outside installed packages: load afresh instead.
    command = [sys.executable, "-m", "mltrail.models._probe", model_path]
    try:
        finished = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout or _timeout(),
            env=_probe_environment(extra_env),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    return finished.returncode, finished.stdout, finished.stderr


def _probe(
    model_path: str,
    started: StartedProbe | None = None,
    timeout: float | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> tuple[set[str], bool, list[str], list[str]] | None:
    """Load the model in a fresh interpreter: the modules it needs, whether local code ran, the
    interpreter's ``sys.path`` and the mltrail source files it ran."""
    done = _run_probe(model_path, started, timeout, extra_env)
    if done is None:
        _log.warning(
            "Inferring the model's requirements timed out after %ss (%s); using the flavor's "
            "defaults",
            timeout or _timeout(),
            _TIMEOUT_VARIABLE,
        )
        return None
    returncode, stdout, stderr = done
    try:
        if returncode != 0:
            raise ValueError((stderr.strip().splitlines() or ["no output"])[-1])
        answer = json.loads(stdout.strip().splitlines()[-1])
        if not isinstance(answer, dict) or not isinstance(answer.get("edges"), list):
            raise ValueError(f"unexpected answer {stdout.strip()[-200:]!r}")
    except (ValueError, IndexError) as exc:
        _log.warning(
            "Inferring the model's requirements failed (%s); using the flavor's defaults", exc
        )
        return None
    path, sources = answer.get("path"), answer.get("sources")
    listed = [v for v in (path, sources) if isinstance(v, list)]
    valid = len(listed) == 2 and all(isinstance(p, str) for v in listed for p in v)
    local = bool(answer.get("local", True)) or not valid
    return probed_modules(answer["edges"]), local, list(path or []), list(sources or [])


def _req_name(requirement: str) -> str:
    for sep in ("==", ">=", "<=", "~=", "!=", ">", "<", "[", ";", " "):
        requirement = requirement.split(sep, 1)[0]
    return requirement.strip().lower().replace("_", "-")


_INCLUDE = ("-r ", "--requirement ", "--requirement=")
_CONSTRAINT = ("-c ", "--constraint ", "--constraint=")


def _file_lines(path: str, what: str) -> list[str]:
    if not os.path.isfile(path):
        raise InvalidArgument(f"Invalid {what} {path!r}: expected a list or a requirements file")
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    return [line for line in lines if line and not line.startswith("#")]


def _expand(
    lines: list[str], base: str, what: str, constraints: list[str], depth: int = 0
) -> list[str]:
    """*lines* with ``-r FILE`` replaced by FILE's lines and ``-c FILE`` lines moved into
    *constraints* (as pip and MLflow read them; FILE relative to *base*)."""
    if depth > 20:
        raise InvalidArgument(f"Invalid {what}: requirement files include each other too deeply")
    out: list[str] = []
    for line in lines:
        for prefixes, target in ((_INCLUDE, out), (_CONSTRAINT, constraints)):
            prefix = next((p for p in prefixes if line.startswith(p)), None)
            if prefix is not None:
                path = os.path.join(base, line[len(prefix) :].strip())
                nested = _file_lines(path, what)
                target.extend(_expand(nested, os.path.dirname(path), what, constraints, depth + 1))
                break
        else:
            out.append(line)
    return out


def _read_requirements(
    value: str | Sequence[str] | None, what: str, constraints: list[str]
) -> list[str] | None:
    """The requirement lines *value* (a list or a requirements file) gives, ``-r`` files
    included; the lines of its ``-c`` files are added to *constraints*."""
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        return _expand(_file_lines(path, what), os.path.dirname(path), what, constraints)
    if not all(isinstance(r, str) for r in value):
        raise InvalidArgument(f"Invalid {what}: expected a list of requirement strings")
    return _expand([r.strip() for r in value if r.strip()], os.getcwd(), what, constraints)


def _conda_pip_requirements(conda_env: Any) -> tuple[dict[str, Any], list[str]]:
    import yaml

    env = conda_env
    if isinstance(conda_env, (str, os.PathLike)):
        with open(conda_env, encoding="utf-8") as f:
            env = yaml.safe_load(f)
    if not isinstance(env, dict):
        raise InvalidArgument("Invalid conda_env: expected a dict or the path of a YAML file")
    pip: list[str] = []
    for dep in env.get("dependencies") or []:
        if isinstance(dep, dict) and isinstance(dep.get("pip"), list):
            pip.extend(str(p) for p in dep["pip"])
    return env, pip


def conda_environment(pip_requirements: Sequence[str]) -> dict[str, Any]:
    """The ``conda.yaml`` content of a model whose pip requirements are *pip_requirements*
    (this Python's version, pip no newer than this one's)."""
    pip_version = _version("pip") or "23.0"
    return {
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={platform.python_version()}",
            f"pip<={pip_version}",
            {"pip": list(pip_requirements)},
        ],
        "name": "mlflow-env",
    }


def _build_tools() -> list[str]:
    return [pinned("pip"), pinned("setuptools"), pinned("wheel")]


def write_environment(
    path: str,
    default_requirements: Sequence[str],
    *,
    infer: bool,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    conda_env: Any = None,
    started: StartedProbe | None = None,
) -> dict[str, str]:
    """Write the three environment files into *path*; returns the pyfunc ``env`` entry."""
    import yaml

    constraints: list[str] = []
    given = _read_requirements(pip_requirements, "pip_requirements", constraints)
    extra = _read_requirements(extra_pip_requirements, "extra_pip_requirements", constraints) or []
    if given is not None and extra_pip_requirements is not None:
        raise InvalidArgument(
            "pip_requirements and extra_pip_requirements cannot both be given: "
            "pip_requirements replaces the inferred list, extra_pip_requirements adds to it"
        )
    if conda_env is not None and (given is not None or extra_pip_requirements is not None):
        raise InvalidArgument("conda_env cannot be combined with pip_requirements")
    python_version = platform.python_version()
    conda: dict[str, Any]
    if conda_env is not None:
        conda, requirements = _conda_pip_requirements(conda_env)
    else:
        if given is not None:
            requirements = given
        elif infer:
            requirements = infer_requirements(path, default_requirements, started)
        else:
            requirements = list(default_requirements)
        names = {_req_name(r) for r in extra}
        requirements = [r for r in requirements if _req_name(r) not in names] + extra
        if constraints:  # as MLflow: the constraints in their own file, named in the list
            with open(os.path.join(path, CONSTRAINTS_FILE), "w", encoding="utf-8") as f:
                f.write("\n".join(constraints) + "\n")
            requirements.append(f"-c {CONSTRAINTS_FILE}")
        conda = conda_environment(requirements)
    with open(os.path.join(path, REQUIREMENTS_FILE), "w", encoding="utf-8") as f:
        f.write("\n".join(requirements) + ("\n" if requirements else ""))
    python_env = {
        "python": python_version,
        "build_dependencies": _build_tools(),
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }
    with open(os.path.join(path, PYTHON_ENV_FILE), "w", encoding="utf-8") as f:
        yaml.safe_dump(python_env, f, sort_keys=False)
    with open(os.path.join(path, CONDA_ENV_FILE), "w", encoding="utf-8") as f:
        yaml.safe_dump(conda, f, sort_keys=False)
    return {"conda": CONDA_ENV_FILE, "virtualenv": PYTHON_ENV_FILE}
