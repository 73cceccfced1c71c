"""Writing runs in the SQL store: create, update, delete, params, tags, datasets, moves."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail._run_names import generate_run_name
from mltrail.entities import (
    DatasetInput,
    DatasetSummary,
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail.store._base import PagedList, RunStore
from mltrail.store._visibility import Visibility
from mltrail.store.sql._core import (
    SqlContext,
    insert_ignore_statement,
    inserted_id,
    is_integrity_error,
    now_ms,
)
from mltrail.store.sql._experiments import join_uri
from mltrail.store.sql._metrics import SqlMetrics, group_metrics
from mltrail.store.sql._prepared import Prepared, PreparedIn, bound
from mltrail.store.sql._run_reads import (
    get_run,
    run_info_from_row,
    search_dataset_summaries,
    search_runs,
)
from mltrail.store.sql._schema import (
    dataset_table,
    input_tags_table,
    inputs_table,
    params_table,
    runs_table,
    tags_table,
)
from mltrail.validation import (
    MAX_RUN_NAME_LENGTH,
    validate_key,
    validate_param_value,
    validate_run_id,
    validate_tag_value,
)

__all__ = ["RUN_NAME_TAG", "SqlRuns"]

_R = runs_table.c
RUN_NAME_TAG = "mlflow.runName"


def _insert_run(dialect: str) -> Any:
    stmt = insert(runs_table).values(
        **bound(
            "run_uuid",
            "experiment_id",
            "name",
            "user_id",
            "status",
            "start_time",
            "lifecycle_stage",
            "artifact_uri",
        )
    )
    return stmt.returning(_R.id) if dialect == "postgresql" else stmt


_INSERT_RUN = Prepared(_insert_run)
_P = params_table.c
_PARAMS_BY_KEY = PreparedIn(
    lambda _, n: select(_P.key, _P.value).where(
        _P.run_id == bindparam("run_id"), _P.key.in_(PreparedIn.names(n))
    )
)
_SET_RUN_NAME = Prepared(
    lambda _: update(runs_table).where(_R.id == bindparam("pk")).values(name=bindparam("name"))
)
_INSERT_TAG = Prepared(lambda _: insert(tags_table).values(**bound("run_id", "key", "value")))


def _validated_tags(tags: Sequence[RunTag]) -> dict[str, str]:
    out: dict[str, str] = {}
    for tag in tags:
        validate_key(tag.key, "tag")
        out[tag.key] = validate_tag_value(tag.key, tag.value)
    return out


def _validated_params(params: Sequence[Param]) -> dict[str, str]:
    out: dict[str, str] = {}
    for param in params:
        validate_key(param.key, "param")
        value = validate_param_value(param.key, param.value)
        if out.get(param.key, value) != value:
            raise InvalidArgument(
                f"Duplicate parameter key '{param.key}' with different values "
                f"('{out[param.key]}' and '{value}') in one batch"
            )
        out[param.key] = value
    return out


def _validated_run_name(run_name: Any) -> str:
    if not isinstance(run_name, str):
        raise InvalidArgument(f"Invalid run_name {run_name!r}: must be a string")
    if len(run_name) > MAX_RUN_NAME_LENGTH:
        raise InvalidArgument(
            f"Invalid run_name: {len(run_name)} characters, the limit is {MAX_RUN_NAME_LENGTH}"
        )
    return run_name


class SqlRuns(RunStore):
    """Runs: their info, params, tags and datasets; reading and searching them.

    Metric points logged with a batch are written through *metrics* (in the same
    transaction)."""

    def __init__(self, ctx: SqlContext, metrics: SqlMetrics) -> None:
        self._ctx = ctx
        self._metrics = metrics

    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int | None,
        tags: Sequence[RunTag],
        run_name: str | None,
        run_id: str | None = None,
    ) -> Run:
        tag_map = _validated_tags(tags)
        tagged_name = tag_map.get(RUN_NAME_TAG)
        if run_name and tagged_name and run_name != tagged_name:
            raise InvalidArgument(
                f"Both run_name ('{run_name}') and the '{RUN_NAME_TAG}' tag ('{tagged_name}') "
                "are given, with different values"
            )
        name = _validated_run_name(run_name or tagged_name or generate_run_name())
        tag_map[RUN_NAME_TAG] = name
        run_uuid = validate_run_id(run_id) if run_id else uuid.uuid4().hex
        start = now_ms() if start_time is None else int(start_time)

        def create(conn: Connection) -> Run:
            exp = self._ctx.experiment_row(conn, experiment_id)
            if exp.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidArgument(
                    f"The experiment {experiment_id} must be in the 'active' state to create "
                    f"runs in it; it is '{exp.lifecycle_stage}'"
                )
            artifact_uri = join_uri(exp.artifact_location, run_uuid, "artifacts")
            pk = _INSERT_RUN.insert(
                conn,
                {
                    "run_uuid": run_uuid,
                    "experiment_id": exp.experiment_id,
                    "name": name,
                    "user_id": user_id or "",
                    "status": "RUNNING",
                    "start_time": start,
                    "lifecycle_stage": LifecycleStage.ACTIVE,
                    "artifact_uri": artifact_uri,
                },
            )
            _INSERT_TAG.execute_many(
                conn, [{"run_id": pk, "key": k, "value": v} for k, v in tag_map.items()]
            )
            info = RunInfo(
                run_id=run_uuid,
                experiment_id=str(exp.experiment_id),
                run_name=name,
                user_id=user_id or "",
                status="RUNNING",
                start_time=start,
                end_time=None,
                artifact_uri=artifact_uri,
            )
            return Run(info, RunData(tags=[RunTag(k, v) for k, v in tag_map.items()]))

        try:
            return self._ctx.write(create)
        except Exception as exc:
            if is_integrity_error(exc) and run_id:
                raise InvalidArgument(f"A run with id {run_id} already exists") from None
            raise

    def update_run_info(
        self,
        run_id: str,
        run_status: int | str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo:
        values: dict[str, Any] = {}
        if run_status is not None:
            if isinstance(run_status, str):
                RunStatus.from_string(run_status)
                values["status"] = run_status.upper()
            else:
                values["status"] = RunStatus.to_string(run_status)
        if end_time is not None:
            values["end_time"] = int(end_time)
        if run_name:
            values["name"] = _validated_run_name(run_name)

        def apply(conn: Connection) -> RunInfo:
            row = self._ctx.active_run_row(conn, run_id)
            if values:
                conn.execute(update(runs_table).where(_R.id == row.id).values(**values))
            if "name" in values:
                self._ctx.upsert(
                    conn,
                    tags_table,
                    [{"run_id": row.id, "key": RUN_NAME_TAG, "value": values["name"]}],
                    ["run_id", "key"],
                    ["value"],
                )
            return run_info_from_row(self._ctx.run_row(conn, run_id))

        return self._ctx.write(apply)

    def get_run(self, run_id: str) -> Run:
        return get_run(self._ctx, run_id)

    def search_runs(
        self,
        experiment_ids: Sequence[str] | None,
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        *,
        visible: Visibility | None = None,
    ) -> PagedList[Run]:
        return search_runs(
            self._ctx,
            experiment_ids,
            filter_string,
            run_view_type,
            max_results,
            order_by,
            page_token,
            visible,
        )

    def search_dataset_summaries(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        return search_dataset_summaries(self._ctx, experiment_ids)

    def _set_run_stage(self, run_id: str, stage: str) -> None:
        def apply(conn: Connection) -> None:
            row = self._ctx.run_row(conn, run_id)
            if stage == LifecycleStage.ACTIVE:
                exp = self._ctx.experiment_row(conn, row.experiment_id)
                if exp.lifecycle_stage != LifecycleStage.ACTIVE:
                    raise InvalidArgument(
                        f"Cannot restore run {run_id}: its experiment {row.experiment_id} is "
                        "deleted; restore the experiment first"
                    )
            deleted_time = now_ms() if stage == LifecycleStage.DELETED else None
            conn.execute(
                update(runs_table)
                .where(_R.id == row.id)
                .values(lifecycle_stage=stage, deleted_time=deleted_time)
            )

        self._ctx.write(apply)

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.ACTIVE)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        param_map = _validated_params(params)
        tag_map = _validated_tags(tags)
        groups = group_metrics(metrics)

        def apply(conn: Connection) -> None:
            row = self._ctx.active_run_row(conn, run_id)
            if param_map:
                self._write_params(conn, row.id, run_id, param_map)
            if tag_map:
                self._write_tags(conn, row.id, tag_map)
            if groups:
                self._metrics.write_groups(conn, row.id, groups)

        self._ctx.write(apply)

    def _write_params(self, conn: Connection, pk: int, run_id: str, params: dict[str, str]) -> None:
        rows = [{"run_id": pk, "key": k, "value": v} for k, v in params.items()]
        insert_ignore_statement(params_table, ("run_id", "key", "value")).execute_many(conn, rows)
        for key, value in _PARAMS_BY_KEY.all(conn, list(params), {"run_id": pk}):
            if value != params[key]:
                raise InvalidArgument(
                    f"Changing param values is not allowed. Param with key='{key}' was already "
                    f"logged with value='{value}' for run ID='{run_id}'. Attempted logging new "
                    f"value '{params[key]}'."
                )

    def _write_tags(self, conn: Connection, pk: int, tags: dict[str, str]) -> None:
        rows = [{"run_id": pk, "key": k, "value": v} for k, v in tags.items()]
        self._ctx.upsert(conn, tags_table, rows, ["run_id", "key"], ["value"])
        if RUN_NAME_TAG in tags:
            name = _validated_run_name(tags[RUN_NAME_TAG])
            _SET_RUN_NAME.execute(conn, {"pk": pk, "name": name})

    def delete_tag(self, run_id: str, key: str) -> None:
        def apply(conn: Connection) -> None:
            row = self._ctx.active_run_row(conn, run_id)
            t = tags_table.c
            result = conn.execute(delete(tags_table).where(t.run_id == row.id, t.key == key))
            if result.rowcount == 0:
                raise NotFound(f"No tag with name: {key} in run with id {run_id}")

        self._ctx.write(apply)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        for item in datasets:
            for tag in item.tags:
                validate_key(tag.key, "input tag")

        def apply(conn: Connection) -> None:
            row = self._ctx.active_run_row(conn, run_id)
            d = dataset_table.c
            for item in datasets:
                ds = item.dataset
                found = conn.execute(
                    select(d.id).where(
                        d.experiment_id == row.experiment_id,
                        d.name == ds.name,
                        d.digest == ds.digest,
                    )
                ).first()
                if found is None:
                    result = conn.execute(
                        insert(dataset_table).values(
                            experiment_id=row.experiment_id,
                            name=ds.name,
                            digest=ds.digest,
                            source_type=ds.source_type,
                            source=ds.source,
                            schema=ds.schema,
                            profile=ds.profile,
                        )
                    )
                    dataset_id = inserted_id(result)
                else:
                    dataset_id = found.id
                self._ctx.upsert(
                    conn,
                    inputs_table,
                    [{"run_id": row.id, "dataset_id": dataset_id}],
                    ["run_id", "dataset_id"],
                    ["dataset_id"],
                )
                self._ctx.upsert(
                    conn,
                    input_tags_table,
                    [
                        {"run_id": row.id, "dataset_id": dataset_id, "key": t.key, "value": t.value}
                        for t in item.tags
                    ],
                    ["run_id", "dataset_id", "key"],
                    ["value"],
                )

        self._ctx.write(apply)

    def move_runs(self, run_ids: Sequence[str], experiment_id: str) -> None:
        def apply(conn: Connection) -> None:
            exp = self._ctx.experiment_row(conn, experiment_id)
            if exp.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidArgument(f"Cannot move runs into deleted experiment {experiment_id}")
            for run_id in run_ids:
                row = self._ctx.run_row(conn, run_id)
                conn.execute(
                    update(runs_table)
                    .where(_R.id == row.id)
                    .values(experiment_id=exp.experiment_id)
                )

        self._ctx.write(apply)

    def deleted_runs(self, older_than_ms: int | None = None) -> list[RunInfo]:
        query = select(runs_table).where(_R.lifecycle_stage == LifecycleStage.DELETED)
        if older_than_ms is not None:
            query = query.where(_R.deleted_time <= older_than_ms)
        return self._ctx.read(lambda c: [run_info_from_row(r) for r in c.execute(query)])

    def hard_delete_run(self, run_id: str) -> None:
        def apply(conn: Connection) -> None:
            row = self._ctx.run_row(conn, run_id)
            conn.execute(delete(runs_table).where(_R.id == row.id))

        self._ctx.write(apply)
