"""The model registry in the SQL store: registered models, their tags and aliases.

Versions are in ``_registry_versions``, searches in ``_registry_search`` and webhooks in
``_webhooks``; :class:`SqlRegistry` puts them together for ``SqlStore``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mltrail._exceptions import AlreadyExists, NotFound
from mltrail.entities import ModelVersion, RegisteredModel, RegisteredModelTag
from mltrail.registry import validate_alias, validate_model_name
from mltrail.store._registry_base import RegistryStore
from mltrail.store.sql._core import inserted_id, now_ms
from mltrail.store.sql._registry_core import RegistryCore, check_description, registry_tag_rows
from mltrail.store.sql._registry_schema import (
    model_versions_table,
    registered_model_aliases_table,
    registered_model_tags_table,
    registered_models_table,
)
from mltrail.store.sql._registry_search import SqlRegistrySearch
from mltrail.store.sql._registry_versions import SqlModelVersions
from mltrail.store.sql._webhooks import SqlWebhooks

__all__ = ["SqlRegisteredModels", "SqlRegistry"]

_M = registered_models_table.c
_A = registered_model_aliases_table.c


def _exists(name: str, existing: str) -> AlreadyExists:
    if existing != name:
        return AlreadyExists(
            f"Registered Model (name={name}) already exists: it names the same model as "
            f"'{existing}' (names are compared after percent-decoding and normalisation)."
        )
    return AlreadyExists(f"Registered Model (name={name}) already exists.")


class SqlRegisteredModels(RegistryCore):
    """Registered models: create, read, rename, describe, delete, tags and aliases."""

    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        key = validate_model_name(name)
        tag_map = registry_tag_rows(tags or [], "registered model tag")
        description = check_description(description)

        def create(conn: Connection) -> RegisteredModel:
            existing = conn.execute(select(_M.name).where(_M.name_key == key)).first()
            if existing is not None:
                raise _exists(name, existing.name)
            now = now_ms()
            result = conn.execute(
                insert(registered_models_table).values(
                    name=name,
                    name_key=key,
                    creation_time=now,
                    last_updated_time=now,
                    description=description,
                    next_version=1,
                )
            )
            model_id = inserted_id(result)
            if tag_map:
                conn.execute(
                    insert(registered_model_tags_table),
                    [{"model_id": model_id, "key": k, "value": v} for k, v in tag_map.items()],
                )
            self._emit(
                conn,
                "registered_model.created",
                {"name": name, "tags": tag_map, "description": description},
            )
            return RegisteredModel(name, now, now, description, [], tag_map, {})

        try:
            return self._registry_write(create)
        except IntegrityError:
            raise _exists(name, name) from None

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._read(lambda c: self._load_models(c, [self._model_row(c, name)])[0])

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        description = check_description(description)

        def apply(conn: Connection) -> RegisteredModel:
            model = self._model_row(conn, name)
            conn.execute(
                update(registered_models_table)
                .where(_M.id == model.id)
                .values(description=description, last_updated_time=now_ms())
            )
            return self._load_models(conn, [self._model_row(conn, name)])[0]

        return self._registry_write(apply)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        key = validate_model_name(new_name)

        def apply(conn: Connection) -> RegisteredModel:
            model = self._model_row(conn, name)
            clash = conn.execute(
                select(_M.name).where(_M.name_key == key, _M.id != model.id)
            ).first()
            if clash is not None:
                raise _exists(new_name, clash.name)
            conn.execute(
                update(registered_models_table)
                .where(_M.id == model.id)
                .values(name=new_name, name_key=key, last_updated_time=now_ms())
            )
            return self._load_models(conn, [self._model_row(conn, new_name)])[0]

        try:
            return self._registry_write(apply)
        except IntegrityError:
            raise _exists(new_name, new_name) from None

    def delete_registered_model(self, name: str) -> None:
        def apply(conn: Connection) -> None:
            model = self._model_row(conn, name)
            conn.execute(delete(registered_models_table).where(_M.id == model.id))

        self._registry_write(apply)

    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None:
        rows = registry_tag_rows([tag], "registered model tag")

        def apply(conn: Connection) -> None:
            model = self._model_row(conn, name)
            self._upsert(
                conn,
                registered_model_tags_table,
                [{"model_id": model.id, "key": k, "value": v} for k, v in rows.items()],
                ["model_id", "key"],
                ["value"],
            )
            for k, v in rows.items():
                self._emit(
                    conn, "registered_model_tag.set", {"name": model.name, "key": k, "value": v}
                )

        self._registry_write(apply)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        def apply(conn: Connection) -> None:
            model = self._model_row(conn, name)
            t = registered_model_tags_table.c
            result = conn.execute(
                delete(registered_model_tags_table).where(t.model_id == model.id, t.key == key)
            )
            if result.rowcount:
                self._emit(conn, "registered_model_tag.deleted", {"name": model.name, "key": key})

        self._registry_write(apply)

    # -- aliases -----------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        validate_alias(alias)

        def apply(conn: Connection) -> None:
            model = self._model_row(conn, name)
            row = self._version_row(conn, model, version)
            self._upsert(
                conn,
                registered_model_aliases_table,
                [{"model_id": model.id, "alias": alias, "version_id": row.id}],
                ["model_id", "alias"],
                ["version_id"],
            )
            conn.execute(
                update(registered_models_table)
                .where(_M.id == model.id)
                .values(last_updated_time=now_ms())
            )
            self._emit(
                conn,
                "model_version_alias.created",
                {"name": model.name, "alias": alias, "version": str(row.version)},
            )

        self._registry_write(apply)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        validate_alias(alias)

        def apply(conn: Connection) -> None:
            model = self._model_row(conn, name)
            result = conn.execute(
                delete(registered_model_aliases_table).where(
                    _A.model_id == model.id, _A.alias == alias
                )
            )
            if result.rowcount:
                self._emit(
                    conn, "model_version_alias.deleted", {"name": model.name, "alias": alias}
                )

        self._registry_write(apply)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        validate_alias(alias)

        def get(conn: Connection) -> ModelVersion:
            model = self._model_row(conn, name)
            v = model_versions_table.c
            row = conn.execute(
                select(model_versions_table)
                .join(registered_model_aliases_table, _A.version_id == v.id)
                .where(_A.model_id == model.id, _A.alias == alias)
            ).first()
            if row is None:
                raise NotFound(f"Registered model alias {alias} not found.")
            return self._load_versions(conn, [row], {model.id: model.name})[0]

        return self._read(get)


class SqlRegistry(
    SqlRegisteredModels, SqlModelVersions, SqlRegistrySearch, SqlWebhooks, RegistryStore
):
    """Everything the registry offers, for ``SqlStore``."""
