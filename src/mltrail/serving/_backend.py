"""The ``python_function`` flavor's :class:`~mltrail.models.FlavorBackend`: MLflow's
``PyFuncBackend``, which ``mltrail models predict|serve|prepare-env|generate-dockerfile``,
``mltrail.models.predict`` and ``mltrail.models.build_docker`` use.

With ``env_manager="local"`` the model runs in this Python; with ``virtualenv``, ``uv`` or
``conda`` in an environment built from the model's ``python_env.yaml``/``requirements.txt``
(or ``conda.yaml``), cached and reused, where ``python -m mltrail.serving`` scores or serves
it.  :func:`get_flavor_backend` picks the backend of a model from its ``MLmodel``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from mltrail._envs import EnvironmentManager, docker_engine_problem
from mltrail._exceptions import (
    InvalidArgument,
    MltrailError,
    NotFound,
    TemporarilyUnavailable,
)
from mltrail.models._flavor_backend import FlavorBackend
from mltrail.models._model import Model
from mltrail.models._uri import download_model
from mltrail.serving._app import ScoringSettings
from mltrail.serving._docker import generate_dockerfile
from mltrail.serving._predict import INPUT_TYPES, open_input, predict_stream
from mltrail.serving._server import ServerOptions, load_model, local_model_dir, serve, serve_model

__all__ = ["ENV_MANAGERS", "PyFuncBackend", "get_flavor_backend", "run_in_env"]

ENV_MANAGERS = ("local", "virtualenv", "uv", "conda")
FLAVOR_NAME = "python_function"


def _child_env(extra_envs: Mapping[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(extra_envs or {})
    env["PYTHONNOUSERSITE"] = "1"
    return env


def run_in_env(python: str, args: list[str], extra_envs: Mapping[str, str] | None = None) -> int:
    """Run ``python -m mltrail.serving ARGS``; SIGINT and SIGTERM are passed on to it."""
    proc = subprocess.Popen([python, "-m", "mltrail.serving", *args], env=_child_env(extra_envs))

    def forward(signum: int, frame: Any) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def _environment(extra_envs: Mapping[str, str] | None) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in extra_envs or {}}
    os.environ.update(extra_envs or {})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _override(env_manager: str, pip_requirements_override: Sequence[str] | None) -> list[str]:
    """The requirements to install over the model's (MLflow's ``pip_requirements_override``),
    checked: only an environment built for the model can take them."""
    if pip_requirements_override is None:
        return []
    if isinstance(pip_requirements_override, str) or not all(
        isinstance(r, str) and r.strip() for r in pip_requirements_override
    ):
        raise InvalidArgument(
            f"Invalid pip_requirements_override {pip_requirements_override!r}: expected a list "
            "of requirement strings such as ['scikit-learn==1.5.0']"
        )
    override = [r.strip() for r in pip_requirements_override]
    if override and env_manager == "local":
        raise InvalidArgument(
            "pip_requirements_override is not supported with env_manager 'local' (this "
            "Python's packages are used as they are): use 'virtualenv', 'uv' or 'conda'"
        )
    return override


class PyFuncBackend(FlavorBackend):
    """Predict, serve and package ``python_function`` models (MLflow's arguments).

    *workers* is the number of server processes; *env_root_dir* where environments are built
    and cached (default ``~/.cache/mltrail/envs``).  mltrail always installs itself into the
    environments it builds (*install_mlflow* changes nothing).  mltrail's own options:
    *settings* (the scoring server's timeout, body size, threads and column limits; *timeout*
    of :meth:`serve` replaces its timeout), *log_level*, *access_log*, and *echo* (say what is
    being built on standard error).
    """

    def __init__(
        self,
        config: dict[str, Any],
        env_manager: str,
        workers: int = 1,
        install_mlflow: bool = False,
        create_env_root_dir: bool = False,
        env_root_dir: str | None = None,
        *,
        settings: ScoringSettings | None = None,
        log_level: str = "info",
        access_log: bool = False,
        echo: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(config=config, **kwargs)
        if env_manager not in ENV_MANAGERS:
            raise InvalidArgument(
                f"Invalid env_manager {env_manager!r}: expected one of {', '.join(ENV_MANAGERS)}"
            )
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise InvalidArgument(f"Invalid workers {workers!r}: expected a positive integer")
        self._env_manager = env_manager
        self._nworkers = workers or 1
        self._install_mlflow = install_mlflow
        self._env_root_dir = env_root_dir
        if create_env_root_dir and env_root_dir is not None:
            os.makedirs(env_root_dir, exist_ok=True)
        self._settings = settings or ScoringSettings()
        self._log_level = log_level
        self._access_log = access_log
        self._echo = echo

    # -- environments -----------------------------------------------------------------------
    def _manager(self, capture_output: bool = False) -> EnvironmentManager:
        return EnvironmentManager(
            self._env_manager, self._env_root_dir, echo=self._echo and not capture_output
        )

    def prepare_env(
        self,
        model_uri: str,
        capture_output: bool = False,
        pip_requirements_override: Sequence[str] | None = None,
        extra_envs: Mapping[str, str] | None = None,
    ) -> str | None:
        """Build (or find cached) the model's environment; its Python, or None for local.
        *pip_requirements_override* replaces the model's requirements of the same packages
        (in an environment of its own)."""
        override = _override(self._env_manager, pip_requirements_override)
        if self._env_manager == "local":
            return None
        with local_model_dir(model_uri) as model_dir:
            return self._env_python(model_dir, capture_output, override)

    def _env_python(
        self, model_dir: str, capture_output: bool = False, override: Sequence[str] = ()
    ) -> str:
        return str(self._manager(capture_output).prepare(model_dir, override))

    def can_score_model(self) -> bool:
        """Whether the environment manager's tool is here (local: always)."""
        try:
            if self._env_manager == "uv":
                EnvironmentManager.uv_binary()
            elif self._env_manager == "conda":
                EnvironmentManager.conda_binary()
        except (NotFound, MltrailError):
            return False
        return True

    # -- scoring ----------------------------------------------------------------------------
    def predict(
        self,
        model_uri: str,
        input_path: str | None,
        output_path: str | None,
        content_type: str,
        pip_requirements_override: Sequence[str] | None = None,
        extra_envs: Mapping[str, str] | None = None,
        *,
        output_format: str = "json",
        batch_size: int = 10_000,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> None:
        """Score *input_path* (standard input when None) into *output_path* (standard output
        when None or ``-``), as the scoring server reads and answers: ``json`` predictions
        are ``{"predictions": ...}``; *output_format* ``csv`` writes a table."""
        override = _override(self._env_manager, pip_requirements_override)
        if content_type not in INPUT_TYPES:
            raise InvalidArgument(
                f"Invalid content_type {content_type!r}: expected one of {', '.join(INPUT_TYPES)}"
            )
        if self._env_manager != "local":
            with local_model_dir(model_uri) as model_dir:
                python = self._env_python(model_dir, override=override)
                args = ["predict", "--model-path", model_dir, "--content-type", content_type]
                args += ["--output-type", output_format, "--batch-size", str(batch_size)]
                if input_path:
                    args += ["--input", os.path.abspath(input_path)]
                if output_path:
                    args += ["--output", os.path.abspath(output_path)]
                code = run_in_env(python, args, extra_envs)
            if code:
                raise InvalidArgument(f"Prediction failed in the model's environment (exit {code})")
            return
        with _environment(extra_envs):
            model = load_model(model_uri)
            source = open_input(input_path)
            try:
                if output_path is None or output_path == "-":
                    predict_stream(
                        model, source, sys.stdout, content_type, output_format, batch_size, progress
                    )
                else:
                    with open(output_path, "w", encoding="utf-8", newline="") as sink:
                        predict_stream(
                            model, source, sink, content_type, output_format, batch_size, progress
                        )
            finally:
                if source is not sys.stdin.buffer:
                    source.close()

    # -- serving ----------------------------------------------------------------------------
    def _serve_args(self, model_dir: str, port: int, host: str, timeout: float) -> list[str]:
        s = self._settings
        args = ["serve", "--model-path", model_dir, "--host", host, "--port", str(port)]
        args += ["--workers", str(self._nworkers), "--timeout", str(timeout)]
        args += ["--max-body-size", str(s.max_body_bytes), "--max-columns", str(s.max_columns)]
        args += ["--threads", str(s.threads), "--log-level", self._log_level]
        return [*args, *(["--access-log"] if self._access_log else [])]

    def serve(
        self,
        model_uri: str,
        port: int,
        host: str,
        timeout: float,
        synchronous: bool = True,
        stdout: Any = None,
        stderr: Any = None,
        model_config: dict[str, Any] | None = None,
    ) -> subprocess.Popen[bytes] | None:
        """Serve the model (MLflow's scoring protocol).  Synchronous: until the server stops
        (an error when it fails); otherwise its process is returned at once.  *model_config*
        is handed to the model when it is served by one worker in this process."""
        if model_config is not None and not (
            synchronous and self._env_manager == "local" and self._nworkers == 1
        ):
            raise InvalidArgument(
                "model_config is given to a model served synchronously by one local worker"
            )
        if synchronous and self._env_manager == "local":
            settings = ScoringSettings(
                timeout or None,
                self._settings.max_body_bytes,
                self._settings.threads,
                max_columns=self._settings.max_columns,
            )
            options = ServerOptions(host, port, self._nworkers, self._log_level, self._access_log)
            if model_config is not None:
                serve_model(load_model(model_uri, model_config), settings, options)
            else:
                serve(model_uri, settings, options)
            return None
        if not synchronous:  # the server outlives this call: a copy of its own for a remote model
            model_dir = download_model(model_uri)
            python = sys.executable
            if self._env_manager != "local":
                python = self._env_python(model_dir)
            args = self._serve_args(model_dir, port, host, timeout)
            return subprocess.Popen(
                [python, "-m", "mltrail.serving", *args],
                stdout=stdout,
                stderr=stderr,
                env=_child_env(None),
            )
        with local_model_dir(model_uri) as model_dir:
            python = self._env_python(model_dir)
            code = run_in_env(python, self._serve_args(model_dir, port, host, timeout))
        if code:
            raise MltrailError(f"The model server exited with code {code}")
        return None

    # -- Docker -----------------------------------------------------------------------------
    @staticmethod
    def _check_docker_arguments(install_java: bool, mlflow_home: str | None) -> None:
        if mlflow_home is not None or install_java:
            raise InvalidArgument(
                "Invalid Docker arguments: mlflow_home and install_java are not supported "
                "(the image installs the running mltrail; Java-based flavors are not served)"
            )

    def generate_dockerfile(
        self,
        model_uri: str,
        output_dir: str,
        install_java: bool = False,
        install_mlflow: bool = False,
        mlflow_home: str | None = None,
        base_image: str | None = None,
    ) -> str:
        """Write the build context (Dockerfile, model, mltrail) into *output_dir* (empty or
        new); returns the Dockerfile's path.  The image serves the model on port 8080."""
        self._check_docker_arguments(install_java, mlflow_home)
        with local_model_dir(model_uri) as model_dir:
            path = generate_dockerfile(
                model_dir, output_dir, base_image=base_image, model_uri=model_uri
            )
        return str(path)

    def build_image(
        self,
        model_uri: str,
        image_name: str,
        install_java: bool = False,
        install_mlflow: bool = False,
        mlflow_home: str | None = None,
        base_image: str | None = None,
    ) -> None:
        """Build the image *image_name* with ``docker build``.  Without a Docker engine,
        :class:`TemporarilyUnavailable` names the build context written, which
        ``docker build -t NAME FOLDER`` builds on another machine."""
        self._check_docker_arguments(install_java, mlflow_home)
        if not isinstance(image_name, str) or not image_name.strip() or image_name[0] == "-":
            raise InvalidArgument(f"Invalid image name {image_name!r}")
        context = tempfile.mkdtemp(prefix="mltrail-docker-")
        self.generate_dockerfile(model_uri, context, base_image=base_image)
        problem = docker_engine_problem()
        if problem is not None:
            raise TemporarilyUnavailable(
                f"Cannot build the image {image_name!r}: {problem}.  The build context is in "
                f"{context}: build it where Docker runs with "
                f"`docker build -t {image_name} {context}`"
            )
        done = subprocess.run(
            [str(shutil.which("docker")), "build", "-t", image_name, context],
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if done.returncode != 0:
            raise InvalidArgument(
                f"`docker build` of {image_name!r} failed (exit {done.returncode}); the context "
                f"is in {context}"
            )
        shutil.rmtree(context, ignore_errors=True)


def get_flavor_backend(
    model_uri: str | None, build_docker: bool = True, **kwargs: Any
) -> PyFuncBackend:
    """The backend for the model *model_uri* names (MLflow's ``get_flavor_backend``): the
    ``python_function`` one when the model has that flavor and the backend can score it (or,
    with *build_docker*, build its image); *kwargs* go to the backend.  No URI: a backend for
    any python_function model."""
    if not model_uri:
        return PyFuncBackend({}, **kwargs)
    flavors = Model.load(model_uri).flavors
    if FLAVOR_NAME in flavors:
        backend = PyFuncBackend(flavors[FLAVOR_NAME], **kwargs)
        if (build_docker and backend.can_build_image()) or backend.can_score_model():
            return backend
    raise InvalidArgument(
        f"No suitable flavor backend was found for the model {model_uri!r} (flavors: "
        f"{sorted(flavors)}); mltrail serves python_function models"
    )
