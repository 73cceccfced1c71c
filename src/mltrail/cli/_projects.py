"""``mltrail run``: run an MLproject as a tracked run (MLflow's ``mlflow run``), or run a
recorded project run again (``--from-run``)."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Iterator
from typing import Any

import click

from mltrail._exceptions import InvalidArgument
from mltrail.cli._common import handle_errors, tracking_uri_option
from mltrail.tracking._uri import set_tracking_uri

__all__ = ["run"]

ENV_MANAGERS = ("local", "virtualenv", "uv", "conda")


def _pairs(values: tuple[str, ...], option: str, flags: bool = False) -> dict[str, Any]:
    """``name=value`` arguments as a dict (a bare ``name`` is True when *flags*)."""
    out: dict[str, Any] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not name or (not sep and not flags):
            raise click.UsageError(f"Invalid {option} {item!r}: expected NAME=VALUE")
        if name in out:
            raise click.UsageError(f"Repeated {option} {name!r}")
        out[name] = value if sep else True
    return out


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM ends ``mltrail run`` as Ctrl-C does: the command is cancelled, the run KILLED."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _progress_on_stderr() -> Iterator[None]:
    """The runner's progress (the command, how the run ended) on stderr, as MLflow logs it."""
    logger = logging.getLogger("mltrail.projects")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


@click.command("run")
@click.argument("uri", required=False)
@click.option(
    "-e",
    "--entry-point",
    metavar="NAME",
    default=None,
    help="The entry point to run [default: main]. A name that is no entry point runs the "
    "project's file of that name: .py with python, .sh with $SHELL.",
)
@click.option(
    "-v",
    "--version",
    metavar="VERSION",
    help="The git commit, branch or tag to run (the repository is cloned; a local working "
    "copy is never changed).",
)
@click.option(
    "-P",
    "--param-list",
    metavar="K=V",
    multiple=True,
    help="A parameter of the entry point; repeat for more. A parameter it does not declare "
    "is passed to its command as --NAME VALUE.",
)
@click.option(
    "-A",
    "--docker-args",
    metavar="OPT",
    multiple=True,
    help="A `docker run` option for a docker_env project: -A gpus=all gives --gpus all, "
    "-A t gives -t.",
)
@click.option(
    "--experiment-name",
    envvar="MLFLOW_EXPERIMENT_NAME",
    help="The experiment of the run (created if missing).",
)
@click.option(
    "--experiment-id",
    envvar="MLFLOW_EXPERIMENT_ID",
    help="The id of the experiment of the run.",
)
@click.option(
    "-b",
    "--backend",
    metavar="BACKEND",
    default="local",
    show_default=True,
    help="Where the project runs: local (the only backend mltrail has).",
)
@click.option(
    "-c",
    "--backend-config",
    metavar="JSON",
    help="The backend's configuration: a JSON object or a .json file (local takes none).",
)
@click.option(
    "--env-manager",
    type=click.Choice(ENV_MANAGERS),
    metavar="NAME",
    default=None,
    help="local (this Python), virtualenv or uv (built from python_env.yaml, cached), or "
    "conda (conda.yaml). Default: as the project declares (virtualenv, or conda for a "
    "conda_env project).",
)
@click.option(
    "--env-root",
    type=click.Path(file_okay=False),
    metavar="DIR",
    envvar="MLTRAIL_ENV_ROOT",
    show_envvar=True,
    help="Where environments are built and cached. Default: ~/.cache/mltrail/envs.",
)
@click.option(
    "--storage-dir",
    envvar="MLFLOW_TMP_DIR",
    metavar="DIR",
    help="Where remote files given to 'path' parameters are downloaded (kept afterwards).",
)
@click.option("--run-id", metavar="RUN_ID", help="Log into this existing run instead of a new one.")
@click.option("--run-name", metavar="NAME", help="The name of the new run.")
@click.option(
    "--build-image",
    is_flag=True,
    default=False,
    help="docker_env projects: build an image holding the project's files from the "
    "docker_env image (default: mount the project folder into the image).",
)
@click.option(
    "--from-run",
    metavar="RUN_ID",
    help="Run a recorded project run again: its source at its git commit, entry point, "
    "parameters and environment manager, as a new run (options given here override them).",
)
@tracking_uri_option
@handle_errors
def run(
    uri: str | None,
    entry_point: str | None,
    version: str | None,
    param_list: tuple[str, ...],
    docker_args: tuple[str, ...],
    experiment_name: str | None,
    experiment_id: str | None,
    backend: str,
    backend_config: str | None,
    env_manager: str | None,
    env_root: str | None,
    storage_dir: str | None,
    run_id: str | None,
    run_name: str | None,
    build_image: bool,
    from_run: str | None,
    tracking_uri: str | None,
) -> None:
    """Run the project at URI (a folder, a git repository or git URL, with #subdirectory)
    as a tracked run, and wait for it to end.

    The command runs with MLFLOW_RUN_ID (and MLTRAIL_RUN_ID), MLFLOW_TRACKING_URI and
    MLFLOW_EXPERIMENT_ID set, so that start_run() in it logs into the run. The run ends
    FINISHED, FAILED (exit code in the mltrail.project.exitCode tag) or KILLED (Ctrl-C).
    """
    from mltrail import projects  # the runner (yaml, git, subprocess) loads when a run starts

    if experiment_id is not None and experiment_name is not None:
        raise click.UsageError("Specify only one of --experiment-name and --experiment-id")
    if (uri is None) == (from_run is None):
        raise click.UsageError("Give a project URI or --from-run RUN_ID (one of them)")
    parameters = _pairs(param_list, "-P")
    if tracking_uri:
        set_tracking_uri(tracking_uri)
    try:
        with _terminate_as_interrupt(), _progress_on_stderr():
            if from_run is not None:
                if run_id is not None:
                    raise InvalidArgument("--from-run makes a new run: it takes no --run-id")
                submitted = projects.reproduce_run(
                    from_run,
                    entry_point=entry_point,
                    version=version,
                    parameters=parameters,
                    experiment_name=experiment_name,
                    experiment_id=experiment_id,
                    run_name=run_name,
                    env_manager=env_manager,
                    storage_dir=storage_dir,
                    env_root=env_root,
                )
            else:
                assert uri is not None
                submitted = projects.run(
                    uri,
                    entry_point or "main",
                    version,
                    parameters,
                    docker_args=_pairs(docker_args, "-A", flags=True),
                    experiment_name=experiment_name,
                    experiment_id=experiment_id,
                    backend=backend,
                    backend_config=backend_config,
                    storage_dir=storage_dir,
                    run_id=run_id,
                    run_name=run_name,
                    env_manager=env_manager,
                    build_image=build_image,
                    env_root=env_root,
                )
    except KeyboardInterrupt:
        click.echo("Aborted: the run was cancelled (KILLED).", err=True)
        sys.exit(130)
    click.echo(submitted.run_id)
