"""Experiments in the SQL store."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mltrail._exceptions import AlreadyExists, InvalidArgument, NotFound
from mltrail.entities import Experiment, ExperimentTag, LifecycleStage, ViewType
from mltrail.search import parse_filter, parse_order_by
from mltrail.store._base import ExperimentStore, PagedList
from mltrail.store._visibility import Visibility
from mltrail.store.sql._codec import decode_token, encode_token
from mltrail.store.sql._core import SqlContext, inserted_id, now_ms
from mltrail.store.sql._filters import experiment_condition
from mltrail.store.sql._paging import SortColumn, after_condition, order_clauses
from mltrail.store.sql._prepared import Prepared, PreparedIn
from mltrail.store.sql._schema import (
    experiment_tags_table,
    experiments_table,
    runs_table,
    workspaces_table,
)
from mltrail.store.sql._visible import visibility_condition
from mltrail.validation import (
    MAX_EXPERIMENT_TAG_VALUE_LENGTH,
    validate_experiment_name,
    validate_key,
    validate_max_results,
    validate_tag_value,
)

__all__ = ["SqlExperiments", "default_experiment_rows", "join_uri", "location_uri"]

_E = experiments_table.c
_ET = experiment_tags_table.c
_EXPERIMENT_BY_NAME = Prepared(
    lambda _: select(experiments_table).where(
        _E.name == bindparam("name"), _E.workspace == bindparam("workspace")
    )
)
_TAGS_OF_EXPERIMENTS = PreparedIn(
    lambda _, n: select(_ET.experiment_id, _ET.key, _ET.value).where(
        _ET.experiment_id.in_(PreparedIn.names(n))
    )
)


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def join_uri(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def location_uri(location: str) -> str:
    """Local paths become absolute ``file://`` URIs; other URIs pass through."""
    if "://" in location or location.startswith(("file:", "mlflow-artifacts:")):
        return location.rstrip("/")
    return Path(location).expanduser().resolve().as_uri()


def experiment_location(location: str) -> str:
    """A new experiment's ``artifact_location`` as stored and returned: a relative path is made
    absolute against the cwd and kept a plain path, as MLflow keeps it; other forms as
    :func:`location_uri` makes them."""
    if not _SCHEME.match(location) and not location.startswith(("/", "~", "\\")):
        return (Path.cwd() / location).as_posix().rstrip("/")
    return location_uri(location)


def default_experiment_rows(conn: Connection, artifact_root: str) -> None:
    """Create experiment 0, "Default", in a fresh database."""
    now = now_ms()
    conn.execute(
        insert(experiments_table).values(
            experiment_id=0,
            name="Default",
            artifact_location=join_uri(artifact_root, "0"),
            lifecycle_stage=LifecycleStage.ACTIVE,
            creation_time=now,
            last_update_time=now,
        )
    )


