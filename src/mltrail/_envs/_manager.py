"""Isolated Python environments built with virtualenv or uv, cached and reused.

An environment is built for a :class:`~mltrail._envs.PythonEnvironment` (a model's or a
project's), plus the running mltrail's own dependencies, in ``<env_root>/<manager>-<hash>``,
where the hash covers everything that decides its content (the manager, the interpreter's
version, the build dependencies, the requirements).  A second model or project with the same
requirements reuses it; a finished environment is marked ``.complete`` and a half-built one
(an interrupted build) is removed and built again.  Builds of the same environment by several
processes are serialised with a file lock.

The running mltrail is installed into the environment by copying its package (sources only),
with a ``.dist-info`` so ``importlib.metadata`` finds it; the copy is refreshed when the
running sources change.  The scoring server then runs there as
``<env>/bin/python -m mltrail.serving serve ...``, and a project's command with ``<env>/bin``
first on ``PATH``.

The interpreter is the running one when its major.minor matches the environment's, else
``pythonX.Y`` on ``PATH`` (uv also finds the interpreters it manages); nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from mltrail._envs._spec import PythonEnvironment, overridden, read_model_environment
from mltrail._exceptions import InvalidArgument, MltrailError, NotFound
from mltrail._optional import require
from mltrail._version import __version__

__all__ = [
    "CONDA_TOOLS",
    "ENV_MANAGERS",
    "EnvironmentManager",
    "copy_mltrail",
    "default_env_root",
    "env_lock",
    "mltrail_requirements",
]

ENV_MANAGERS = ("local", "virtualenv", "uv")
CONDA_TOOLS = ("conda", "mamba", "micromamba")
_FORMAT = 1  # bump to invalidate every cached environment after a layout change
_COMPLETE = ".complete"
_SOURCE_STAMP = ".mltrail-source"


def default_env_root() -> Path:
    """``$XDG_CACHE_HOME/mltrail/envs`` (``~/.cache/mltrail/envs``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mltrail" / "envs"


def mltrail_requirements() -> list[str]:
    """The running mltrail's own dependencies (no extras)."""
    try:
        declared = metadata.requires("mltrail") or []
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        declared = ["pyyaml", "pandas", "numpy", "starlette", "uvicorn[standard]", "click"]
    return [r for r in declared if "extra ==" not in r and "extra==" not in r]


def _package_dir() -> Path:
    return Path(__file__).resolve().parent.parent  # .../mltrail/_envs/_manager.py


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
def env_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on *path* (created if missing) while the block runs."""
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
        subject: str = "model",
        python_downloads: bool = False,
    ) -> None:
        if manager not in ("virtualenv", "uv", "conda"):
            raise InvalidArgument(
                f"Invalid environment manager {manager!r}: expected virtualenv, uv or conda "
                "(local needs no environment)"
            )
        self.manager = manager
        self.env_root = Path(env_root) if env_root is not None else default_env_root()
        self.echo = echo
        self.subject = subject  # what the environment is for, in messages: model, project
        # uv: install a missing Python version (uv downloads it) rather than fail
        self.python_downloads = python_downloads

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

    @staticmethod
    def conda_binary() -> str:
        """conda, mamba or micromamba: the first on PATH, else $CONDA_EXE or $MAMBA_EXE."""
        for name in CONDA_TOOLS:
            found = shutil.which(name)
            if found:
                return found
        for variable in ("CONDA_EXE", "MAMBA_EXE"):
            value = os.environ.get(variable)
            if value and os.access(value, os.X_OK):
                return value
        raise NotFound(
            "The conda environment manager needs conda, mamba or micromamba: none is on PATH "
            "and neither CONDA_EXE nor MAMBA_EXE names one. Install Miniforge or micromamba, "
            "or use --env-manager virtualenv or uv (they install conda.yaml's python version "
            "and pip packages) or local"
        )

    def find_python(self, version: str) -> str:
        """An interpreter for *version*'s major.minor; NotFound when there is none."""
        minor = ".".join(version.split(".")[:2])
        if ".".join(map(str, sys.version_info[:2])) == minor:
            return sys.executable
        found = shutil.which(f"python{minor}")
        if found:
            return found
        if self.manager == "uv":
            find = [self.uv_binary(), "python", "find", "--no-python-downloads", minor]
            proc = subprocess.run(find, capture_output=True, text=True, check=False)
            if proc.returncode != 0 and self.python_downloads:
                self._say(f"Installing Python {minor} with uv")
                self._run([self.uv_binary(), "python", "install", minor], f"installing {minor}")
                proc = subprocess.run(find, capture_output=True, text=True, check=False)
            if proc.returncode == 0 and proc.stdout.strip():
                return proc.stdout.strip()
        raise NotFound(
            f"The {self.subject} needs Python {minor} (its environment file says {version}) "
            f"and no python{minor} interpreter was found; install one or use --env-manager "
            "local"
        )

    # --- building -------------------------------------------------------------------------------

    def env_hash(self, env: PythonEnvironment, python_version: str) -> str:
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
                f"Building the {self.subject}'s {self.manager} environment failed while {what} "
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

    def _build(self, env_dir: Path, python: str, env: PythonEnvironment) -> None:
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
                f"installing the {self.subject}'s requirements",
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
            self._run([*pip, *requirements], f"installing the {self.subject}'s requirements")

    def _refresh_mltrail(self, env_dir: Path) -> None:
        """Copy the running mltrail into the environment when its sources changed."""
        stamp = _source_stamp(_package_dir())
        stamp_file = env_dir / _SOURCE_STAMP
        if stamp_file.exists() and stamp_file.read_text(encoding="utf-8") == stamp:
            return
        site_packages = self._site_packages(env_dir)
        copy_mltrail(site_packages)
        python = str(self.env_python(env_dir))
        target = str(site_packages / "mltrail")
        self._run([python, "-m", "compileall", "-q", "-j", "0", target], "compiling mltrail")
        stamp_file.write_text(stamp, encoding="utf-8")

    @staticmethod
    def conda_create_command(tool: str, prefix: Path, conda_file: Path) -> list[str]:
        """The command creating the conda environment *conda_file* describes at *prefix*."""
        if Path(tool).name.startswith("micromamba"):
            return [
                tool,
                "create",
                "--yes",
                "--quiet",
                "--prefix",
                str(prefix),
                "--file",
                str(conda_file),
            ]
        return [
            tool,
            "env",
            "create",
            "--quiet",
            "--prefix",
            str(prefix),
            "--file",
            str(conda_file),
        ]

    def prepare_conda(self, conda_file: str | os.PathLike[str]) -> Path:
        """The python of a conda environment made from *conda_file*, created if needed.

        The environment is keyed by the file's content; mltrail's own dependencies are
        installed into it with pip and the running mltrail copied in, as for virtualenv.
        """
        tool = self.conda_binary()
        source = Path(conda_file)
        digest = hashlib.sha256()
        for part in (str(_FORMAT), Path(tool).name, *sorted(mltrail_requirements())):
            digest.update(part.encode() + b"\0")
        digest.update(source.read_bytes())

        def build(env_dir: Path) -> None:
            self._run(self.conda_create_command(tool, env_dir, source), "creating the environment")
            pip = [str(self.env_python(env_dir)), "-m", "pip", "install", "--quiet"]
            self._run([*pip, *mltrail_requirements()], "installing mltrail's dependencies")

        return self._cached(
            "conda", f"conda-{digest.hexdigest()[:20]}", build, {"conda": str(source)}
        )

    def prepare(
        self, model_dir: str | os.PathLike[str], pip_requirements_override: Sequence[str] = ()
    ) -> Path:
        """The python of an environment for the model at *model_dir*, built if needed; with
        *pip_requirements_override*, those requirements replace the model's of the same
        packages (an environment of its own: the model's cached one is not changed)."""
        env = read_model_environment(model_dir)
        if pip_requirements_override:
            env = overridden(env, pip_requirements_override)
        return self.prepare_environment(env)

    def prepare_environment(self, env: PythonEnvironment) -> Path:
        """The python of an environment holding *env*, built if needed."""
        if self.manager == "conda":
            raise InvalidArgument("A conda environment is made from its conda.yaml: prepare_conda")
        for note in env.notes:
            self._say(f"Note: {note}")
        python = self.find_python(env.python)
        if python == sys.executable:
            python_version = ".".join(map(str, sys.version_info[:3]))
        else:
            python_version = subprocess.run(
                [python, "-c", "import platform; print(platform.python_version())"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        if python_version != env.python:
            self._say(
                f"Note: the {self.subject} asks for Python {env.python}; using {python_version}"
            )
        return self._cached(
            self.manager,
            f"{self.manager}-{self.env_hash(env, python_version)}",
            lambda env_dir: self._build(env_dir, python, env),
            {"python": python_version, "requirements": env.requirements},
        )

    def _cached(
        self, kind: str, name: str, build: Callable[[Path], None], marker: dict[str, Any]
    ) -> Path:
        """The python of the environment *name* under the root, built by *build* unless a
        complete one is there (under a lock: one process builds, the others wait); a failed
        build leaves nothing behind."""
        env_dir = self.env_root / name
        with env_lock(self.env_root / f"{name}.lock"):
            if not (env_dir / _COMPLETE).exists():
                if env_dir.exists():
                    shutil.rmtree(env_dir)
                self._say(f"Creating a {kind} environment for the {self.subject} in {env_dir}")
                try:
                    build(env_dir)
                except BaseException:
                    shutil.rmtree(env_dir, ignore_errors=True)
                    raise
                (env_dir / _COMPLETE).write_text(json.dumps(marker), encoding="utf-8")
            else:
                self._say(f"Using the cached {kind} environment {env_dir}")
            self._refresh_mltrail(env_dir)
        return self.env_python(env_dir)
