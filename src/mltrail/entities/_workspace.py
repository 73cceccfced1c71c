"""Workspaces: named partitions of experiments, registered models and webhooks (MLflow 3.17)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from mltrail._exceptions import InvalidArgument

__all__ = [
    "DEFAULT_WORKSPACE_NAME",
    "TraceArchivalConfig",
    "Workspace",
    "WorkspaceDeletionMode",
    "check_trace_archival_location",
    "check_trace_archival_retention",
    "validate_workspace_name",
]

#: The workspace every resource created before workspaces existed belongs to.
DEFAULT_WORKSPACE_NAME = "default"

_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_NAME = re.compile(_NAME_PATTERN)
_MIN_LENGTH = 2
_MAX_LENGTH = 63
_RESERVED = frozenset({"workspaces", "api", "ajax-api", "static-files"})


def validate_workspace_name(name: Any) -> str:
    """Check a workspace name against MLflow's rule (a Kubernetes-style DNS label of 2-63
    lowercase letters, digits and inner hyphens, not a reserved path word)."""
    if not isinstance(name, str):
        raise InvalidArgument(f"Workspace name must be a string, got {type(name).__name__}.")
    if not _MIN_LENGTH <= len(name) <= _MAX_LENGTH:
        raise InvalidArgument(
            f"Workspace name '{name}' must be between {_MIN_LENGTH} and {_MAX_LENGTH} characters."
        )
    if not _NAME.match(name):
        raise InvalidArgument(
            f"Workspace name '{name}' must match the pattern {_NAME_PATTERN} "
            "(lowercase alphanumeric with optional internal hyphens)."
        )
    if name in _RESERVED:
        raise InvalidArgument(f"Workspace name '{name}' is reserved and cannot be used.")
    return name


_RETENTION = re.compile(r"^[1-9][0-9]*[mhd]$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def check_trace_archival_retention(value: str | None, field: str) -> str | None:
    """A retention of the form ``<int><unit>`` (unit m, h or d); "" clears (None)."""
    if value is None or not value.strip():
        return None
    trimmed = value.strip()
    if len(trimmed) > 32 or not _RETENTION.match(trimmed):
        raise InvalidArgument(
            f"Invalid value for '{field}'. Expected a duration in the form `<int><unit>`, "
            "where unit is one of 'm', 'h', or 'd' (for example '30d' or '12h')."
        )
    return trimmed


def check_trace_archival_location(value: str | None, field: str) -> str | None:
    """An archival location URI (not the proxy-only ``mlflow-artifacts:``); "" clears."""
    if value is None or not value.strip():
        return None
    trimmed = value.strip()
    if not _SCHEME.match(trimmed):
        raise InvalidArgument(f"Invalid value for '{field}'. Expected a URI string.")
    if trimmed.startswith("mlflow-artifacts:"):
        raise InvalidArgument(
            f"Invalid value for '{field}'. Trace archival location cannot use the proxy-only "
            "`mlflow-artifacts:` scheme."
        )
    return trimmed


class WorkspaceDeletionMode(str, Enum):
    """What deleting a workspace does to the resources still in it."""

    SET_DEFAULT = "SET_DEFAULT"
    """Move them to the default workspace."""
    CASCADE = "CASCADE"
    """Delete them with the workspace."""
    RESTRICT = "RESTRICT"
    """Refuse while the workspace holds any."""

    @classmethod
    def coerce(cls, mode: Any) -> WorkspaceDeletionMode:
        try:
            return cls(mode)
        except ValueError:
            raise InvalidArgument(
                f"Invalid deletion mode '{mode}'. Must be one of: {', '.join(m.value for m in cls)}"
            ) from None


@dataclass(frozen=True, slots=True)
class TraceArchivalConfig:
    """A workspace's trace archival settings (kept and returned; mltrail archives no traces)."""

    location: str | None = None
    retention: str | None = None


@dataclass(frozen=True, slots=True)
class Workspace:
    """A workspace's metadata."""

    name: str
    description: str | None = None
    default_artifact_root: str | None = None
    trace_archival_location: str | None = None
    trace_archival_retention: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """MLflow's dictionary: name, description and default_artifact_root (None when unset),
        and ``trace_archival_config`` when one of its fields is set."""
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "default_artifact_root": self.default_artifact_root,
        }
        archival = self._archival()
        if archival:
            out["trace_archival_config"] = archival
        return out

    def _archival(self) -> dict[str, str]:
        archival: dict[str, str] = {}
        if self.trace_archival_location is not None:
            archival["location"] = self.trace_archival_location
        if self.trace_archival_retention is not None:
            archival["retention"] = self.trace_archival_retention
        return archival

    def to_json(self) -> dict[str, Any]:
        """The REST shape: :meth:`to_dict` without its unset fields."""
        return {k: v for k, v in self.to_dict().items() if v is not None}

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> Workspace:
        archival = payload.get("trace_archival_config") or {}
        return cls(
            name=str(payload["name"]),
            description=payload.get("description"),
            default_artifact_root=payload.get("default_artifact_root"),
            trace_archival_location=archival.get("location"),
            trace_archival_retention=archival.get("retention"),
        )
