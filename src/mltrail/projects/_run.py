"""Running a project: ``mltrail.projects.run`` (MLflow's ``mlflow.projects.run``).

The steps, in order: resolve the experiment; fetch the project (in place, or a clone); read
its MLproject file and check the parameters (a bad one creates no run); check that the tool
its environment needs is there (docker, conda, uv); create the run with MLflow's project tags
and every parameter; log the project's MLproject and environment files as the run's
artifacts under ``project/``; build or find the environment; start the command as a process
group of its own, with ``MLFLOW_RUN_ID``, ``MLFLOW_TRACKING_URI`` and
``MLFLOW_EXPERIMENT_ID`` (and their ``MLTRAIL_`` names) set so that ``start_run()`` in it
logs into the run.  The run's status then follows the process (see :mod:`._submitted`):
FINISHED on exit code 0 (unless the command ended the run itself), FAILED otherwise, KILLED
when cancelled; the exit code is recorded in the ``mltrail.project.exitCode`` tag, MLflow
recording none.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mltrail._envs import EnvironmentManager
from mltrail._exceptions import ExecutionException, InvalidArgument
from mltrail._run_context import (
    GIT_COMMIT_TAG,
    SOURCE_NAME_TAG,
    SOURCE_TYPE_TAG,
    USER_TAG,
    current_user,
)
from mltrail.entities import Param, Run, RunStatus
from mltrail.projects._docker import DockerPlan, check_docker, docker_plan
from mltrail.projects._environment import (
    DOCKER,
    RunEnvironment,
    choose_env_manager,
    prepare_environment,
)
from mltrail.projects._fetch import FetchedProject, fetch_project
from mltrail.projects._spec import EntryPoint, Project, load_project
from mltrail.projects._submitted import LocalSubmittedRun, SubmittedRun
from mltrail.tracking._artifact_helpers import download_artifacts
from mltrail.tracking._client import PARENT_RUN_TAG, MlflowClient
from mltrail.tracking._fluent import active_run, current_experiment_id
from mltrail.validation import (
    MAX_PARAMS_PER_BATCH,
    MAX_TAG_VALUE_LENGTH,
    validate_key,
    validate_param_value,
)

__all__ = [
    "BACKEND_TAG",
    "DOCKER_IMAGE_ID_TAG",
    "DOCKER_IMAGE_URI_TAG",
    "ENTRY_POINT_TAG",
    "ENV_ARTIFACT_PATH",
    "ENV_TAG",
    "EXIT_CODE_TAG",
    "PARAMETERS_TAG",
    "run",
    "run_env_vars",
]

ENTRY_POINT_TAG = "mlflow.project.entryPoint"
ENV_TAG = "mlflow.project.env"
BACKEND_TAG = "mlflow.project.backend"
DOCKER_IMAGE_URI_TAG = "mlflow.docker.image.uri"
DOCKER_IMAGE_ID_TAG = "mlflow.docker.image.id"
#: The command's exit code (128+N when signal N ended it); MLflow records none.
EXIT_CODE_TAG = "mltrail.project.exitCode"
#: The parameters given to the run (JSON), which ``--from-run`` passes again; the run's
#: params also hold the defaults and what the command logged itself.
PARAMETERS_TAG = "mltrail.project.parameters"
#: Where the project's MLproject and environment files are logged in the run's artifacts.
ENV_ARTIFACT_PATH = "project"
BACKENDS = ("local",)
PROJECT_SOURCE_TYPE = "PROJECT"

_log = logging.getLogger("mltrail.projects")
_REQUIREMENTS_LINE = re.compile(r"(?:^|[\s'\"\[,])(?:-r|--requirement)\s+([^\s'\"\],]+)")


def run_env_vars(run_id: str, experiment_id: str, tracking_uri: str) -> dict[str, str]:
    """The variables that make ``start_run()`` in the command log into the run."""
    env: dict[str, str] = {}
    for prefix in ("MLFLOW_", "MLTRAIL_"):
        env[f"{prefix}RUN_ID"] = run_id
        env[f"{prefix}TRACKING_URI"] = tracking_uri
        env[f"{prefix}EXPERIMENT_ID"] = str(experiment_id)
    return env


def _backend_config(value: Mapping[str, Any] | str | None) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    text = str(value)
    if text.endswith(".json") or os.path.isfile(text):
        try:
            text = Path(text).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidArgument(
                f"Cannot read the backend config {value!r}: {exc.strerror}"
            ) from None
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"Invalid backend config: not JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise InvalidArgument("Invalid backend config: expected a JSON object")
    return parsed


def _check_backend(backend: str | None, backend_config: Mapping[str, Any] | str | None) -> None:
    if (backend or "local") not in BACKENDS:
        raise InvalidArgument(
            f"Unsupported backend {backend!r}: mltrail runs projects on this machine only "
            "(-b local); Databricks and Kubernetes backends are not supported"
        )
    config = _backend_config(backend_config)
    if config:
        _log.warning("the local backend takes no configuration: ignoring %s", sorted(config))


def _experiment_id(
    client: MlflowClient, experiment_name: str | None, experiment_id: str | int | None
) -> str:
    if experiment_id is not None:
        return client.get_experiment(str(experiment_id)).experiment_id
    if experiment_name:
        found = client.get_experiment_by_name(experiment_name)
        return found.experiment_id if found else client.create_experiment(experiment_name)
    return current_experiment_id(client)


def _preflight(manager: str, project: Project) -> None:
    """Stop before a run exists when the tool the environment needs is missing."""
    if manager == DOCKER:
        if not project.name:
            raise InvalidArgument(
                f"Invalid MLproject ({project.mlproject_file}): a docker_env project needs a "
                "name, which names its image"
            )
        check_docker()
    elif manager == "conda":
        EnvironmentManager.conda_binary()
    elif manager == "uv":
        EnvironmentManager.uv_binary()


def _download(uri: str, folder: Path) -> str:
    return download_artifacts(artifact_uri=uri, dst_path=str(folder))


def _new_run(
    client: MlflowClient,
    experiment_id: str,
    fetched: FetchedProject,
    entry: EntryPoint,
    parameters: Mapping[str, Any] | None,
    manager: str,
    run_name: str | None,
    extra_tags: Mapping[str, str],
) -> Run:
    tags: dict[str, str] = {
        USER_TAG: current_user(),
        SOURCE_NAME_TAG: fetched.source_name,
        SOURCE_TYPE_TAG: PROJECT_SOURCE_TYPE,
        ENTRY_POINT_TAG: entry.name,
        ENV_TAG: manager,
        BACKEND_TAG: "local",
        **fetched.git_tags,
    }
    given = json.dumps({str(k): str(v) for k, v in (parameters or {}).items()}, sort_keys=True)
    if len(given) <= MAX_TAG_VALUE_LENGTH:
        tags[PARAMETERS_TAG] = given
    else:
        _log.warning("the parameters are too long for the %s tag: not recorded", PARAMETERS_TAG)
    parent = active_run()
    if parent is not None:
        tags[PARENT_RUN_TAG] = parent.info.run_id
    tags.update(extra_tags)
    declared, extra = entry.parameter_values(parameters)
    params = [
        Param(validate_key(k, "param"), validate_param_value(k, v))  # refused before a run
        for k, v in {**declared, **extra}.items()
    ]
    created = client.create_run(experiment_id, tags=tags, run_name=run_name)
    try:
        for start in range(0, len(params), MAX_PARAMS_PER_BATCH):
            batch = params[start : start + MAX_PARAMS_PER_BATCH]
            client.log_batch(created.info.run_id, params=batch)
    except BaseException:
        client.set_terminated(created.info.run_id, "FAILED")
        raise
    return created


def _environment_files(project: Project) -> list[Path]:
    """The MLproject file, the environment file and the requirements files it names."""
    files = [f for f in (project.mlproject_file, project.env_file) if f is not None]
    if project.env_file is not None:
        text = project.env_file.read_text(encoding="utf-8", errors="replace")
        root = project.directory.resolve()
        for name in _REQUIREMENTS_LINE.findall(text):
            path = (project.env_file.parent / name).resolve()
            if path.is_relative_to(root) and path.is_file() and path not in files:
                files.append(path)
    return files


def _log_environment_files(client: MlflowClient, run_id: str, project: Project) -> None:
    root = project.directory.resolve()
    try:
        for path in _environment_files(project):
            parent = path.resolve().parent.relative_to(root).as_posix()
            folder = ENV_ARTIFACT_PATH if parent == "." else f"{ENV_ARTIFACT_PATH}/{parent}"
            client.log_artifact(run_id, str(path), folder)
    except Exception as exc:  # the run still runs: its artifacts store may be read-only here
        _log.warning("could not log the project's environment files: %s", exc)


def _docker_image(client: MlflowClient, run_id: str, plan: DockerPlan, work_dir: Path) -> None:
    """Log in, then pull or build the image; record its URI and id on the run."""
    if plan.login is not None:
        _checked(plan.login, "logging in to the registry", stdin=plan.login_password)
    if plan.build is not None:
        _checked(plan.build, "building the image", stdin=plan.dockerfile, cwd=work_dir)
    elif plan.pull is not None:
        present = subprocess.run(
            ["docker", "image", "inspect", plan.image], capture_output=True, check=False
        )
        if present.returncode != 0:
            _checked(plan.pull, "pulling the image")
    image_id = _checked(
        ["docker", "image", "inspect", "--format", "{{.Id}}", plan.image], "reading the image id"
    )
    client.set_tag(run_id, DOCKER_IMAGE_URI_TAG, plan.image)
    client.set_tag(run_id, DOCKER_IMAGE_ID_TAG, image_id.strip())


def _checked(
    command: list[str], what: str, stdin: str | None = None, cwd: Path | None = None
) -> str:
    done = subprocess.run(
        command, input=stdin or "", capture_output=True, text=True, cwd=cwd, check=False
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-2000:]
        raise ExecutionException(f"docker failed while {what}: {tail}")
    return done.stdout


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _record_exit(client: MlflowClient, run_id: str, returncode: int, cancelled: bool) -> str:
    """Record how the command ended; the run's final status."""
    code = _exit_code(returncode)
    client.set_tag(run_id, EXIT_CODE_TAG, str(code))
    if cancelled:
        status = "KILLED"
    elif returncode != 0:
        status = "FAILED"
    else:
        status = client.get_run(run_id).info.status
        if RunStatus.is_terminated(status):  # the command ended the run itself: its word
            _log.info("=== Run (ID '%s') %s (exit code 0) ===", run_id, status)
            return status
        status = "FINISHED"
    client.set_terminated(run_id, status)
    _log.info("=== Run (ID '%s') %s (exit code %d) ===", run_id, status, code)
    return status


