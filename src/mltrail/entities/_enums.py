"""Enumerations with MLflow's names and values: ViewType, RunStatus, LifecycleStage, SourceType."""

from __future__ import annotations

from typing import ClassVar

from mltrail._exceptions import InvalidArgument

__all__ = ["LifecycleStage", "RunStatus", "SourceType", "ViewType"]


class _StrIntEnum:
    """An MLflow-style enum: integer class attributes with to_string/from_string."""

    _names: ClassVar[tuple[str, ...]]
    _field: ClassVar[str]

    @classmethod
    def _parse(cls, name: str) -> int:
        try:
            return cls._names.index(name.upper()) + 1
        except (ValueError, AttributeError):
            raise InvalidArgument(
                f"Invalid {cls._field} '{name}': expected one of {', '.join(cls._names)}"
            ) from None

    @classmethod
    def _name(cls, value: int) -> str:
        if isinstance(value, int) and 1 <= value <= len(cls._names):
            return cls._names[value - 1]
        raise InvalidArgument(f"Invalid {cls._field} {value!r}")


class RunStatus(_StrIntEnum):
    """A run's status; ``run.info.status`` holds the string form (e.g. ``"RUNNING"``)."""

    RUNNING = 1
    SCHEDULED = 2
    FINISHED = 3
    FAILED = 4
    KILLED = 5
    _names = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
    _field = "run status"

    @classmethod
    def from_string(cls, status_str: str) -> int:
        return cls._parse(status_str)

    @classmethod
    def to_string(cls, status: int) -> str:
        return cls._name(status)

    @classmethod
    def is_terminated(cls, status: int | str) -> bool:
        if isinstance(status, str):
            status = cls._parse(status)
        return status in (cls.FINISHED, cls.FAILED, cls.KILLED)

    @classmethod
    def all_status(cls) -> list[int]:
        return list(range(1, len(cls._names) + 1))


class ViewType(_StrIntEnum):
    """Which runs or experiments a search sees, by lifecycle stage."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3
    _names = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")
    _field = "view type"

    @classmethod
    def from_string(cls, view_str: str) -> int:
        return cls._parse(view_str)

    @classmethod
    def to_string(cls, view_type: int) -> str:
        return cls._name(view_type)

    @classmethod
    def coerce(cls, value: int | str | None) -> int:
        """Accept an int, its name, or None (ACTIVE_ONLY)."""
        if value is None:
            return cls.ACTIVE_ONLY
        if isinstance(value, str):
            return cls.from_string(value)
        cls.to_string(value)
        return value


class LifecycleStage:
    ACTIVE = "active"
    DELETED = "deleted"

    @classmethod
    def view_type_to_stages(cls, view_type: int = ViewType.ALL) -> list[str]:
        stages = []
        if view_type in (ViewType.ACTIVE_ONLY, ViewType.ALL):
            stages.append(cls.ACTIVE)
        if view_type in (ViewType.DELETED_ONLY, ViewType.ALL):
            stages.append(cls.DELETED)
        return stages

    @classmethod
    def is_valid(cls, lifecycle_stage: str) -> bool:
        return lifecycle_stage in (cls.ACTIVE, cls.DELETED)

    @classmethod
    def matches_view_type(cls, view_type: int, lifecycle_stage: str) -> bool:
        """Whether a search with *view_type* sees an entity in *lifecycle_stage*."""
        if not cls.is_valid(lifecycle_stage):
            raise InvalidArgument(
                f"Invalid lifecycle stage {lifecycle_stage!r}: expected 'active' or 'deleted'"
            )
        ViewType.to_string(view_type)  # an invalid view type raises
        return lifecycle_stage in cls.view_type_to_stages(view_type)


class SourceType(_StrIntEnum):
    NOTEBOOK = 1
    JOB = 2
    PROJECT = 3
    LOCAL = 4
    UNKNOWN = 5
    _names = ("NOTEBOOK", "JOB", "PROJECT", "LOCAL", "UNKNOWN")
    _field = "source type"
    SOURCETYPE_TO_STRING: ClassVar[dict[int, str]] = dict(enumerate(_names, start=1))

    @classmethod
    def from_string(cls, status_str: str) -> int:
        return cls._parse(status_str)

    @classmethod
    def to_string(cls, status: int) -> str:
        return cls._name(status)
