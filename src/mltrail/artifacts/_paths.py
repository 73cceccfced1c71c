"""Artifact path rules and the local-filesystem primitives every repository writes through.

An artifact path is a relative POSIX path below a repository root, such as ``model/MLmodel``.
:func:`validate_artifact_path` is the single gate: it refuses every form that has been used to
climb out of an artifact root (MLflow's CVE history) before any repository sees the path.  The
check runs on the path as given and on every percent-decoded and NFKC-normalised variant of it,
so a path that only becomes dangerous after one more round of decoding by some other layer is
refused too.  The path itself is returned undecoded: callers store exactly what they were given.

The helpers below it (:func:`is_within`, :func:`safe_makedirs`, :func:`atomic_write`) are the
local-filesystem side: they keep writes below a resolved boundary directory even when symbolic
links are present, and make each written file appear in one step (temp file + ``os.replace``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import posixpath
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO
from urllib.parse import unquote

from mltrail._exceptions import InvalidArgument, PermissionDenied

__all__ = [
    "CHUNK_SIZE",
    "TEMP_PREFIX",
    "atomic_write",
    "is_valid_segment",
    "is_within",
    "iter_chunks",
    "plan_upload",
    "plan_upload_file",
    "safe_makedirs",
    "validate_artifact_path",
]

#: Bytes read or written per step when copying; files are never held whole in memory.
CHUNK_SIZE = 1024 * 1024
#: Name prefix of in-flight temp files; such entries are hidden from listings and downloads.
TEMP_PREFIX = ".mltrail-tmp-"

# After this many rounds of percent-decoding a path that still changes is refused outright.
_MAX_DECODE_ROUNDS = 8
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# ``scheme:`` (including an empty scheme, ``:x``) in the first segment.
_SCHEME_RE = re.compile(r"^[A-Za-z0-9+.\-]*:")
# A drive letter (``C:``) at the start of any segment: a Windows join would switch drives.
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_FORBIDDEN_CHARS = {
    "\\": "backslashes are not allowed",
    ";": "';' (path parameters) is not allowed",
    "?": "'?' (query strings) is not allowed",
    "#": "'#' (fragments) is not allowed",
}

_O_BINARY = getattr(os, "O_BINARY", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _invalid(path: str, rule: str) -> InvalidArgument:
    return InvalidArgument(f"Invalid artifact path {path!r}: {rule}")


def _variants(path: str) -> Iterator[str]:
    """The path, each successive percent-decoding of it, and the NFKC form of each."""
    current = path
    for _ in range(_MAX_DECODE_ROUNDS + 1):
        yield current
        normalised = unicodedata.normalize("NFKC", current)
        if normalised != current:
            yield normalised
        decoded = unquote(current)
        if decoded == current:
            return
        current = decoded
    raise _invalid(path, f"more than {_MAX_DECODE_ROUNDS} levels of percent-encoding")


def _variant_rule(variant: str) -> str | None:
    """The first rule *variant* breaks, or None."""
    if _CONTROL_RE.search(variant):
        return "NUL bytes and other control characters are not allowed"
    for char, rule in _FORBIDDEN_CHARS.items():
        if char in variant:
            return rule
    if variant.startswith("/"):
        return "absolute paths are not allowed (no leading '/')"
    if variant.startswith("~"):
        return "a leading '~' (home directory) is not allowed"
    if variant.endswith("/"):
        variant = variant[:-1]
    segments = variant.split("/")
    if _SCHEME_RE.match(segments[0]):
        return "a scheme or drive prefix ('name:') is not allowed"
    for segment in segments:
        if not segment:
            return "empty path segments ('//') are not allowed"
        if not segment.strip().strip("."):
            return "'.' and '..' segments (or segments of only dots) are not allowed"
        if _DRIVE_RE.match(segment):
            return "a drive prefix ('C:') is not allowed in any segment"
    return None


def validate_artifact_path(path: str | None) -> str:
    """Check an artifact path and return it as a normalised relative POSIX path.

    ``None`` and ``""`` mean the repository root and give ``""``.  One trailing ``/`` is
    accepted and dropped (``"plots/"`` is ``"plots"``).  Everything else that could leave the
    root, or mean something different to another layer, raises :class:`InvalidArgument` naming
    the path and the rule: ``..`` and ``.`` segments, empty segments, absolute, drive and UNC
    paths, backslashes, control characters (NUL included), ``;``, ``?`` and ``#``, a
    ``scheme:`` prefix, a leading ``~``; all of these also after any number of rounds of
    percent-decoding and after NFKC normalisation (``%2e%2e``, ``%252e%252e``, fullwidth dots).
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise InvalidArgument(
            f"Invalid artifact path {path!r}: an artifact path must be a string, "
            f"not {type(path).__name__}"
        )
    if path == "":
        return ""
    for variant in _variants(path):
        rule = _variant_rule(variant)
        if rule is not None:
            if variant != path:
                rule += f" (found in {variant!r}, its percent-decoded or NFKC-normalised form)"
            raise _invalid(path, rule)
    return path[:-1] if path.endswith("/") else path


def is_valid_segment(name: str) -> bool:
    """Whether *name* is acceptable as one segment of an artifact path."""
    if "/" in name or not name:
        return False
    try:
        validate_artifact_path(name)
    except InvalidArgument:
        return False
    return True


