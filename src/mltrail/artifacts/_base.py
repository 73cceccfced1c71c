"""The artifact repository interface and the ``FileInfo`` entries it lists."""

from __future__ import annotations

import abc
import os
from collections.abc import Iterable
from typing import BinaryIO, ClassVar

from mltrail.entities._file_info import FileInfo

__all__ = ["ArtifactRepository", "FileInfo"]


class ArtifactRepository(abc.ABC):
    """A tree of artifact files below one root URI.

    Every ``artifact_path`` argument is checked with
    :func:`~mltrail.artifacts.validate_artifact_path` (``None`` or ``""`` is the root), and no
    implementation reads, writes, lists or deletes anything outside its root.
    """

    #: Whether the constructor takes ``tracking_uri=`` (``mlflow-artifacts:`` URIs are resolved
    #: against the tracking server); :func:`~mltrail.artifacts.get_artifact_repository` passes it.
    uses_tracking_uri: ClassVar[bool] = False

    def __init__(self, artifact_uri: str) -> None:
        self.artifact_uri = artifact_uri

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.artifact_uri!r})"

    @abc.abstractmethod
    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy one local file to ``artifact_path/<file name>``."""

    @abc.abstractmethod
    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy the contents of a local directory, recursively, below ``artifact_path``."""

    @abc.abstractmethod
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The direct children of ``path`` sorted by path; ``[]`` when it does not exist."""

    @abc.abstractmethod
    def download_artifacts(
        self, artifact_path: str, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy a file or a directory (recursively) to ``dst_path`` and return its local path.

        Without ``dst_path`` a new private (``0o700``) temporary directory is used.  Nothing is
        written outside ``dst_path``.  ``NotFound`` when the artifact does not exist.
        """

    @abc.abstractmethod
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a directory tree (the whole repository when no path is given)."""

    @abc.abstractmethod
    def open_read(self, artifact_path: str) -> BinaryIO:
        """Open one artifact file for streaming reads; the caller closes it."""

    @abc.abstractmethod
    def write_stream(self, artifact_path: str, chunks: Iterable[bytes]) -> int:
        """Write an artifact file from a stream of chunks, atomically; return the byte count."""

    @abc.abstractmethod
    def file_info(self, artifact_path: str) -> FileInfo | None:
        """The entry for one path, or ``None`` when nothing exists there."""
