"""The model registry in the SQL store: registered models, their tags and aliases.

Versions are in ``_registry_versions`` and searches in ``_registry_search``; webhook events go
to the outbox of ``_webhooks``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mltrail._exceptions import AlreadyExists, NotFound
from mltrail.entities import ModelVersion, ModelVersionTag, RegisteredModel, RegisteredModelTag
from mltrail.store._base import PagedList
from mltrail.store._registry_base import ModelRegistryStore
from mltrail.store._visibility import Visibility
from mltrail.store.sql._core import SqlContext, inserted_id, now_ms
from mltrail.store.sql._registry_core import (
    EventOutbox,
    RegistryCore,
    check_description,
    registry_tag_rows,
)
from mltrail.store.sql._registry_schema import (
    model_versions_table,
    registered_model_aliases_table,
    registered_model_tags_table,
    registered_models_table,
)
from mltrail.store.sql._registry_search import search_model_versions, search_registered_models
from mltrail.store.sql._registry_versions import SqlModelVersions
from mltrail.validation import validate_alias, validate_model_name

__all__ = ["SqlRegistry"]

_M = registered_models_table.c
_A = registered_model_aliases_table.c


def _exists(name: str, existing: str) -> AlreadyExists:
    if existing != name:
        return AlreadyExists(
            f"Registered Model (name={name}) already exists: it names the same model as "
            f"'{existing}' (names are compared after percent-decoding and normalisation)."
        )
    return AlreadyExists(f"Registered Model (name={name}) already exists.")


class SqlRegistry(ModelRegistryStore):
    """The model registry: registered models with their tags and aliases here, versions in
    :class:`~mltrail.store.sql._registry_versions.SqlModelVersions`, searches in
    ``_registry_search``; changes emit webhook events into *outbox* in their transaction."""

    def __init__(self, ctx: SqlContext, outbox: EventOutbox) -> None:
        self._ctx = ctx
        self._core = RegistryCore(ctx, outbox)
        self._versions = SqlModelVersions(ctx, self._core)

    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        key = validate_model_name(name)
        tag_map = registry_tag_rows(tags or [], "registered model tag")
        description = check_description(description)

        workspace = self._ctx.new_row_workspace()

        def create(conn: Connection) -> RegisteredModel:
            existing = conn.execute(
                select(_M.name).where(_M.name_key == key, _M.workspace == workspace)
            ).first()
            if existing is not None:
                raise _exists(name, existing.name)
            now = now_ms()
            result = conn.execute(
                insert(registered_models_table).values(
                    workspace=workspace,
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
            self._core.emit(
                conn,
                "registered_model.created",
                {"name": name, "tags": tag_map, "description": description},
            )
            return RegisteredModel(name, now, now, description, [], tag_map, {})

        try:
            return self._core.write(create)
        except IntegrityError:
            raise _exists(name, name) from None

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._ctx.read(
            lambda c: self._core.load_models(c, [self._core.model_row(c, name)])[0]
        )

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        description = check_description(description)

        def apply(conn: Connection) -> RegisteredModel:
            model = self._core.model_row(conn, name)
            conn.execute(
                update(registered_models_table)
                .where(_M.id == model.id)
                .values(description=description, last_updated_time=now_ms())
            )
            return self._core.load_models(conn, [self._core.model_row(conn, name)])[0]

        return self._core.write(apply)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        key = validate_model_name(new_name)

        def apply(conn: Connection) -> RegisteredModel:
            model = self._core.model_row(conn, name)
            clash = conn.execute(
                select(_M.name).where(
                    _M.name_key == key, _M.workspace == model.workspace, _M.id != model.id
                )
            ).first()
            if clash is not None:
                raise _exists(new_name, clash.name)
            conn.execute(
                update(registered_models_table)
                .where(_M.id == model.id)
                .values(name=new_name, name_key=key, last_updated_time=now_ms())
            )
            return self._core.load_models(conn, [self._core.model_row(conn, new_name)])[0]

        try:
            return self._core.write(apply)
        except IntegrityError:
            raise _exists(new_name, new_name) from None

    def delete_registered_model(self, name: str) -> None:
        def apply(conn: Connection) -> None:
            model = self._core.model_row(conn, name)
            conn.execute(delete(registered_models_table).where(_M.id == model.id))

        self._core.write(apply)

    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None:
        rows = registry_tag_rows([tag], "registered model tag")

        def apply(conn: Connection) -> None:
            model = self._core.model_row(conn, name)
            self._ctx.upsert(
                conn,
                registered_model_tags_table,
                [{"model_id": model.id, "key": k, "value": v} for k, v in rows.items()],
                ["model_id", "key"],
                ["value"],
            )
            for k, v in rows.items():
                self._core.emit(
                    conn, "registered_model_tag.set", {"name": model.name, "key": k, "value": v}
                )

        self._core.write(apply)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        def apply(conn: Connection) -> None:
            model = self._core.model_row(conn, name)
            t = registered_model_tags_table.c
            result = conn.execute(
                delete(registered_model_tags_table).where(t.model_id == model.id, t.key == key)
            )
            if result.rowcount:
                self._core.emit(
                    conn, "registered_model_tag.deleted", {"name": model.name, "key": key}
                )

        self._core.write(apply)

    # -- aliases -----------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        validate_alias(alias)

        def apply(conn: Connection) -> None:
            model = self._core.model_row(conn, name)
            row = self._core.version_row(conn, model, version)
            self._ctx.upsert(
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
            self._core.emit(
                conn,
                "model_version_alias.created",
                {"name": model.name, "alias": alias, "version": str(row.version)},
            )

        self._core.write(apply)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        validate_alias(alias)

        def apply(conn: Connection) -> None:
            model = self._core.model_row(conn, name)
            result = conn.execute(
                delete(registered_model_aliases_table).where(
                    _A.model_id == model.id, _A.alias == alias
                )
            )
            if result.rowcount:
                self._core.emit(
                    conn, "model_version_alias.deleted", {"name": model.name, "alias": alias}
                )

        self._core.write(apply)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        validate_alias(alias)

        def get(conn: Connection) -> ModelVersion:
            model = self._core.model_row(conn, name)
            v = model_versions_table.c
            row = conn.execute(
                select(model_versions_table)
                .join(registered_model_aliases_table, _A.version_id == v.id)
                .where(_A.model_id == model.id, _A.alias == alias)
            ).first()
            if row is None:
                raise NotFound(f"Registered model alias {alias} not found.")
            return self._core.load_versions(conn, [row], {model.id: model.name})[0]

        return self._ctx.read(get)

    # -- versions ----------------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[ModelVersionTag] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        return self._versions.create_model_version(
            name, source, run_id, tags, run_link, description, model_id
        )

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self._versions.get_model_version(name, version)

    def update_model_version(
        self, name: str, version: int | str, description: str | None
    ) -> ModelVersion:
        return self._versions.update_model_version(name, version, description)

    def delete_model_version(self, name: str, version: int | str) -> None:
        self._versions.delete_model_version(name, version)

    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        return self._versions.transition_model_version_stage(
            name, version, stage, archive_existing_versions
        )

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        return self._versions.get_latest_versions(name, stages)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        return self._versions.get_model_version_download_uri(name, version)

    def set_model_version_tag(self, name: str, version: int | str, tag: ModelVersionTag) -> None:
        self._versions.set_model_version_tag(name, version, tag)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        self._versions.delete_model_version_tag(name, version, key)

    def copy_model_version(self, src_mv: ModelVersion, dst_name: str) -> ModelVersion:
        src = self.get_model_version(src_mv.name, src_mv.version)
        with contextlib.suppress(AlreadyExists):
            self.create_registered_model(dst_name)
        return self.create_model_version(
            dst_name,
            f"models:/{src.name}/{src.version}",
            run_id=src.run_id,
            tags=[ModelVersionTag(k, v) for k, v in src.tags.items()],
            run_link=src.run_link,
            description=src.description,
        )

    # -- searches ----------------------------------------------------------------------------
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[RegisteredModel]:
        return search_registered_models(
            self._core, filter_string, max_results, order_by, page_token, visible
        )

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[ModelVersion]:
        return search_model_versions(
            self._core, filter_string, max_results, order_by, page_token, visible
        )
