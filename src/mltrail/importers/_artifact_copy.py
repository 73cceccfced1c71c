"""Artifacts during an import: listing (the fingerprint), and copying file by file, streamed.

A tree's fingerprint is a digest of its listing (every file's path and size), so a repeated
import copies a run's artifacts again only when a file was added, removed or changed size.
Files are copied through the repositories' streaming interface (``open_read`` and
``write_stream``, in blocks of :data:`BLOCK_SIZE`), so no file is ever whole in memory; a
destination file the source no longer has is deleted, so the copy ends equal to the source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from mltrail.artifacts import ArtifactRepository

__all__ = ["BLOCK_SIZE", "CopyResult", "Listing", "copy_tree", "list_tree"]

#: Bytes read and written at a time while copying.
BLOCK_SIZE = 1 << 20


@dataclass(frozen=True, slots=True)
class Listing:
    """Every file below a repository's root: ``(path, size)`` sorted by path."""

    files: tuple[tuple[str, int], ...]

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha1(usedforsecurity=False)
        for path, size in self.files:
            digest.update(f"{path}\0{size}\n".encode())
        return f"{len(self.files)}:{digest.hexdigest()[:16]}"

    @property
    def bytes(self) -> int:
        return sum(size for _, size in self.files)


EMPTY = Listing(())


def list_tree(repo: ArtifactRepository | None) -> Listing:
    """Every file of *repo* (recursively); the empty listing for None."""
    if repo is None:
        return EMPTY
    files: list[tuple[str, int]] = []
    pending = [""]
    while pending:
        for info in repo.list_artifacts(pending.pop() or None):
            if info.is_dir:
                pending.append(info.path)
            else:
                files.append((info.path, info.file_size or 0))
    files.sort()
    return Listing(tuple(files))


@dataclass(frozen=True, slots=True)
class CopyResult:
    files: int
    bytes: int
    removed: int


def _blocks(repo: ArtifactRepository, path: str) -> Iterator[bytes]:
    with repo.open_read(path) as stream:
        while block := stream.read(BLOCK_SIZE):
            yield block


def copy_tree(
    source: ArtifactRepository, listing: Listing, destination: ArtifactRepository
) -> CopyResult:
    """Copy the files of *listing* from *source* to *destination* (overwriting what is
    there) and delete the destination's files that are not in it."""
    copied = 0
    for path, _ in listing.files:
        copied += destination.write_stream(path, _blocks(source, path))
    keep = {path for path, _ in listing.files}
    removed = 0
    for path, _ in list_tree(destination).files:
        if path not in keep:
            destination.delete_artifacts(path)
            removed += 1
    return CopyResult(len(listing.files), copied, removed)
