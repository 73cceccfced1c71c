"""What the registry's SQL parts share: row look-ups, entity loading, validation, events."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from itertools import compress, repeat
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Integer, Row, and_, bindparam, exists, func, select, type_coerce

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.entities import ModelVersion, RegisteredModel
from mltrail.entities._bulk import build_many
from mltrail.entities._registry import ALL_STAGES, canonical_stage
from mltrail.store.sql._core import SqlContext
from mltrail.store.sql._registry_schema import (
    model_version_tags_table,
    model_versions_table,
    registered_model_aliases_table,
    registered_model_tags_table,
    registered_models_table,
)
from mltrail.validation import (
    MAX_REGISTRY_TAG_VALUE_LENGTH,
    model_name_key,
    parse_version,
    validate_key,
    validate_tag_value,
)

__all__ = [
    "ENTITY_COLUMNS",
    "VERSION_FLAGS",
    "EventOutbox",
    "RegistryCore",
    "check_description",
    "registry_tag_rows",
]

T = TypeVar("T")
_M = registered_models_table.c
_V = model_versions_table.c
_VT = model_version_tags_table.c
_VA = registered_model_aliases_table.c
_VERSION_TAGS = select(_VT.version_id, _VT.key, _VT.value).where(
    _VT.version_id.in_(bindparam("ids", expanding=True))
)
_VERSION_ALIASES = (
    select(_VA.version_id, _VA.alias)
    .where(_VA.version_id.in_(bindparam("ids", expanding=True)))
    .order_by(_VA.alias)
)
# ModelVersion fields read straight from model_versions columns (field -> column). The rest of
# an entity: the name (from its model), then tags and aliases, read beside the rows.
_VERSION_FIELD_COLUMNS = {
    "version": "version",
    "creation_timestamp": "creation_time",
    "last_updated_timestamp": "last_updated_time",
    "description": "description",
    "user_id": "user_id",
    "current_stage": "current_stage",
    "source": "source",
    "run_id": "run_id",
    "status": "status",
    "status_message": "status_message",
    "run_link": "run_link",
    "model_id": "model_ref",
}
_VERSION_FIELDS = ("name", *_VERSION_FIELD_COLUMNS, "tags", "aliases")
# model_versions columns an entity is made of: what a search selects for _load_versions.
ENTITY_COLUMNS = ("id", "model_id", *_VERSION_FIELD_COLUMNS.values())
# Columns to select beside model_versions rows: whether each version has tags, aliases.
# Read as integers (0/1): a Boolean would add a result conversion to every row.
VERSION_FLAGS = (
    type_coerce(exists().where(_VT.version_id == _V.id), Integer).label("has_tags"),
    type_coerce(exists().where(_VA.version_id == _V.id), Integer).label("has_aliases"),
)


def check_description(description: Any) -> str | None:
    if description is None or isinstance(description, str):
        return description
    raise InvalidArgument(
        f"Invalid description {description!r}: must be a string, not {type(description).__name__}"
    )


def registry_tag_rows(tags: Sequence[Any], kind: str) -> dict[str, str]:
    """Checked tags (objects with key/value, or a mapping) as key -> value."""
    items = tags.items() if isinstance(tags, dict) else [(t.key, t.value) for t in tags]
    out: dict[str, str] = {}
    for key, value in items:
        validate_key(key, kind)
        out[key] = validate_tag_value(key, value, MAX_REGISTRY_TAG_VALUE_LENGTH)
    return out


class EventOutbox(Protocol):
    """Where registry events go: the webhooks part of the store (its delivery outbox)."""

    def enqueue(self, conn: Connection, event: str, data: dict[str, Any]) -> bool:
        """Write deliveries of *event* for subscribed webhooks; True when any was written."""

    def notify_pending(self) -> None:
        """Tell whoever sends deliveries that some are due (after the commit)."""


class RegistryCore:
    """What the registry's parts share: the transactions that emit webhook events, the
    look-ups of models and versions and the loading of their entities."""

    def __init__(self, ctx: SqlContext, outbox: EventOutbox) -> None:
        self._ctx = ctx
        self._outbox = outbox
        self._events_local = threading.local()

    # -- events ------------------------------------------------------------------------------
    def emit(self, conn: Connection, event: str, data: dict[str, Any]) -> None:
        """Record *event* in the outbox, in the transaction of the change itself."""
        if self._outbox.enqueue(conn, event, data):
            self._events_local.pending = True

    def write(self, fn: Callable[[Connection], T]) -> T:
        """A write transaction; deliveries it enqueued are announced after the commit."""
        self._events_local.pending = False
        try:
            return self._ctx.write(fn)
        finally:
            if getattr(self._events_local, "pending", False):
                self._events_local.pending = False
                self._outbox.notify_pending()

    def read(self, fn: Callable[[Connection], T]) -> T:
        return self._ctx.read(fn)

    def workspace(self) -> str:
        """The workspace registered models are looked up and created in."""
        return self._ctx.new_row_workspace()

    # -- rows --------------------------------------------------------------------------------
    def model_row(self, conn: Connection, name: str, *, for_update: bool = False) -> Row[Any]:
        if not isinstance(name, str) or not name:
            raise NotFound(f"Registered Model with name={name!r} not found")
        query = select(registered_models_table).where(
            _M.name_key == model_name_key(name), _M.workspace == self.workspace()
        )
        if for_update and self._ctx.dialect != "sqlite":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise NotFound(f"Registered Model with name={name} not found")
        return row

    def version_row(self, conn: Connection, model: Row[Any], version: Any) -> Row[Any]:
        number = parse_version(version)
        row = conn.execute(
            select(model_versions_table).where(_V.model_id == model.id, _V.version == number)
        ).first()
        if row is None:
            raise NotFound(f"Model Version (name={model.name}, version={number}) not found")
        return row

    # -- entities ----------------------------------------------------------------------------
    def load_versions(
        self, conn: Connection, rows: Sequence[Row[Any]], names: dict[int, str] | None = None
    ) -> list[ModelVersion]:
        """ModelVersion entities (with tags and aliases) for model_versions rows, in order.

        Rows selected with :data:`VERSION_FLAGS` say whether a version has tags or aliases at
        all, so that only those versions' are read (most versions have neither).
        """
        if not rows:
            return []
        fields = rows[0]._fields
        # Rows are read by position, a column at a time: no Python frame runs per row.
        columns = list(zip(*rows, strict=True))
        column = {name: columns[fields.index(name)] for name in ENTITY_COLUMNS}
        ids = column["id"]
        tags: dict[int, dict[str, str]] = {}
        aliases: dict[int, list[str]] = {}
        if "has_tags" in fields:
            tag_ids = list(compress(ids, columns[fields.index("has_tags")]))
            alias_ids = list(compress(ids, columns[fields.index("has_aliases")]))
        else:
            tag_ids = alias_ids = list(ids)
        if tag_ids:
            for vid, key, value in conn.execute(_VERSION_TAGS, {"ids": tag_ids}):
                tags.setdefault(vid, {})[key] = value
        if alias_ids:
            for vid, alias in conn.execute(_VERSION_ALIASES, {"ids": alias_ids}):
                aliases.setdefault(vid, []).append(alias)
        if names is None:
            model_ids = list(set(column["model_id"]))
            names = dict(
                conn.execute(select(_M.id, _M.name).where(_M.id.in_(model_ids))).tuples().all()
            )
        count = len(ids)
        no_tags: dict[str, str] = {}
        # Each entity gets its own tags dict and aliases list (copies; empty ones are new).
        return build_many(
            ModelVersion,
            _VERSION_FIELDS,
            [
                list(map(names.__getitem__, column["model_id"])),
                *(column[c] for c in _VERSION_FIELD_COLUMNS.values()),
                list(map(dict, map(tags.get, ids, repeat(no_tags, count)))),
                list(map(list, map(aliases.get, ids, repeat((), count)))),
            ],
        )

    def latest_version_rows(
        self, conn: Connection, model_ids: Sequence[int], stages: Sequence[str] = ALL_STAGES
    ) -> list[Row[Any]]:
        """The newest version row of each model in each stage."""
        if not model_ids:
            return []
        newest = (
            select(_V.model_id, _V.current_stage, func.max(_V.version).label("version"))
            .where(_V.model_id.in_(list(model_ids)), _V.current_stage.in_(list(stages)))
            .group_by(_V.model_id, _V.current_stage)
            .subquery()
        )
        query = (
            select(model_versions_table)
            .join(
                newest,
                and_(newest.c.model_id == _V.model_id, newest.c.version == _V.version),
            )
            .order_by(_V.model_id, _V.version)
        )
        return list(conn.execute(query).all())

    def load_models(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[RegisteredModel]:
        """RegisteredModel entities with tags, aliases and latest versions, in order."""
        if not rows:
            return []
        ids = [r.id for r in rows]
        names = {r.id: r.name for r in rows}
        tags: dict[int, dict[str, str]] = {i: {} for i in ids}
        t = registered_model_tags_table.c
        for mid, key, value in conn.execute(
            select(t.model_id, t.key, t.value).where(t.model_id.in_(ids))
        ):
            tags[mid][key] = value
        aliases: dict[int, dict[str, int]] = {i: {} for i in ids}
        a = registered_model_aliases_table.c
        for mid, alias, version in conn.execute(
            select(a.model_id, a.alias, _V.version)
            .join(model_versions_table, _V.id == a.version_id)
            .where(a.model_id.in_(ids))
            .order_by(a.alias)
        ):
            aliases[mid][alias] = version
        latest: dict[int, list[ModelVersion]] = {i: [] for i in ids}
        latest_rows = self.latest_version_rows(conn, ids)
        for version in zip(latest_rows, self.load_versions(conn, latest_rows, names), strict=True):
            latest[version[0].model_id].append(version[1])
        return [
            RegisteredModel(
                name=r.name,
                creation_timestamp=r.creation_time,
                last_updated_timestamp=r.last_updated_time,
                description=r.description,
                latest_versions=latest[r.id],
                tags=tags[r.id],
                aliases=aliases[r.id],
            )
            for r in rows
        ]

    def get_model_version(self, conn: Connection, name: str, version: Any) -> ModelVersion:
        model = self.model_row(conn, name)
        row = self.version_row(conn, model, version)
        return self.load_versions(conn, [row], {model.id: model.name})[0]

    @staticmethod
    def stages(stages: Sequence[str] | None) -> list[str]:
        if not stages:
            return list(ALL_STAGES)
        return list(dict.fromkeys(canonical_stage(s) for s in stages))
