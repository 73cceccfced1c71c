"""``mltrail models``: serve a model over HTTP, score a file with it, write a Dockerfile for it."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from mltrail.cli._common import handle_errors, tracking_uri_option
from mltrail.models._requirements import update_model_requirements
from mltrail.tracking._uri import set_tracking_uri

__all__ = ["models"]

ENV_MANAGERS = ("local", "virtualenv", "uv")


def _model_uri_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-m",
        "--model-uri",
        required=True,
        metavar="URI",
        help=(
            "The model: runs:/<run_id>/<path>, models:/<name>/<version|stage|latest>, "
            "models:/<name>@<alias>, a local folder, s3://... or mlflow-artifacts:/..."
        ),
    )(fn)


_env_root_option = click.option(
    "--env-root",
    type=click.Path(file_okay=False),
    metavar="DIR",
    envvar="MLTRAIL_ENV_ROOT",
    show_envvar=True,
    default=None,
    help="Where virtualenv/uv environments are built and cached. Default: ~/.cache/mltrail/envs.",
)


def _env_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = _env_root_option(fn)
    return click.option(
        "--env-manager",
        type=click.Choice(ENV_MANAGERS),
        default="local",
        show_default=True,
        metavar="NAME",
        help=(
            "local (this Python), virtualenv or uv (an environment built from the model's "
            "python_env.yaml and requirements.txt, cached and reused)."
        ),
    )(fn)


_install_mlflow_option = click.option(
    "--install-mlflow",
    is_flag=True,
    help="Accepted as MLflow's: mltrail is always copied into the environments it builds.",
)


def _key_values(pairs: Sequence[str]) -> dict[str, str]:
    """``--env KEY=VALUE`` options as a mapping."""
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--env")
        found[key] = value
    return found


def _use_tracking_uri(tracking_uri: str | None) -> None:
    if tracking_uri:
        set_tracking_uri(tracking_uri)


def _backend(env_manager: str, env_root: str | None = None, **options: Any) -> Any:
    """The python_function backend (:class:`mltrail.serving.PyFuncBackend`) the commands use."""
    from mltrail.serving._backend import PyFuncBackend

    return PyFuncBackend({}, env_manager, env_root_dir=env_root, **options)


@click.group("models")
def models() -> None:
    """Serve models over HTTP, score files with them, build Docker images of them."""


@models.command("serve", context_settings={"help_option_names": ["--help"]})
@_model_uri_option
@click.option(
    "-p",
    "--port",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    metavar="PORT",
    help="Port to listen on.",
)
@click.option("-h", "--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="N",
    help="Worker processes sharing the port, each with its own copy of the model.",
)
@click.option(
    "-t",
    "--timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds a request may take; slower ones are answered 503. 0: no limit.",
)
@click.option(
    "--max-body-size",
    type=click.IntRange(min=1),
    default=100 * 1024 * 1024,
    show_default=True,
    metavar="BYTES",
    help="Largest request body accepted; larger ones are answered 413.",
)
@click.option(
    "--max-columns",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    metavar="N",
    help="Most columns (named inputs) a request may have; wider ones are answered 400.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    metavar="N",
    help="Predictions that may run at once in each worker.",
)
@_env_options
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
    metavar="LEVEL",
    help="critical, error, warning, info or debug.",
)
@click.option("--access-log", is_flag=True, help="Log every request (uvicorn's access log).")
@_install_mlflow_option
@click.option(
    "--no-conda",
    is_flag=True,
    help="MLflow's older spelling of --env-manager local.",
)
@tracking_uri_option
@handle_errors
def serve(
    model_uri: str,
    port: int,
    host: str,
    workers: int,
    timeout: float,
    max_body_size: int,
    max_columns: int,
    threads: int,
    env_manager: str,
    env_root: str | None,
    log_level: str,
    access_log: bool,
    install_mlflow: bool,
    no_conda: bool,
    tracking_uri: str | None,
) -> None:
    """Serve a model over HTTP (MLflow's scoring protocol).

    Endpoints: GET /ping, /health, /version and /metrics (Prometheus), POST /invocations
    with application/json (one of dataframe_split, dataframe_records, instances, inputs, plus
    optional params), text/csv or application/vnd.apache.parquet. Input is checked against
    the model's signature. Example:

    \b
        mltrail models serve -m models:/churn/3 -p 5001
        curl http://127.0.0.1:5001/invocations -H 'Content-Type: application/json' \\
            -d '{"dataframe_split": {"columns": ["a"], "data": [[1]]}}'
    """
    from mltrail.serving._app import ScoringSettings

    del install_mlflow  # mltrail always copies itself into the environments it builds
    _use_tracking_uri(tracking_uri)
    settings = ScoringSettings(timeout or None, max_body_size, threads, max_columns=max_columns)
    backend = _backend(
        "local" if no_conda else env_manager,
        env_root,
        workers=workers,
        settings=settings,
        log_level=log_level,
        access_log=access_log,
    )
    backend.serve(model_uri, port=port, host=host, timeout=timeout)


def _progress() -> Callable[[int, int | None], None]:
    tty = sys.stderr.isatty()

    def show(done: int, total: int | None) -> None:
        text = f"Scored {done:,} rows" + (
            f" of {total:,} ({100 * done // max(total, 1)}%)" if total else ""
        )
        if tty:
            click.echo("\r" + text, err=True, nl=total is not None and done >= total)
        else:
            click.echo(text, err=True)

    return show


@models.command("predict")
@_model_uri_option
@click.option(
    "-i",
    "--input-path",
    default=None,
    metavar="PATH",
    help="The input file. Default: standard input.",
)
@click.option(
    "-o",
    "--output-path",
    default=None,
    metavar="PATH",
    help="Where predictions are written. Default: standard output.",
)
@click.option(
    "-t",
    "--content-type",
    type=click.Choice(["json", "csv", "parquet"]),
    default="json",
    show_default=True,
    metavar="TYPE",
    help="The input's format, as POST /invocations reads it.",
)
@click.option(
    "--output-format",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
    metavar="FORMAT",
    help='json: {"predictions": [...]} as the server answers; csv: a table.',
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=0),
    default=10_000,
    show_default=True,
    metavar="N",
    help="Rows scored per model call (progress is shown between batches); 0: all at once.",
)
@_env_options
@_install_mlflow_option
@click.option(
    "--pip-requirements-override",
    "-r",
    default=None,
    metavar="REQS",
    help="Requirements replacing the model's of the same packages in the environment built "
    "for it, comma-separated: x==1.0,y==2.0 (not with --env-manager local).",
)
@click.option(
    "--env",
    "envs",
    multiple=True,
    metavar="KEY=VALUE",
    help="An environment variable set while the model predicts (repeatable).",
)
@tracking_uri_option
@handle_errors
def predict(
    model_uri: str,
    input_path: str | None,
    output_path: str | None,
    content_type: str,
    output_format: str,
    batch_size: int,
    env_manager: str,
    env_root: str | None,
    install_mlflow: bool,
    pip_requirements_override: str | None,
    envs: tuple[str, ...],
    tracking_uri: str | None,
) -> None:
    """Score a file with a model: the same input formats and checks as the server.

    Example: mltrail models predict -m runs:/<run_id>/model -i data.csv -t csv -o out.json
    """
    del install_mlflow  # mltrail always copies itself into the environments it builds
    _use_tracking_uri(tracking_uri)
    override = None
    if pip_requirements_override is not None:
        override = [r.strip() for r in pip_requirements_override.split(",") if r.strip()]
    _backend(env_manager, env_root).predict(
        model_uri,
        input_path,
        output_path,
        content_type,
        pip_requirements_override=override,
        extra_envs=_key_values(envs),
        output_format=output_format,
        batch_size=batch_size,
        progress=_progress(),
    )


_ENV_MANAGER_CHOICES = ("local", "virtualenv", "uv", "conda")


def _docker_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """MLflow's options of the Docker commands: --env-manager, --mlflow-home, --install-java
    and --install-mlflow."""
    return functools.reduce(
        lambda f, option: option(f),
        reversed(
            [
                click.option(
                    "--env-manager",
                    type=click.Choice(_ENV_MANAGER_CHOICES),
                    default="virtualenv",
                    show_default=True,
                    metavar="NAME",
                    help="Accepted for MLflow's scripts: the image installs the model's pip "
                    "requirements.",
                ),
                click.option(
                    "--mlflow-home", default=None, metavar="PATH", help="Not supported by mltrail."
                ),
                click.option(
                    "--install-java", type=bool, default=None, help="Not supported by mltrail."
                ),
                click.option(
                    "--install-mlflow",
                    is_flag=True,
                    help="Accepted for MLflow's scripts: the image always has mltrail.",
                ),
            ]
        ),
        fn,
    )


@models.command("generate-dockerfile")
@_model_uri_option
@click.option(
    "-d",
    "--output-directory",
    default="mltrail-dockerfile",
    show_default=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Where the build context is written (must be empty or new).",
)
@click.option(
    "--base-image",
    default=None,
    metavar="IMAGE",
    help="The image to start from. Default: python:<the model's Python version>-slim.",
)
@_docker_options
@tracking_uri_option
@handle_errors
def generate_dockerfile(
    model_uri: str,
    output_directory: str,
    base_image: str | None,
    env_manager: str,
    mlflow_home: str | None,
    install_java: bool | None,
    install_mlflow: bool,
    tracking_uri: str | None,
) -> None:
    """Write a Docker build context (Dockerfile, model, mltrail) that serves the model.

    Then: docker build -t my-model DIR && docker run -p 5001:8080 my-model
    """
    _use_tracking_uri(tracking_uri)
    path = _backend(env_manager).generate_dockerfile(
        model_uri,
        output_directory,
        install_java=bool(install_java),
        install_mlflow=install_mlflow,
        mlflow_home=mlflow_home,
        base_image=base_image,
    )
    click.echo(f"Wrote {path}", err=True)


@models.command("prepare-env")
@_model_uri_option
@click.option(
    "--env-manager",
    type=click.Choice(_ENV_MANAGER_CHOICES),
    default="virtualenv",
    show_default=True,
    metavar="NAME",
    help="virtualenv, uv or conda: build (or find cached) the environment 'serve' and "
    "'predict' use with the same --env-manager; local: nothing to prepare.",
)
@click.option(
    "--install-mlflow",
    is_flag=True,
    help="Accepted for MLflow's scripts: mltrail always installs itself into the environment.",
)
@_env_root_option
@tracking_uri_option
@handle_errors
def prepare_env(
    model_uri: str,
    env_manager: str,
    install_mlflow: bool,
    env_root: str | None,
    tracking_uri: str | None,
) -> None:
    """Build the model's environment ahead of time, so that 'serve' and 'predict' with the
    same --env-manager start at once; prints the environment's Python.

    Example: mltrail models prepare-env -m runs:/<run_id>/model --env-manager uv
    """
    _use_tracking_uri(tracking_uri)
    if env_manager == "local":
        click.echo("--env-manager local uses this Python: nothing to prepare", err=True)
        return
    click.echo(_backend(env_manager, env_root).prepare_env(model_uri))


@models.command("update-pip-requirements")
@_model_uri_option
@click.argument("operation", type=click.Choice(["add", "remove"]))
@click.argument("requirement_strings", nargs=-1, metavar="[REQUIREMENT_STRINGS]...")
@tracking_uri_option
@handle_errors
def update_pip_requirements(
    model_uri: str, operation: str, requirement_strings: tuple[str, ...], tracking_uri: str | None
) -> None:
    """Add requirements to, or remove them from, the model's requirements.txt and conda.yaml.

    'add' replaces a requirement of the same package; 'remove' matches by package name,
    whatever the version.  A registered version (models:/) cannot change: use the run's model.

    Example: mltrail models update-pip-requirements -m runs:/<run_id>/model add "pandas==2.2"
    """
    _use_tracking_uri(tracking_uri)
    update_model_requirements(model_uri, operation, list(requirement_strings))
    click.echo(f"Requirements of {model_uri} updated ({operation})", err=True)


@models.command("build-docker")
@click.option(
    "-m",
    "--model-uri",
    default=None,
    metavar="URI",
    help="The model (required by mltrail: it builds the image of one model).",
)
@click.option("-n", "--name", default="mlflow-pyfunc", show_default=True, help="The image's name.")
@_docker_options
@click.option(
    "--base-image",
    default=None,
    metavar="IMAGE",
    help="The image to start from. Default: python:<the model's Python version>-slim.",
)
@tracking_uri_option
@handle_errors
def build_docker(
    model_uri: str | None,
    name: str,
    env_manager: str,
    mlflow_home: str | None,
    install_java: bool | None,
    install_mlflow: bool,
    base_image: str | None,
    tracking_uri: str | None,
) -> None:
    """Build a Docker image that serves the model on port 8080.

    The build context is 'generate-dockerfile''s.  Where no Docker engine runs, the command
    says so, names the folder holding the context (to build elsewhere with docker build) and
    exits with status 1.

    Example: mltrail models build-docker -m runs:/<run_id>/model -n my-model
    """
    from mltrail.serving._model_api import build_docker as build

    _use_tracking_uri(tracking_uri)
    build(
        model_uri,
        name,
        env_manager,
        mlflow_home=mlflow_home,
        install_java=bool(install_java),
        install_mlflow=install_mlflow,
        base_image=base_image,
    )
    click.echo(f"Built the image {name}", err=True)