def _start(
    client: MlflowClient,
    created: Run,
    command: str,
    work_dir: Path,
    environment: RunEnvironment,
) -> subprocess.Popen[bytes]:
    info = created.info
    env = environment.apply(dict(os.environ))
    env.update(run_env_vars(info.run_id, info.experiment_id, client.tracking_uri))
    _log.info("=== Running command '%s' in run with ID '%s' ===", command, info.run_id)
    return subprocess.Popen(
        ["bash", "-c", command], cwd=work_dir, env=env, start_new_session=True, close_fds=True
    )


def _wait_for(submitted: LocalSubmittedRun) -> None:
    try:
        succeeded = submitted.wait()
    except KeyboardInterrupt:
        _log.error("=== Run (ID '%s') interrupted: cancelling it ===", submitted.run_id)
        submitted.cancel()
        raise
    if not succeeded:
        raise ExecutionException(
            f"Run (ID '{submitted.run_id}') failed: its command exited with code "
            f"{_exit_code(submitted.command_proc.returncode)}"
        )


def run(
    uri: str,
    entry_point: str = "main",
    version: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    docker_args: Mapping[str, Any] | None = None,
    experiment_name: str | None = None,
    experiment_id: str | int | None = None,
    backend: str | None = "local",
    backend_config: Mapping[str, Any] | str | None = None,
    storage_dir: str | os.PathLike[str] | None = None,
    synchronous: bool = True,
    run_id: str | None = None,
    run_name: str | None = None,
    env_manager: str | None = None,
    build_image: bool = False,
    docker_auth: Mapping[str, Any] | None = None,
    *,
    env_root: str | os.PathLike[str] | None = None,
    tags: Mapping[str, str] | None = None,
) -> SubmittedRun:
    """Run the project at *uri* (a folder, a git repository or URL, with ``#subdirectory``).

    Returns a :class:`SubmittedRun` (``run_id``, ``wait()``, ``get_status()``,
    ``cancel()``).  With *synchronous* (the default) it returns once the command ended and
    raises :class:`~mltrail.exceptions.ExecutionException` if it failed; Ctrl-C cancels the
    command and ends the run KILLED.  *env_root* is where virtualenv, uv and conda
    environments are cached (default ``~/.cache/mltrail/envs``); *tags* are set on a new run.
    """
    _check_backend(backend, backend_config)
    if experiment_name and experiment_id is not None:
        raise InvalidArgument("Specify only one of experiment_name and experiment_id")
    client = MlflowClient()
    fetched = fetch_project(uri, version)
    scratch: Path | None = None
    try:
        project = load_project(fetched.work_dir)
        entry = project.get_entry_point(entry_point)
        manager = choose_env_manager(project, env_manager)
        if storage_dir is not None:
            os.makedirs(storage_dir, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="mltrail-run-", dir=storage_dir))
        command = entry.compute_command(parameters, scratch, _download)
        _preflight(manager, project)
        target_experiment = _experiment_id(client, experiment_name, experiment_id)
        if run_id:
            created = client.get_run(run_id)
            client.update_run(run_id, status="RUNNING", name=run_name)
            client.set_tag(run_id, ENV_TAG, manager)
            client.set_tag(run_id, BACKEND_TAG, "local")
        else:
            created = _new_run(
                client, target_experiment, fetched, entry, parameters, manager, run_name, tags or {}
            )
    except BaseException:
        fetched.cleanup()
        if scratch is not None and storage_dir is None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    new_id = created.info.run_id
    assert scratch is not None
    kept_scratch = scratch if storage_dir is None else None

    def cleanup() -> None:
        fetched.cleanup()
        if kept_scratch is not None:
            shutil.rmtree(kept_scratch, ignore_errors=True)

    try:
        _log_environment_files(client, new_id, project)
        environment = prepare_environment(project, manager, scratch, env_root)
        if manager == DOCKER:
            assert project.docker_env is not None
            plan = docker_plan(
                project_name=project.name,
                docker_env=project.docker_env,
                work_dir=fetched.work_dir,
                commit=fetched.git_tags.get(GIT_COMMIT_TAG),
                run_env=run_env_vars(new_id, created.info.experiment_id, client.tracking_uri),
                tracking_uri=client.tracking_uri,
                artifact_uri=created.info.artifact_uri,
                host_env=os.environ,
                docker_args=docker_args,
                build_image=build_image,
                docker_auth=docker_auth,
            )
            _docker_image(client, new_id, plan, fetched.work_dir)
            command = plan.shell_command(command)
        process = _start(client, created, command, fetched.work_dir, environment)
    except BaseException as exc:
        cleanup()
        client.set_terminated(new_id, "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        raise

    def on_exit(returncode: int, cancelled: bool) -> str:
        return _record_exit(client, new_id, returncode, cancelled)

    submitted = LocalSubmittedRun(new_id, process, on_exit, cleanup)
    if synchronous:
        _wait_for(submitted)
    return submitted