class SqlExperiments(ExperimentStore):
    """Experiments and their tags."""

    def __init__(self, ctx: SqlContext) -> None:
        self._ctx = ctx

    def ensure_default_experiment(self) -> None:
        """Create experiment 0 if missing (a database built by migrations from scratch)."""

        def ensure(conn: Connection) -> None:
            found = conn.execute(select(_E.experiment_id).where(_E.experiment_id == 0)).first()
            if found is None:
                default_experiment_rows(conn, self._ctx.artifact_root)

        self._ctx.write(ensure)

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] | None = None,
    ) -> str:
        validate_experiment_name(name)
        tag_rows = self._experiment_tag_rows(tags or [])
        if artifact_location:
            artifact_location = experiment_location(artifact_location)

        workspace = self._ctx.new_row_workspace()

        def create(conn: Connection) -> str:
            existing = conn.execute(
                select(_E.lifecycle_stage).where(_E.name == name, _E.workspace == workspace)
            ).first()
            if existing is not None:
                raise AlreadyExists(_exists_message(name, existing.lifecycle_stage))
            now = now_ms()
            result = conn.execute(
                insert(experiments_table).values(
                    workspace=workspace,
                    name=name,
                    artifact_location=artifact_location or "",
                    lifecycle_stage=LifecycleStage.ACTIVE,
                    creation_time=now,
                    last_update_time=now,
                )
            )
            eid = inserted_id(result)
            if not artifact_location:
                root = self._workspace_artifact_root(conn, workspace)
                conn.execute(
                    update(experiments_table)
                    .where(_E.experiment_id == eid)
                    .values(artifact_location=join_uri(root, str(eid)))
                )
            if tag_rows:
                conn.execute(
                    insert(experiment_tags_table), [{**r, "experiment_id": eid} for r in tag_rows]
                )
            return str(eid)

        try:
            return self._ctx.write(create)
        except IntegrityError:
            raise AlreadyExists(_exists_message(name, LifecycleStage.ACTIVE)) from None

    def _workspace_artifact_root(self, conn: Connection, workspace: str) -> str:
        """Where a new experiment's artifacts go: its workspace's own root, else (workspaces
        on) ``<root>/workspaces/<name>``, else the backend's root, as MLflow places them."""
        if not self._ctx.workspaces_enabled:
            return self._ctx.artifact_root
        own = conn.execute(
            select(workspaces_table.c.default_artifact_root).where(
                workspaces_table.c.name == workspace
            )
        ).scalar()
        if own:
            return location_uri(str(own))
        return join_uri(self._ctx.artifact_root, "workspaces", workspace)

    @staticmethod
    def _experiment_tag_rows(tags: Sequence[ExperimentTag]) -> list[dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for tag in tags:
            validate_key(tag.key, "experiment tag")
            value = validate_tag_value(tag.key, tag.value, MAX_EXPERIMENT_TAG_VALUE_LENGTH)
            rows[tag.key] = {"key": tag.key, "value": value}
        return list(rows.values())

    def _to_experiments(self, conn: Connection, rows: Sequence[Any]) -> list[Experiment]:
        ids = [r.experiment_id for r in rows]
        tags: dict[int, dict[str, str]] = {i: {} for i in ids}
        for experiment_id, key, value in _TAGS_OF_EXPERIMENTS.all(conn, ids):
            tags[experiment_id][key] = value
        return [
            Experiment(
                experiment_id=str(r.experiment_id),
                name=r.name,
                artifact_location=r.artifact_location,
                lifecycle_stage=r.lifecycle_stage,
                tags=tags[r.experiment_id],
                creation_time=r.creation_time,
                last_update_time=r.last_update_time,
                workspace=r.workspace,
            )
            for r in rows
        ]

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._ctx.read(
            lambda c: self._to_experiments(c, [self._ctx.experiment_row(c, experiment_id)])[0]
        )

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        def get(conn: Connection) -> Experiment | None:
            workspace = self._ctx.new_row_workspace()
            row = _EXPERIMENT_BY_NAME.first(conn, {"name": name, "workspace": workspace})
            return None if row is None else self._to_experiments(conn, [row])[0]

        return self._ctx.read(get)

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[Experiment]:
        limit = validate_max_results(max_results)
        stages = LifecycleStage.view_type_to_stages(ViewType.coerce(view_type))
        expr = parse_filter(filter_string, "experiments")
        sort = [
            SortColumn(_sort_column(key.ident.key), key.ascending, nullable=False)
            for key in parse_order_by(order_by, "experiments")
        ]
        if not sort:
            sort = [SortColumn(_E.creation_time, ascending=False, nullable=False)]
        sort.append(SortColumn(_E.experiment_id, ascending=True, nullable=False))
        query = select(experiments_table).where(_E.lifecycle_stage.in_(stages))
        workspace = self._ctx.workspace()
        if workspace is not None:
            query = query.where(_E.workspace == workspace)
        if expr is not None:
            query = query.where(experiment_condition(expr))
        readable = visibility_condition(_E.experiment_id, visible)
        if readable is not None:
            query = query.where(readable)
        if page_token:
            state = decode_token(page_token, "experiments")
            query = query.where(after_condition(sort, state["k"]))
        query = query.order_by(*order_clauses(sort)).limit(limit + 1)

        def search(conn: Connection) -> PagedList[Experiment]:
            rows = conn.execute(query).all()
            token = None
            if len(rows) > limit:
                rows = rows[:limit]
                last = rows[-1]._mapping
                token = encode_token({"t": "experiments", "k": [last[c.expr.name] for c in sort]})
            return PagedList(self._to_experiments(conn, rows), token)

        return self._ctx.read(search)

    def _set_stage(self, experiment_id: str, stage: str) -> None:
        def apply(conn: Connection) -> None:
            row = self._ctx.experiment_row(conn, experiment_id)
            if stage == LifecycleStage.DELETED and row.experiment_id == 0:
                raise InvalidArgument("The default experiment (id 0) cannot be deleted")
            now = now_ms()
            deleted_time = now if stage == LifecycleStage.DELETED else None
            conn.execute(
                update(experiments_table)
                .where(_E.experiment_id == row.experiment_id)
                .values(lifecycle_stage=stage, last_update_time=now, deleted_time=deleted_time)
            )
            # Runs follow their experiment (MLflow's behaviour), keeping their own delete time.
            other = (
                LifecycleStage.ACTIVE if stage == LifecycleStage.DELETED else LifecycleStage.DELETED
            )
            conn.execute(
                update(runs_table)
                .where(runs_table.c.experiment_id == row.experiment_id)
                .where(runs_table.c.lifecycle_stage == other)
                .values(lifecycle_stage=stage, deleted_time=deleted_time)
            )

        self._ctx.write(apply)

    def delete_experiment(self, experiment_id: str) -> None:
        self._set_stage(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_stage(experiment_id, LifecycleStage.ACTIVE)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validate_experiment_name(new_name)

        def rename(conn: Connection) -> None:
            row = self._ctx.experiment_row(conn, experiment_id)
            if row.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidArgument(f"Cannot rename experiment {experiment_id}: it is not active")
            clash = conn.execute(
                select(_E.lifecycle_stage).where(
                    _E.name == new_name,
                    _E.workspace == row.workspace,
                    _E.experiment_id != row.experiment_id,
                )
            ).first()
            if clash is not None:
                raise AlreadyExists(_exists_message(new_name, clash.lifecycle_stage))
            conn.execute(
                update(experiments_table)
                .where(_E.experiment_id == row.experiment_id)
                .values(name=new_name, last_update_time=now_ms())
            )

        try:
            self._ctx.write(rename)
        except IntegrityError:
            raise AlreadyExists(_exists_message(new_name, LifecycleStage.ACTIVE)) from None

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        rows = self._experiment_tag_rows([tag])

        def apply(conn: Connection) -> None:
            row = self._ctx.experiment_row(conn, experiment_id)
            if row.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidArgument(
                    f"The experiment {experiment_id} must be in the 'active' state"
                )
            self._ctx.upsert(
                conn,
                experiment_tags_table,
                [{**r, "experiment_id": row.experiment_id} for r in rows],
                ["experiment_id", "key"],
                ["value"],
            )

        self._ctx.write(apply)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        def apply(conn: Connection) -> None:
            row = self._ctx.experiment_row(conn, experiment_id)
            t = experiment_tags_table.c
            result = conn.execute(
                delete(experiment_tags_table).where(
                    t.experiment_id == row.experiment_id, t.key == key
                )
            )
            if result.rowcount == 0:
                raise NotFound(f"No tag with name: {key} in experiment with id {experiment_id}")

        self._ctx.write(apply)

    def deleted_experiments(self, older_than_ms: int | None = None) -> list[Experiment]:
        query = select(experiments_table).where(_E.lifecycle_stage == LifecycleStage.DELETED)
        if older_than_ms is not None:
            query = query.where(_E.deleted_time <= older_than_ms)
        return self._ctx.read(lambda c: self._to_experiments(c, c.execute(query).all()))

    def hard_delete_experiment(self, experiment_id: str) -> None:
        def apply(conn: Connection) -> None:
            row = self._ctx.experiment_row(conn, experiment_id)
            if row.experiment_id == 0:
                raise InvalidArgument("The default experiment (id 0) cannot be deleted")
            conn.execute(
                delete(experiments_table).where(
                    experiments_table.c.experiment_id == row.experiment_id
                )
            )

        self._ctx.write(apply)


def _sort_column(key: str) -> Any:
    return {
        "name": _E.name,
        "experiment_id": _E.experiment_id,
        "creation_time": _E.creation_time,
        "last_update_time": _E.last_update_time,
    }[key]


def _exists_message(name: str, stage: str) -> str:
    if stage == LifecycleStage.DELETED:
        return (
            f"Experiment '{name}' already exists in deleted state. Restore it, rename it, "
            "or permanently delete it with 'mltrail gc'"
        )
    return f"Experiment '{name}' already exists"
