"""Isolated Python environments for a model, built with virtualenv or uv and cached.

A model directory describes its environment in ``python_env.yaml`` (Python version, build
dependencies, ``-r requirements.txt``) and ``requirements.txt`` (exact pins).  An environment
is built for those, plus the running mltrail's own dependencies, in
``<env_root>/<manager>-<hash>``, where the hash covers everything that decides its content
(the manager, the interpreter's version, the build dependencies, the requirements).  A second
model with the same requirements reuses it; a finished environment is marked ``.complete``
and a half-built one (an interrupted build) is removed and built again.  Builds of the same
environment by several processes are serialised with a file lock.

The running mltrail is installed into the environment by copying its package (sources only),
with a ``.dist-info`` so ``importlib.metadata`` finds it; the copy is refreshed when the
running sources change.  The scoring server then runs there as
``<env>/bin/python -m mltrail.serving serve ...``.

The interpreter is the running one when its major.minor matches the model's, else
``pythonX.Y`` on ``PATH`` (uv also finds the interpreters it manages); nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from mltrail._exceptions import InvalidArgument, MltrailError, NotFound
from mltrail._optional import require
from mltrail._version import __version__

__all__ = [
    "ENV_MANAGERS",
    "EnvironmentManager",
    "ModelEnvironment",
    "default_env_root",
    "mltrail_requirements",
    "read_model_environment",
]

logger = logging.getLogger("mltrail.serving")

ENV_MANAGERS = ("local", "virtualenv", "uv")
_FORMAT = 1  # bump to invalidate every cached environment after a layout change
_COMPLETE = ".complete"
_SOURCE_STAMP = ".mltrail-source"
# What a model's requirements never need installed: mltrail is copied in from this process.
_SKIP = {"mltrail"}


def default_env_root() -> Path:
    """``$XDG_CACHE_HOME/mltrail/envs`` (``~/.cache/mltrail/envs``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mltrail" / "envs"


@dataclass(frozen=True)
class ModelEnvironment:
    """What a model's environment needs: a Python version and pip requirements."""

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


def _read_requirements_file(model_dir: Path, name: str, seen: set[Path]) -> list[str]:
    path = (model_dir / name).resolve()
    if not path.is_relative_to(model_dir.resolve()):
        raise InvalidArgument(
            f"Invalid requirements file {name!r} in the model's environment: it must be inside "
            "the model directory"
        )
    if path in seen:
        return []
    seen.add(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotFound(
            f"Cannot read the model's requirements file {name!r}: {exc.strerror}"
        ) from None
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            out += _read_requirements_file(model_dir, line.split(None, 1)[1].strip(), seen)
        elif line.startswith(("-c ", "--constraint ")):
            raise InvalidArgument(
                f"Unsupported line {line!r} in {name!r}: constraint files are not supported"
            )
        else:
            out.append(line)
    return out


def read_model_environment(model_dir: str | os.PathLike[str]) -> ModelEnvironment:
    """The environment the model at *model_dir* (a local directory) declares."""
    import yaml

    root = Path(model_dir)
    notes: list[str] = []
    python = ".".join(map(str, sys.version_info[:3]))
    build: list[str] = []
    requirements: list[str] = []
    env_file = root / "python_env.yaml"
    if env_file.is_file():
        try:
            spec = yaml.safe_load(env_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise InvalidArgument(f"Invalid python_env.yaml in the model: {exc}") from None
        if not isinstance(spec, dict):
            raise InvalidArgument("Invalid python_env.yaml in the model: expected a mapping")
        if spec.get("python"):
            python = str(spec["python"])
        build = [str(d) for d in spec.get("build_dependencies") or []]
        seen: set[Path] = set()
        for dep in spec.get("dependencies") or []:
            dep = str(dep).strip()
            if dep.startswith(("-r ", "--requirement ")):
                requirements += _read_requirements_file(root, dep.split(None, 1)[1].strip(), seen)
            else:
                requirements.append(dep)
    elif (root / "requirements.txt").is_file():
        notes.append("the model has no python_env.yaml: using this Python's version")
        requirements = _read_requirements_file(root, "requirements.txt", set())
    else:
        notes.append("the model declares no environment: installing mltrail's dependencies only")
    requirements = [r for r in requirements if _requirement_name(r) not in _SKIP]
    return ModelEnvironment(python, tuple(build), tuple(requirements), tuple(notes))


def mltrail_requirements() -> list[str]:
    """The running mltrail's own dependencies (no extras)."""
    try:
        declared = metadata.requires("mltrail") or []
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        declared = ["pyyaml", "pandas", "numpy", "starlette", "uvicorn[standard]", "click"]
    return [r for r in declared if "extra ==" not in r and "extra==" not in r]


def _package_dir() -> Path:
    return Path(__file__).resolve().parent.parent  # .../mltrail/serving/_env.py


def _ignore(directory: str, names: list[str]) -> list[str]:
    skip = {"__pycache__", "node_modules", "static"}
    return [n for n in names if n in skip or n.endswith((".pyc", ".pyo"))]


def _source_stamp(package: Path) -> str:
    """A digest of the running mltrail's sources (names, sizes, modification times)."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if any(part in ("__pycache__", "node_modules", "static") for part in rel.parts):
            continue
        if path.is_file() and not path.name.endswith((".pyc", ".pyo")):
            stat = path.stat()
            digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def copy_mltrail(site_packages: Path) -> None:
    """Install the running mltrail's sources into *site_packages* (with a ``.dist-info``)."""
    target = site_packages / "mltrail"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(_package_dir(), target, ignore=_ignore)
    for old in site_packages.glob("mltrail-*.dist-info"):
        shutil.rmtree(old)
    info = site_packages / f"mltrail-{__version__}.dist-info"
    info.mkdir()
    requires = "".join(f"Requires-Dist: {r}\n" for r in mltrail_requirements())
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: mltrail\nVersion: {__version__}\n{requires}",
        encoding="utf-8",
    )
    (info / "INSTALLER").write_text("mltrail\n", encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class EnvironmentManager:
    """Builds, caches and finds isolated environments with ``virtualenv`` or ``uv``."""

    def __init__(
        self,
        manager: str,
        env_root: str | os.PathLike[str] | None = None,
        *,
        echo: bool = True,
    ) -> None:
        if manager not in ("virtualenv", "uv"):
            raise InvalidArgument(
                f"Invalid environment manager {manager!r}: expected virtualenv or uv "
                "(local needs no environment)"
            )
        self.manager = manager
        self.env_root = Path(env_root) if env_root is not None else default_env_root()
        self.echo = echo

    # --- tools ---------------------------------------------------------------------------------

    def _say(self, message: str) -> None:
        if self.echo:
            print(message, file=sys.stderr, flush=True)

    @staticmethod
    def uv_binary() -> str:
        found = shutil.which("uv")
        if found:
            return found
        uv = require("uv")  # not on PATH: the uv package carries the binary
        try:
            return str(uv.find_uv_bin())
        except FileNotFoundError:
            raise NotFound(
                "The uv environment manager needs the uv binary, which the uv package does "
                "not hold: pip install --force-reinstall uv"
            ) from None

    def find_python(self, version: str) -> str:
        """An interpreter for *version*'s major.minor; NotFound when there is none."""
        minor = ".".join(version.split(".")[:2])
        if ".".join(map(str, sys.version_info[:2])) == minor:
            return sys.executable
        found = shutil.which(f"python{minor}")
        if found:
            return found
        if self.manager == "uv":
            proc = subprocess.run(
                [self.uv_binary(), "python", "find", "--no-python-downloads", minor],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode == 0 and proc.stdout.strip():
                return proc.stdout.strip()
        raise NotFound(
            f"The model needs Python {minor} (its python_env.yaml says {version}) and no "
            f"python{minor} interpreter was found; install one or serve with --env-manager local"
        )

    # --- building -------------------------------------------------------------------------------

    def env_hash(self, env: ModelEnvironment, python_version: str) -> str:
        key = {
            "format": _FORMAT,
            "manager": self.manager,
            "python": python_version,
            "build": sorted(env.build_dependencies),
            "requirements": sorted(env.requirements),
            "mltrail": sorted(mltrail_requirements()),
        }
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]

    def _run(self, cmd: Sequence[str], what: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        proc = subprocess.run(
            list(cmd),
            capture_output=True,
            text=True,
            check=False,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout)[-3000:].strip()
            raise MltrailError(
                f"Building the model's {self.manager} environment failed while {what} "
                f"(exit code {proc.returncode}):\n{tail}"
            )

    @staticmethod
    def env_python(env_dir: Path) -> Path:
        return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

    def _site_packages(self, env_dir: Path) -> Path:
        proc = subprocess.run(
            [
                str(self.env_python(env_dir)),
                "-I",
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return Path(proc.stdout.strip())

    def _build(self, env_dir: Path, python: str, env: ModelEnvironment) -> None:
        requirements = [*env.requirements, *mltrail_requirements()]
        py = str(self.env_python(env_dir))
        if self.manager == "uv":
            uv = self.uv_binary()
            self._run(
                [uv, "venv", "--quiet", "--no-python-downloads", "--python", python, str(env_dir)],
                "creating the environment",
            )
            if env.build_dependencies:
                self._run(
                    [uv, "pip", "install", "--quiet", "--python", py, *env.build_dependencies],
                    "installing build dependencies",
                )
            # Byte code compiled now, so the first serve does not pay for it.
            self._run(
                [
                    uv,
                    "pip",
                    "install",
                    "--quiet",
                    "--compile-bytecode",
                    "--python",
                    py,
                    *requirements,
                ],
                "installing the model's requirements",
            )
        else:
            try:
                import virtualenv  # type: ignore[import-not-found, unused-ignore]  # noqa: F401

                create = [sys.executable, "-m", "virtualenv", "--quiet", "-p", python, str(env_dir)]
            except ImportError:
                create = [python, "-m", "venv", str(env_dir)]
            self._run(create, "creating the environment")
            pip = [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            if env.build_dependencies:
                self._run([*pip, *env.build_dependencies], "installing build dependencies")
            self._run([*pip, *requirements], "installing the model's requirements")

    def prepare(self, model_dir: str | os.PathLike[str]) -> Path:
        """The python of an environment for the model at *model_dir*, built if needed."""
        env = read_model_environment(model_dir)
        for note in env.notes:
            self._say(f"Note: {note}")
        python = self.find_python(env.python)
        python_version = subprocess.run(
            [python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if python_version != env.python:
            self._say(f"Note: the model was saved with Python {env.python}; using {python_version}")
        name = f"{self.manager}-{self.env_hash(env, python_version)}"
        env_dir = self.env_root / name
        with _lock(self.env_root / f"{name}.lock"):
            if not (env_dir / _COMPLETE).exists():
                if env_dir.exists():
                    shutil.rmtree(env_dir)
                self._say(f"Creating a {self.manager} environment for the model in {env_dir}")
                try:
                    self._build(env_dir, python, env)
                except BaseException:
                    shutil.rmtree(env_dir, ignore_errors=True)
                    raise
                (env_dir / _COMPLETE).write_text(
                    json.dumps({"python": python_version, "requirements": env.requirements}),
                    encoding="utf-8",
                )
            else:
                self._say(f"Using the cached {self.manager} environment {env_dir}")
            stamp = _source_stamp(_package_dir())
            stamp_file = env_dir / _SOURCE_STAMP
            if not stamp_file.exists() or stamp_file.read_text(encoding="utf-8") != stamp:
                site_packages = self._site_packages(env_dir)
                copy_mltrail(site_packages)
                self._run(
                    [
                        str(self.env_python(env_dir)),
                        "-m",
                        "compileall",
                        "-q",
                        "-j",
                        "0",
                        str(site_packages / "mltrail"),
                    ],
                    "compiling mltrail",
                )
                stamp_file.write_text(stamp, encoding="utf-8")
        return self.env_python(env_dir)
