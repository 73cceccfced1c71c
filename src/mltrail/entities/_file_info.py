"""``FileInfo``: one entry of an artifact listing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["FileInfo"]


@dataclass(frozen=True, slots=True)
class FileInfo:
    """One entry of an artifact listing, in MLflow's shape.

    ``path`` is relative to the repository root in POSIX form (``model/MLmodel``);
    ``file_size`` is ``None`` for directories.
    """

    path: str
    is_dir: bool
    file_size: int | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``artifacts/list``: ``file_size`` is left out for directories."""
        if self.is_dir:
            return {"path": self.path, "is_dir": True}
        return {"path": self.path, "is_dir": False, "file_size": self.file_size}

    def to_dictionary(self) -> dict[str, Any]:
        """MLflow's dictionary form (``file_size`` is ``None`` for a directory)."""
        return {"path": self.path, "is_dir": self.is_dir, "file_size": self.file_size}

    @classmethod
    def from_dictionary(cls, the_dict: dict[str, Any]) -> FileInfo:
        size = the_dict.get("file_size")
        is_dir = bool(the_dict.get("is_dir", False))
        return cls(str(the_dict["path"]), is_dir, None if size is None else int(size))
