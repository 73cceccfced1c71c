"""``mltrail artifacts``: list, download and log a run's artifacts."""

from __future__ import annotations

import os

import click

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.artifacts import (
    ArtifactRepository,
    download_artifacts,
    get_artifact_repository,
    validate_artifact_path,
)
from mltrail.cli._common import (
    PROGRESS_THRESHOLD,
    echo_json_lines,
    echo_table,
    handle_errors,
    json_option,
    make_client,
    progress,
    tracking_uri_option,
)
from mltrail.tracking._uri import set_tracking_uri

__all__ = ["artifacts"]

run_id_option = click.option(
    "--run-id", "-r", required=True, metavar="ID", help="The run the artifacts belong to."
)


@click.group("artifacts")
def artifacts() -> None:
    """List, download and log the artifacts of runs."""


@artifacts.command("list")
@run_id_option
@click.option(
    "--artifact-path",
    "-a",
    default=None,
    metavar="PATH",
    help="A folder inside the run's artifacts (default: the top level).",
)
@json_option
@tracking_uri_option
@handle_errors
def list_artifacts(
    run_id: str, artifact_path: str | None, as_json: bool, tracking_uri: str | None
) -> None:
    """List a run's artifacts.

    Shows the files and folders directly inside --artifact-path. Folders end in '/' and have
    no size; sizes are in bytes.
    """
    infos = make_client(tracking_uri).list_artifacts(run_id, artifact_path)
    if as_json:
        echo_json_lines(info.to_dict() for info in infos)
        return
    echo_table(
        ["Path", "Size"],
        (
            [f"{info.path}/", ""] if info.is_dir else [info.path, str(info.file_size)]
            for info in infos
        ),
    )


def _walk(repo: ArtifactRepository, folder: str) -> tuple[list[str], list[str]]:
    """All folders and files below *folder* (artifact paths), parents before children."""
    folders: list[str] = []
    files: list[str] = []
    pending = [folder]
    while pending:
        for info in repo.list_artifacts(pending.pop()):
            if info.is_dir:
                folders.append(info.path)
                pending.append(info.path)
            else:
                files.append(info.path)
    return folders, files


def _download(repo: ArtifactRepository, run_id: str, path: str, dst_path: str | None) -> str:
    """Download a file or a folder; a folder of many files file by file, with a progress bar."""
    import tempfile

    if path:
        info = repo.file_info(path)
        if info is None:
            raise NotFound(f"Run {run_id} has no artifact {path!r}")
        if not info.is_dir:
            return repo.download_artifacts(path, dst_path)
    folders, files = _walk(repo, path)
    if not path and not folders and not files:
        raise NotFound(f"Run {run_id} has no artifacts")
    if len(files) <= PROGRESS_THRESHOLD:
        return repo.download_artifacts(path, dst_path)
    target = os.path.abspath(dst_path) if dst_path else tempfile.mkdtemp(prefix="mltrail-")
    for folder in [path, *folders] if path else folders:
        os.makedirs(os.path.join(target, *folder.split("/")), exist_ok=True)
    with progress(files, "Downloading artifacts") as bar:
        for file in bar:
            repo.download_artifacts(file, target)
    return os.path.join(target, *path.split("/")) if path else target


@artifacts.command("download")
@click.option("--run-id", "-r", default=None, metavar="ID", help="The run the artifacts belong to.")
@click.option(
    "--artifact-path",
    "-a",
    default=None,
    metavar="PATH",
    help="The file or folder to download (default: all of the run's artifacts).",
)
@click.option(
    "--artifact-uri",
    "-u",
    default=None,
    metavar="URI",
    help="Download this artifact URI instead (runs:/..., models:/..., s3://..., a path).",
)
@click.option(
    "--dst-path",
    "-d",
    default=None,
    type=click.Path(file_okay=False),
    help="The local folder to download into (default: a new private temporary folder).",
)
@tracking_uri_option
@handle_errors
def download(
    run_id: str | None,
    artifact_path: str | None,
    artifact_uri: str | None,
    dst_path: str | None,
    tracking_uri: str | None,
) -> None:
    """Download artifacts and print their local path.

    A file or a folder (with everything inside it) is copied into --dst-path, keeping its
    path inside the run's artifacts, and the local path of the copy is printed. Give
    --run-id (with --artifact-path) or --artifact-uri.
    """
    if (run_id is None) == (artifact_uri is None):
        raise InvalidArgument("Give either --run-id or --artifact-uri")
    if artifact_uri is not None:
        if artifact_path is not None:
            raise InvalidArgument("--artifact-path goes with --run-id, not --artifact-uri")
        if tracking_uri:
            set_tracking_uri(tracking_uri)
        click.echo(download_artifacts(artifact_uri=artifact_uri, dst_path=dst_path))
        return
    assert run_id is not None
    path = validate_artifact_path(artifact_path)
    client = make_client(tracking_uri)
    run = client.get_run(run_id)
    # mlflow-artifacts: URIs resolve against the tracking server the command talks to.
    repo = get_artifact_repository(run.info.artifact_uri, tracking_uri=client.tracking_uri)
    click.echo(_download(repo, run_id, path, dst_path))


@artifacts.command("log-artifact")
@click.option(
    "--local-file",
    "-l",
    required=True,
    type=click.Path(exists=True, readable=True),
    help="The local file to log (a folder is logged with everything inside it).",
)
@run_id_option
@click.option(
    "--artifact-path",
    "-a",
    default=None,
    metavar="PATH",
    help="The folder inside the run's artifacts to put it in (default: the top level).",
)
@tracking_uri_option
@handle_errors
def log_artifact(
    local_file: str, run_id: str, artifact_path: str | None, tracking_uri: str | None
) -> None:
    """Copy a local file (or folder) into a run's artifacts."""
    import posixpath

    client = make_client(tracking_uri)
    client.log_artifact(run_id, local_file, artifact_path)
    name = os.path.basename(os.path.normpath(local_file))
    where = posixpath.join(artifact_path, name) if artifact_path else name
    click.echo(f"Logged {local_file} to run {run_id} as {where}")
