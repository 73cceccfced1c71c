"""Model registry entities with MLflow's names, attributes and JSON shapes.

A :class:`RegisteredModel` is a named model with tags, aliases and numbered versions; a
:class:`ModelVersion` points at the model files it was registered from (``source``).  Version
numbers are ``int`` in Python (as MLflow's local stores return them) and strings in JSON (as
MLflow's REST API sends them).  Stages are the strings ``"None"``, ``"Staging"``,
``"Production"`` and ``"Archived"``; :func:`canonical_stage` accepts any capitalisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from mltrail._exceptions import InvalidArgument
from mltrail.entities._enums import _StrIntEnum

__all__ = [
    "ACTIVE_STAGES",
    "ALL_STAGES",
    "STAGE_ARCHIVED",
    "STAGE_NONE",
    "STAGE_PRODUCTION",
    "STAGE_STAGING",
    "ModelVersion",
    "ModelVersionStatus",
    "ModelVersionTag",
    "RegisteredModel",
    "RegisteredModelAlias",
    "RegisteredModelTag",
    "canonical_stage",
]

STAGE_NONE = "None"
STAGE_STAGING = "Staging"
STAGE_PRODUCTION = "Production"
STAGE_ARCHIVED = "Archived"
ALL_STAGES: tuple[str, ...] = (STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED)
#: The stages ``archive_existing_versions`` applies to.
ACTIVE_STAGES: tuple[str, ...] = (STAGE_STAGING, STAGE_PRODUCTION)
_BY_LOWER = {s.lower(): s for s in ALL_STAGES}


def canonical_stage(stage: str | None) -> str:
    """``"production"`` -> ``"Production"``; None -> ``"None"``; anything else is an error."""
    if stage is None:
        return STAGE_NONE
    found = _BY_LOWER.get(str(stage).strip().lower())
    if found is None:
        raise InvalidArgument(
            f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(ALL_STAGES)}."
        )
    return found


class ModelVersionStatus(_StrIntEnum):
    """A version's registration status; ``ModelVersion.status`` holds the string form."""

    PENDING_REGISTRATION = 1
    FAILED_REGISTRATION = 2
    READY = 3
    _names = ("PENDING_REGISTRATION", "FAILED_REGISTRATION", "READY")
    _field = "model version status"

    @classmethod
    def from_string(cls, status_str: str) -> int:
        return cls._parse(status_str)

    @classmethod
    def to_string(cls, status: int) -> str:
        return cls._name(status)

    @classmethod
    def all_status(cls) -> list[int]:
        return list(range(1, len(cls._names) + 1))


@dataclass(frozen=True, slots=True)
class RegisteredModelTag:
    key: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RegisteredModelTag:
        return cls(str(d["key"]), str(d.get("value", "")))


@dataclass(frozen=True, slots=True)
class ModelVersionTag:
    key: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelVersionTag:
        return cls(str(d["key"]), str(d.get("value", "")))


@dataclass(frozen=True, slots=True)
class RegisteredModelAlias:
    """An alias (``champion``) naming one version of a registered model."""

    alias: str
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {"alias": self.alias, "version": str(self.version)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RegisteredModelAlias:
        return cls(str(d["alias"]), int(d["version"]))


def _tags_json(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags.items()]


def _tags_from_json(items: Any) -> dict[str, str]:
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    return {str(t["key"]): str(t.get("value", "")) for t in items or []}


def _opt_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One version of a registered model.

    ``source`` is the URI the version was registered from (``runs:/<id>/model``,
    ``models:/<name>/<version>``, or a location inside a run's artifacts); ``tags`` maps keys to
    values; ``aliases`` lists the aliases pointing at this version.
    """

    name: str
    version: int
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    user_id: str | None = None
    current_stage: str = STAGE_NONE
    source: str | None = None
    run_id: str | None = None
    status: str = "READY"
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    run_link: str | None = None
    aliases: list[str] = field(default_factory=list)
    model_id: str | None = None

    _OPTIONAL: ClassVar[tuple[str, ...]] = (
        "creation_timestamp",
        "last_updated_timestamp",
        "user_id",
        "description",
        "source",
        "run_id",
        "status_message",
        "run_link",
        "model_id",
    )

    @property
    def params(self) -> list[Any] | None:
        """MLflow 3's ``ModelVersion.params``: MLflow's registry stores none, and its stores and
        REST client give None; kept for scripts that read it (the logged model has the params:
        ``get_logged_model(version.model_id).params``)."""
        return None

    @property
    def metrics(self) -> list[Any] | None:
        """MLflow 3's ``ModelVersion.metrics``: None, as ``params``."""
        return None

    def to_dict(self) -> dict[str, Any]:
        """The REST (JSON) shape: ``version`` as a string, unset fields left out."""
        out: dict[str, Any] = {"name": self.name, "version": str(self.version)}
        for key in self._OPTIONAL:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["current_stage"] = self.current_stage
        out["status"] = self.status
        if self.tags:
            out["tags"] = _tags_json(self.tags)
        if self.aliases:
            out["aliases"] = list(self.aliases)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelVersion:
        return cls(
            name=str(d["name"]),
            version=int(d["version"]),
            creation_timestamp=_opt_int(d.get("creation_timestamp")),
            last_updated_timestamp=_opt_int(d.get("last_updated_timestamp")),
            description=d.get("description"),
            user_id=d.get("user_id") or None,
            current_stage=d.get("current_stage") or STAGE_NONE,
            source=d.get("source"),
            run_id=d.get("run_id") or None,
            status=d.get("status") or "READY",
            status_message=d.get("status_message") or None,
            tags=_tags_from_json(d.get("tags")),
            run_link=d.get("run_link") or None,
            aliases=[str(a) for a in d.get("aliases") or []],
            model_id=d.get("model_id") or None,
        )


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named model: its description, tags, aliases (alias -> version number) and the latest
    version in each stage (``latest_versions``)."""

    name: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    latest_versions: list[ModelVersion] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The REST (JSON) shape; aliases as ``[{"alias": ..., "version": "1"}]``."""
        out: dict[str, Any] = {"name": self.name}
        for key in ("creation_timestamp", "last_updated_timestamp", "description"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.latest_versions:
            out["latest_versions"] = [v.to_dict() for v in self.latest_versions]
        if self.tags:
            out["tags"] = _tags_json(self.tags)
        if self.aliases:
            out["aliases"] = [RegisteredModelAlias(a, v).to_dict() for a, v in self.aliases.items()]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RegisteredModel:
        aliases = d.get("aliases") or []
        return cls(
            name=str(d["name"]),
            creation_timestamp=_opt_int(d.get("creation_timestamp")),
            last_updated_timestamp=_opt_int(d.get("last_updated_timestamp")),
            description=d.get("description"),
            latest_versions=[ModelVersion.from_dict(v) for v in d.get("latest_versions") or []],
            tags=_tags_from_json(d.get("tags")),
            aliases=(
                {str(k): int(v) for k, v in aliases.items()}
                if isinstance(aliases, dict)
                else {str(a["alias"]): int(a["version"]) for a in aliases}
            ),
        )
