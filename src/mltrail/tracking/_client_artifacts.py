"""The artifact half of MlflowClient: files, folders, text, dicts, figures and images."""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from mltrail import artifacts
from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.artifacts._paths import iter_chunks
from mltrail.tracking import _background
from mltrail.tracking._tables import load_table_of, log_table_to
from mltrail.validation import validate_key

if TYPE_CHECKING:
    import pandas as pd

    from mltrail.artifacts import ArtifactRepository, FileInfo
    from mltrail.entities import RunInfo
    from mltrail.tracking._client import MlflowClient

__all__ = ["ClientArtifacts", "log_file_or_folder"]


def log_file_or_folder(
    repo: ArtifactRepository, local_path: str | os.PathLike[str], artifact_path: str | None
) -> None:
    """Copy a file, or a folder with its name kept, below *artifact_path* in *repo*."""
    if os.path.isdir(local_path):
        name = os.path.basename(os.path.normpath(local_path))
        dest = posixpath.join(artifact_path, name) if artifact_path else name
        repo.log_artifacts(os.fspath(local_path), dest)
    else:
        repo.log_artifact(os.fspath(local_path), artifact_path)


class ClientArtifacts:
    """Artifact methods of the client; needs ``_run_info(run_id)`` from the client."""

    def _run_info(self, run_id: str) -> RunInfo:
        raise NotImplementedError  # provided by MlflowClient

    def _repo(self, run_id: str) -> ArtifactRepository:
        # mlflow-artifacts: URIs are resolved against the client's tracking server.
        tracking_uri = getattr(self, "_tracking_uri", None)
        return artifacts.get_artifact_repository(
            self._run_info(run_id).artifact_uri, tracking_uri=tracking_uri
        )

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a file (or a folder, recursively) into the run's artifacts."""
        log_file_or_folder(self._repo(run_id), local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        self._repo(run_id).log_artifacts(os.fspath(local_dir), artifact_path)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        _background.wait()  # artifacts autologging is still writing are listed too
        return self._repo(run_id).list_artifacts(path)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        """Download *path* of the run's artifacts; as MLflow 3, a path the run's artifacts lack
        whose first segment names a logged model of the run (``model/MLmodel``) comes from
        that model's files, into ``<dst_path>/<model name>/``."""
        _background.wait()
        try:
            return self._repo(run_id).download_artifacts(path, dst_path)
        except NotFound:
            from mltrail.registry._uris import resolve_runs_uri

            root, rest, model_id = resolve_runs_uri(f"runs:/{run_id}/{path}", self)  # type: ignore[arg-type]
            if model_id is None:
                raise
        dst = dst_path if dst_path is not None else tempfile.mkdtemp(prefix="mltrail-")
        dst = os.path.join(dst, path.partition("/")[0])
        os.makedirs(dst, exist_ok=True)
        tracking_uri = getattr(self, "_tracking_uri", None)
        repo = artifacts.get_artifact_repository(root, tracking_uri=tracking_uri)
        return repo.download_artifacts(rest, dst)

    def get_artifact_uri(self, run_id: str, artifact_path: str | None = None) -> str:
        uri = self._run_info(run_id).artifact_uri
        return posixpath.join(uri, artifact_path) if artifact_path else uri

    def _log_via_file(self, run_id: str, artifact_file: str, write: Any, obj: Any) -> None:
        if not artifact_file or artifact_file.endswith("/"):
            raise InvalidArgument(f"Invalid artifact_file {artifact_file!r}: must name a file")
        directory, name = posixpath.split(artifact_file)
        with tempfile.TemporaryDirectory(prefix="mltrail-") as tmp:
            local = os.path.join(tmp, name)
            write(obj, local)
            self._repo(run_id).log_artifact(local, directory or None)

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """Log *data* (a pandas DataFrame or a dict of columns) as the table *artifact_file*
        (``.json`` or ``.parquet``) of run *run_id*, listed in its ``mlflow.loggedArtifacts``
        tag; rows are appended when the file exists already."""
        log_table_to(cast("MlflowClient", self), run_id, data, artifact_file)

    def load_table(
        self,
        experiment_id: str,
        artifact_file: str,
        run_ids: Sequence[str] | None = None,
        extra_columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The table *artifact_file* of the runs of *experiment_id* that logged it (those of
        *run_ids* when given), rows concatenated (newest run first) as a pandas DataFrame;
        *extra_columns* adds columns of ``search_runs``' frame (``run_id``, ``tags.<key>``)."""
        return load_table_of(
            cast("MlflowClient", self), str(experiment_id), artifact_file, run_ids, extra_columns
        )

    def log_stream(self, run_id: str, stream: BinaryIO, artifact_file: str) -> None:
        """Store what a binary stream (an open file, ``io.BytesIO``) holds as *artifact_file*,
        read in blocks (never whole in memory)."""
        if not artifact_file or artifact_file.endswith("/"):
            raise InvalidArgument(f"Invalid artifact_file {artifact_file!r}: must name a file")
        if not callable(getattr(stream, "read", None)):
            raise InvalidArgument(
                f"Invalid stream {type(stream).__name__}: must be a binary stream with read()"
            )

        def blocks() -> Iterator[bytes]:
            for block in iter_chunks(stream):
                if not isinstance(block, (bytes, bytearray, memoryview)):
                    raise InvalidArgument(
                        f"Invalid stream: it gives {type(block).__name__}, not bytes (open the "
                        "file in binary mode, 'rb')"
                    )
                yield bytes(block)

        self._repo(run_id).write_stream(artifact_file, blocks())

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        from mltrail.artifacts._serialize import write_text

        self._log_via_file(run_id, artifact_file, write_text, text)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """JSON, or YAML when the file name ends in .yaml/.yml."""
        from mltrail.artifacts._serialize import write_dict

        self._log_via_file(run_id, artifact_file, write_dict, dictionary)

    def log_figure(
        self,
        run_id: str,
        figure: Any,
        artifact_file: str,
        *,
        save_kwargs: dict[str, Any] | None = None,
    ) -> None:
        """A matplotlib or plotly figure, in the format the file name's extension says."""
        from mltrail.artifacts._serialize import write_figure

        self._log_via_file(
            run_id, artifact_file, lambda f, p: write_figure(f, p, **(save_kwargs or {})), figure
        )

    def log_image(
        self,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """A numpy array or PIL image, at *artifact_file* or as step *step* of series *key*."""
        if (artifact_file is None) == (key is None):
            raise InvalidArgument("log_image takes exactly one of artifact_file and key")
        if key is not None:
            validate_key(key, "image")
            artifact_file = f"images/{key}/step_{int(step or 0)}.png"
        assert artifact_file is not None
        from mltrail.artifacts._serialize import write_image

        self._log_via_file(run_id, artifact_file, write_image, image)