def is_within(path: str, boundary: str) -> bool:
    """Whether *path* is *boundary* or below it; both must already be resolved (realpath)."""
    path = os.path.normcase(path)
    boundary = os.path.normcase(boundary)
    if path == boundary:
        return True
    prefix = boundary if boundary.endswith(os.sep) else boundary + os.sep
    return path.startswith(prefix)


def safe_makedirs(boundary: str, segments: Sequence[str]) -> str:
    """Create ``boundary/seg1/seg2/...`` one level at a time and return its resolved path.

    *boundary* must be resolved.  Each existing level is resolved and must stay below
    *boundary* (a symbolic link leading out raises :class:`PermissionDenied` before anything is
    created through it); a level that exists as a file raises :class:`InvalidArgument`.
    """
    current = boundary
    for index, segment in enumerate(segments):
        shown = "/".join(segments[: index + 1])
        candidate = os.path.join(current, segment)
        if not os.path.lexists(candidate):
            # Created concurrently? Then it is checked below like any existing entry.
            with contextlib.suppress(FileExistsError):
                os.mkdir(candidate)
        resolved = os.path.realpath(candidate)
        if not is_within(resolved, boundary):
            raise PermissionDenied(
                f"Path {shown!r} leads outside {boundary!r} through a symbolic link; refused"
            )
        if not os.path.isdir(resolved):
            raise InvalidArgument(f"Path {shown!r} exists and is not a directory")
        current = resolved
    return current


def iter_chunks(stream: BinaryIO, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Read *stream* in chunks of at most *size* bytes."""
    while chunk := stream.read(size):
        yield chunk


def atomic_write(directory: str, name: str, chunks: Iterable[bytes]) -> int:
    """Write *chunks* to ``directory/name`` atomically and return the number of bytes written.

    The data goes to a temp file in the same directory which then replaces the target with
    ``os.replace``: readers see the old file or the complete new one, never a partial one, and
    a failure (including one raised by *chunks*) leaves the target untouched and no temp file
    behind.  An existing symbolic link at the target is replaced, never followed.  The new file
    gets the usual ``0o666 & ~umask`` mode.  This gives atomicity, not durability (no fsync).
    """
    target = os.path.join(directory, name)
    if os.path.isdir(target) and not os.path.islink(target):
        raise InvalidArgument(f"Cannot write {name!r}: a directory of that name exists")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY | _O_NOFOLLOW
    while True:
        import secrets  # a temporary name: off the import of every model format

        temp = os.path.join(directory, TEMP_PREFIX + secrets.token_hex(8))
        try:
            fd = os.open(temp, flags, 0o666)
            break
        except FileExistsError:  # pragma: no cover - 64 random bits collided
            continue
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                if not isinstance(chunk, bytes | bytearray | memoryview):
                    raise InvalidArgument(
                        f"Cannot write {name!r}: chunks must be bytes, not {type(chunk).__name__}"
                    )
                written += out.write(chunk)
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError as exc:  # pragma: no cover - already gone
            if exc.errno != errno.ENOENT:
                raise
        raise
    return written


def plan_upload_file(
    local_file: str | os.PathLike[str], artifact_path: str | None
) -> tuple[str, str]:
    """(local path, artifact path) for ``log_artifact``: the file must exist, and it lands as
    ``artifact_path/<its name>`` (checked like every artifact path)."""
    source = os.fspath(local_file)
    if not os.path.isfile(source):
        raise InvalidArgument(f"Cannot log {source!r}: it is not an existing local file")
    prefix = validate_artifact_path(artifact_path)
    return source, validate_artifact_path(posixpath.join(prefix, os.path.basename(source)))


def plan_upload(source: str, prefix: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Walk the resolved directory *source* and list what ``log_artifacts`` will create.

    Returns the directories (artifact paths, parents first) and the files (resolved local
    path, artifact path).  Raises before anything is copied when an entry cannot be uploaded.
    """
    dirs: list[str] = [prefix] if prefix else []
    files: list[tuple[str, str]] = []

    def walk(directory: str, rel: str, ancestors: frozenset[str]) -> None:
        with os.scandir(directory) as iterator:
            entries = sorted(iterator, key=lambda entry: entry.name)
        for entry in entries:
            local = entry.path
            child = validate_artifact_path(posixpath.join(rel, entry.name))
            real = os.path.realpath(local)
            if entry.is_symlink():
                if not os.path.exists(real):
                    raise InvalidArgument(f"Cannot log {local!r}: it is a dangling symbolic link")
                if not is_within(real, source):
                    raise InvalidArgument(
                        f"Cannot log {local!r}: it is a symbolic link to {real!r}, outside the "
                        f"directory being logged ({source!r})"
                    )
            if os.path.isdir(real):
                if real in ancestors:
                    raise InvalidArgument(f"Cannot log {local!r}: symbolic link loop")
                dirs.append(child)
                walk(real, child, ancestors | {real})
            elif os.path.isfile(real):
                files.append((real, child))
            else:
                raise InvalidArgument(
                    f"Cannot log {local!r}: only regular files and directories can be logged"
                )

    walk(source, prefix, frozenset({source}))
    return dirs, files
