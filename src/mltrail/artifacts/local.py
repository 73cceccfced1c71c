"""Artifacts in a local folder.

Every operation validates its artifact path, then resolves the final filesystem path with all
symbolic links (``os.path.realpath``) and checks that it is still inside the resolved root
before touching anything; a link leading outside raises :class:`PermissionDenied`.

Symbolic links, in detail:

* Inside the root, links to places inside the root are followed for reads, listings and
  downloads.  Writing to a path that is a link replaces the link with a regular file; deleting
  a path that is a link removes the link, never what it points to.
* Listings leave out entries that resolve outside the root, dangling links, special files
  (FIFOs, sockets, devices), in-flight temp files and names that are not valid artifact path
  segments; a recursive download refuses entries that resolve outside the root.
* ``log_artifacts`` refuses the whole upload (nothing is copied) when the source directory
  holds a link that points outside the source directory, a dangling link, a link loop or a
  special file; links to files inside it are copied as regular files, links to directories
  inside it as directories.

A concurrent local user who can swap directories for links inside the root between the check
and the use can still race these checks; what the API itself writes never creates links.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tempfile
from collections.abc import Iterable
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from mltrail._exceptions import InvalidArgument, NotFound, PermissionDenied
from mltrail.artifacts._base import ArtifactRepository, FileInfo
from mltrail.artifacts._paths import (
    TEMP_PREFIX,
    atomic_write,
    is_valid_segment,
    is_within,
    iter_chunks,
    plan_upload,
    plan_upload_file,
    safe_makedirs,
    validate_artifact_path,
)

__all__ = ["LocalArtifactRepository"]

_O_BINARY = getattr(os, "O_BINARY", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def _local_root(artifact_uri: str) -> str:
    """The absolute directory of a ``file:`` URI or a plain local path (absolute or relative)."""
    if not isinstance(artifact_uri, str) or not artifact_uri:
        raise InvalidArgument(
            f"Invalid artifact URI {artifact_uri!r}: expected a 'file:' URI or a local path"
        )
    path = artifact_uri
    if artifact_uri[:5].lower() == "file:":
        parts = urlsplit(artifact_uri)
        if parts.netloc not in ("", "localhost"):
            raise InvalidArgument(
                f"Invalid artifact URI {artifact_uri!r}: a 'file:' URI cannot name a remote host"
            )
        if parts.query or parts.fragment:
            raise InvalidArgument(
                f"Invalid artifact URI {artifact_uri!r}: a 'file:' URI cannot carry a query "
                "or a fragment"
            )
        path = unquote(parts.path)
        if os.name == "nt" and len(path) > 2 and path[0] == "/" and path[2] == ":":
            path = path[1:]  # file:///C:/x -> C:/x
        if not path:
            raise InvalidArgument(f"Invalid artifact URI {artifact_uri!r}: the path is empty")
    if "\x00" in path:
        raise InvalidArgument(f"Invalid artifact URI {artifact_uri!r}: NUL bytes are not allowed")
    return os.path.abspath(path)


def _segments(rel: str) -> list[str]:
    return rel.split("/") if rel else []


class LocalArtifactRepository(ArtifactRepository):
    """Artifacts below a local directory given as ``file:///abs/dir`` or a local path.

    The directory is created on the first write; reading from a missing root behaves like
    reading from an empty one.
    """

    def __init__(self, artifact_uri: str) -> None:
        super().__init__(artifact_uri)
        self.root: str = _local_root(artifact_uri)

    # -- resolution ---------------------------------------------------------------------------

    def _real_root(self, *, create: bool = False) -> str:
        if create:
            os.makedirs(self.root, exist_ok=True)
        return os.path.realpath(self.root)

    def _resolve(self, rel: str, action: str, *, create_root: bool = False) -> tuple[str, str]:
        """``(resolved root, resolved target)``; the target must stay inside the root."""
        root = self._real_root(create=create_root)
        if not rel:
            return root, root
        target = os.path.realpath(os.path.join(root, *_segments(rel)))
        if not is_within(target, root):
            raise PermissionDenied(
                f"Cannot {action} artifact {rel!r}: it resolves outside the artifact root "
                "(through a symbolic link)"
            )
        return root, target

    # -- writes -------------------------------------------------------------------------------

    def _write(self, rel: str, chunks: Iterable[bytes]) -> int:
        segments = _segments(rel)
        if not segments:
            raise InvalidArgument("Invalid artifact path '': cannot write a file at the root")
        if segments[-1].startswith(TEMP_PREFIX):
            raise InvalidArgument(
                f"Invalid artifact path {rel!r}: names starting with {TEMP_PREFIX!r} are reserved"
            )
        root, target = self._resolve(rel, "write", create_root=True)
        if os.path.isdir(target):
            raise InvalidArgument(f"Cannot write artifact {rel!r}: it is a directory")
        parent = safe_makedirs(root, segments[:-1])
        return atomic_write(parent, segments[-1], chunks)

    def write_stream(self, artifact_path: str, chunks: Iterable[bytes]) -> int:
        return self._write(validate_artifact_path(artifact_path), chunks)

    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        source, rel = plan_upload_file(local_file, artifact_path)
        with open(source, "rb") as stream:
            self._write(rel, iter_chunks(stream))

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        source = os.fspath(local_dir)
        if not os.path.isdir(source):
            raise InvalidArgument(f"Cannot log {source!r}: it is not an existing local directory")
        prefix = validate_artifact_path(artifact_path)
        dirs, files = plan_upload(os.path.realpath(source), prefix)
        root, _ = self._resolve(prefix, "write", create_root=True)
        for rel in dirs:
            safe_makedirs(root, _segments(rel))
        for real_source, rel in files:
            with open(real_source, "rb") as stream:
                self._write(rel, iter_chunks(stream))

    # -- reads --------------------------------------------------------------------------------

    def _entry(self, root: str, rel: str, real: str) -> FileInfo | None:
        """The listing entry for *real*, or None when it must not be shown."""
        if not is_within(real, root):
            return None
        try:
            st = os.stat(real)
        except OSError:
            return None  # dangling link or vanished meanwhile
        if stat.S_ISDIR(st.st_mode):
            return FileInfo(rel, True, None)
        if stat.S_ISREG(st.st_mode):
            return FileInfo(rel, False, st.st_size)
        return None

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = validate_artifact_path(path)
        root, target = self._resolve(rel, "list")
        if not os.path.isdir(target):
            return []
        infos = []
        with os.scandir(target) as entries:
            for entry in entries:
                if entry.name.startswith(TEMP_PREFIX) or not is_valid_segment(entry.name):
                    continue
                child = posixpath.join(rel, entry.name)
                info = self._entry(root, child, os.path.realpath(entry.path))
                if info is not None:
                    infos.append(info)
        infos.sort(key=lambda info: info.path)
        return infos

    def file_info(self, artifact_path: str) -> FileInfo | None:
        rel = validate_artifact_path(artifact_path)
        root, target = self._resolve(rel, "stat")
        if not os.path.exists(target):
            return None
        return self._entry(root, rel, target)

    def open_read(self, artifact_path: str) -> BinaryIO:
        rel = validate_artifact_path(artifact_path)
        _, target = self._resolve(rel, "read")
        return _open_regular(target, rel)

    def download_artifacts(
        self, artifact_path: str, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        rel = validate_artifact_path(artifact_path)
        root, source = self._resolve(rel, "download")
        if not os.path.exists(source):
            raise NotFound(f"Artifact {rel!r} does not exist in {self.artifact_uri!r}")
        is_dir = os.path.isdir(source)
        dst = os.path.abspath(os.fspath(dst_path)) if dst_path is not None else None
        if is_dir and is_within(os.path.realpath(dst or tempfile.gettempdir()), source):
            raise InvalidArgument(
                f"Cannot download artifact {rel!r} into {dst!r}: the destination is inside "
                "the artifacts being downloaded"
            )
        if dst is None:
            dst = tempfile.mkdtemp(prefix="mltrail-artifacts-")  # mode 0o700
        else:
            os.makedirs(dst, exist_ok=True)
        dst_real = os.path.realpath(dst)
        segments = _segments(rel)
        local = os.path.join(dst, *segments)
        if is_dir:
            target_dir = safe_makedirs(dst_real, segments)
            _copy_tree(root, source, rel, target_dir, frozenset({source}))
        else:
            parent = safe_makedirs(dst_real, segments[:-1])
            with _open_regular(source, rel) as stream:
                atomic_write(parent, segments[-1], iter_chunks(stream))
        return local

    # -- deletes ------------------------------------------------------------------------------

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        rel = validate_artifact_path(artifact_path)
        root, _ = self._resolve(rel, "delete")  # refuses a path resolving outside the root
        if not rel:
            if os.path.isdir(root):
                shutil.rmtree(root)
            return
        segments = _segments(rel)
        # Remove the entry itself, found through its resolved parent: a link is unlinked, never
        # what it points to; rmtree does not follow links inside the tree either.
        entry = os.path.join(os.path.realpath(os.path.join(root, *segments[:-1])), segments[-1])
        if os.path.islink(entry) or (os.path.lexists(entry) and not os.path.isdir(entry)):
            os.unlink(entry)
        elif os.path.isdir(entry):
            shutil.rmtree(entry)


def _open_regular(path: str, rel: str) -> BinaryIO:
    """Open a resolved path for reading, refusing anything but a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | _O_BINARY | _O_NOFOLLOW | _O_NONBLOCK)
    except FileNotFoundError:
        raise NotFound(f"Artifact {rel!r} does not exist") from None
    except IsADirectoryError:
        raise InvalidArgument(f"Cannot read artifact {rel!r}: it is a directory") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InvalidArgument(f"Cannot read artifact {rel!r}: it is a directory")
        if not stat.S_ISREG(mode):
            raise InvalidArgument(f"Cannot read artifact {rel!r}: it is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _copy_tree(
    root: str, source: str, rel: str, target_dir: str, ancestors: frozenset[str]
) -> None:
    """Copy the resolved directory *source* (artifact *rel*) into the resolved *target_dir*."""
    with os.scandir(source) as iterator:
        entries = sorted(iterator, key=lambda entry: entry.name)
    for entry in entries:
        if entry.name.startswith(TEMP_PREFIX) or not is_valid_segment(entry.name):
            continue
        child = posixpath.join(rel, entry.name)
        real = os.path.realpath(entry.path)
        if not is_within(real, root):
            raise PermissionDenied(
                f"Cannot download artifact {child!r}: it resolves outside the artifact root "
                "(through a symbolic link)"
            )
        if os.path.isdir(real):
            if real in ancestors:
                raise InvalidArgument(f"Cannot download artifact {child!r}: symbolic link loop")
            sub = safe_makedirs(target_dir, [entry.name])
            _copy_tree(root, real, child, sub, ancestors | {real})
        elif os.path.isfile(real):
            with _open_regular(real, child) as stream:
                atomic_write(target_dir, entry.name, iter_chunks(stream))
