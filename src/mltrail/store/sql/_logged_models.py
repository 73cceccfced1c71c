"""MLflow 3's logged models in the SQL store: create, read, finalize, tags, params, metrics, links.

The search query is built in ``_logged_model_search``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail._run_names import generate_run_name
from mltrail.entities import LifecycleStage, Metric
from mltrail.entities._logged_model import (
    LoggedModel,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    LoggedModelStatus,
    validate_model_id,
)
from mltrail.store._base import PagedList, RunStore
from mltrail.store._logged_models_base import LoggedModelStore, OrderBy
from mltrail.store._visibility import LoggedModelVisibility
from mltrail.store.sql._codec import decode_float, encode_float, unpack_float64, unpack_int64
from mltrail.store.sql._core import SqlContext, insert_ignore_statement, now_ms
from mltrail.store.sql._experiments import join_uri
from mltrail.store.sql._logged_model_schema import (
    logged_model_metrics_table,
    logged_model_params_table,
    logged_model_run_links_table,
    logged_model_tags_table,
    logged_models_table,
)
from mltrail.store.sql._logged_model_search import search_logged_models
from mltrail.store.sql._schema import metric_chunks_table
from mltrail.validation import (
    MAX_PARAM_VALUE_LENGTH,
    validate_int,
    validate_key,
    validate_metric_value,
    validate_run_id,
    validate_tag_value,
)

__all__ = ["MAX_LOGGED_MODEL_TAG_VALUE_LENGTH", "SqlLoggedModels", "validate_logged_model_name"]

_L = logged_models_table.c
_LT = logged_model_tags_table.c
_LP = logged_model_params_table.c
_LM = logged_model_metrics_table.c
_LR = logged_model_run_links_table.c
_MC = metric_chunks_table.c

MAX_LOGGED_MODEL_TAG_VALUE_LENGTH = 100_000
MAX_LOGGED_MODEL_NAME_LENGTH = 500
_NAME_FORBIDDEN = ("/", ":", ".", "%", '"', "'")


def validate_logged_model_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(f"Invalid logged model name {name!r}: must be a non-empty string")
    bad = [c for c in _NAME_FORBIDDEN if c in name]
    if bad:
        raise InvalidArgument(
            f"Invalid logged model name {name!r}: it must not contain {' '.join(bad)} "
            f"(forbidden: {' '.join(_NAME_FORBIDDEN)})"
        )
    if len(name) > MAX_LOGGED_MODEL_NAME_LENGTH:
        raise InvalidArgument(
            f"Invalid logged model name: {len(name)} characters, the limit is "
            f"{MAX_LOGGED_MODEL_NAME_LENGTH}"
        )
    return name


def _checked_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (tags or {}).items():
        validate_key(key, "logged model tag")
        out[key] = validate_tag_value(key, value, MAX_LOGGED_MODEL_TAG_VALUE_LENGTH)
    return out


def _checked_params(params: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        validate_key(key, "logged model param")
        text = "" if value is None else str(value)
        if len(text) > MAX_PARAM_VALUE_LENGTH:
            raise InvalidArgument(
                f"Invalid value for logged model param '{key}': {len(text)} characters, the "
                f"limit is {MAX_PARAM_VALUE_LENGTH} (mltrail does not truncate values)"
            )
        out[key] = text
    return out


def _checked_metric(m: LoggedModelMetric) -> LoggedModelMetric:
    validate_key(m.key, "metric")
    validate_model_id(m.model_id)
    return LoggedModelMetric(
        key=m.key,
        value=validate_metric_value(m.key, m.value),
        timestamp=validate_int("timestamp", m.timestamp),
        step=validate_int("step", m.step or 0),
        model_id=m.model_id,
        run_id=m.run_id or None,
        dataset_name=m.dataset_name or None,
        dataset_digest=m.dataset_digest or None,
    )


def _same_value(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _not_found(model_id: str) -> NotFound:
    return NotFound(f"Logged model with ID '{model_id}' not found.")


class SqlLoggedModels(LoggedModelStore):
    """Logged models, their tags, params and metrics, and their links to runs.

    Metric points of a run linked to a model are added to the run's series through *runs*."""

    def __init__(self, ctx: SqlContext, runs: RunStore) -> None:
        self._ctx = ctx
        self._runs = runs

    # -- rows and entities -------------------------------------------------------------------
    def _logged_model_row(
        self, conn: Connection, model_id: str, *, allow_deleted: bool = False
    ) -> Row[Any]:
        validate_model_id(model_id)
        row = conn.execute(select(logged_models_table).where(_L.model_id == model_id)).first()
        if row is None or (not allow_deleted and row.lifecycle_stage != LifecycleStage.ACTIVE):
            raise _not_found(model_id)
        return row

    def _load_logged_models(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[LoggedModel]:
        """Entities for *rows* of ``logged_models``, with three queries for all of them."""
        if not rows:
            return []
        pks = [r.id for r in rows]
        tags: dict[int, dict[str, str]] = {pk: {} for pk in pks}
        params: dict[int, dict[str, str]] = {pk: {} for pk in pks}
        metrics: dict[int, list[LoggedModelMetric]] = {pk: [] for pk in pks}
        ids = {r.id: r.model_id for r in rows}
        for t in conn.execute(
            select(_LT.model_pk, _LT.key, _LT.value).where(_LT.model_pk.in_(pks))
        ):
            tags[t.model_pk][t.key] = t.value
        for p in conn.execute(
            select(_LP.model_pk, _LP.key, _LP.value).where(_LP.model_pk.in_(pks))
        ):
            params[p.model_pk][p.key] = p.value
        query = select(logged_model_metrics_table).where(_LM.model_pk.in_(pks)).order_by(_LM.id)
        for m in conn.execute(query):
            metrics[m.model_pk].append(
                LoggedModelMetric(
                    key=m.key,
                    value=decode_float(m.value, m.special),
                    timestamp=m.timestamp,
                    step=m.step,
                    model_id=ids[m.model_pk],
                    run_id=m.run_id or None,
                    dataset_name=m.dataset_name or None,
                    dataset_digest=m.dataset_digest or None,
                )
            )
        return [
            LoggedModel(
                model_id=r.model_id,
                experiment_id=str(r.experiment_id),
                name=r.name,
                artifact_location=r.artifact_location,
                creation_timestamp=r.creation_time,
                last_updated_timestamp=r.last_updated_time,
                status=r.status,
                model_type=r.model_type,
                source_run_id=r.source_run_id,
                status_message=r.status_message,
                tags=tags[r.id],
                params=params[r.id],
                metrics=metrics[r.id],
            )
            for r in rows
        ]

    def _get_logged_model(
        self, conn: Connection, model_id: str, allow_deleted: bool = False
    ) -> LoggedModel:
        row = self._logged_model_row(conn, model_id, allow_deleted=allow_deleted)
        return self._load_logged_models(conn, [row])[0]

    def _lm_touch(self, conn: Connection, pk: int, **values: Any) -> None:
        conn.execute(
            update(logged_models_table)
            .where(_L.id == pk)
            .values(last_updated_time=now_ms(), **values)
        )

    def _lm_insert_params(
        self, conn: Connection, pk: int, model_id: str, params: dict[str, str]
    ) -> None:
        if not params:
            return
        existing = dict(
            conn.execute(
                select(_LP.key, _LP.value).where(_LP.model_pk == pk, _LP.key.in_(list(params)))
            ).all()
        )
        for key, value in params.items():
            if key in existing and existing[key] != value:
                raise InvalidArgument(
                    f"Changing param values is not allowed. Param with key='{key}' was already "
                    f"logged with value='{existing[key]}' for logged model '{model_id}'. "
                    f"Attempted logging new value '{value}'."
                )
        new = [
            {"model_pk": pk, "key": k, "value": v} for k, v in params.items() if k not in existing
        ]
        if new:
            conn.execute(insert(logged_model_params_table), new)

    # -- the interface -----------------------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        name = validate_logged_model_name(name) if name is not None else generate_run_name()
        if source_run_id:
            validate_run_id(source_run_id)
        if model_type is not None and len(str(model_type)) > 500:
            raise InvalidArgument("Invalid model_type: longer than 500 characters")
        tag_map = _checked_tags(tags)
        param_map = _checked_params(params)

        def create(conn: Connection) -> LoggedModel:
            experiment = self._ctx.experiment_row(conn, experiment_id)
            if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidArgument(
                    f"The experiment {experiment_id} must be in the 'active' state; its current "
                    f"state is '{experiment.lifecycle_stage}'"
                )
            # A source run this store does not have is kept as given, as MLflow keeps it (the
            # model may come from a run tracked elsewhere).
            model_id = f"m-{uuid.uuid4().hex}"
            now = now_ms()
            result = conn.execute(
                insert(logged_models_table).values(
                    model_id=model_id,
                    experiment_id=experiment.experiment_id,
                    name=name,
                    source_run_id=source_run_id or None,
                    model_type=model_type or None,
                    status=LoggedModelStatus.PENDING,
                    artifact_location=join_uri(
                        experiment.artifact_location, "models", model_id, "artifacts"
                    ),
                    lifecycle_stage=LifecycleStage.ACTIVE,
                    creation_time=now,
                    last_updated_time=now,
                )
            )
            (pk,) = result.inserted_primary_key or (None,)
            if tag_map:
                conn.execute(
                    insert(logged_model_tags_table),
                    [{"model_pk": pk, "key": k, "value": v} for k, v in tag_map.items()],
                )
            if param_map:
                conn.execute(
                    insert(logged_model_params_table),
                    [{"model_pk": pk, "key": k, "value": v} for k, v in param_map.items()],
                )
            return self._get_logged_model(conn, model_id)

        return self._ctx.write(create)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        return self._ctx.read(lambda conn: self._get_logged_model(conn, model_id, allow_deleted))

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int = 100,
        order_by: Sequence[OrderBy] | None = None,
        page_token: str | None = None,
        *,
        visible: LoggedModelVisibility | None = None,
    ) -> PagedList[LoggedModel]:
        return search_logged_models(
            self._ctx,
            self._load_logged_models,
            experiment_ids,
            filter_string,
            datasets,
            max_results,
            order_by,
            page_token,
            visible,
        )

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        status = LoggedModelStatus.parse(status)

        def apply(conn: Connection) -> LoggedModel:
            row = self._logged_model_row(conn, model_id)
            self._lm_touch(conn, row.id, status=status)
            return self._get_logged_model(conn, model_id)

        return self._ctx.write(apply)

    def delete_logged_model(self, model_id: str) -> None:
        def apply(conn: Connection) -> None:
            row = self._logged_model_row(conn, model_id)
            self._lm_touch(conn, row.id, lifecycle_stage=LifecycleStage.DELETED)

        self._ctx.write(apply)

    def deleted_logged_models(self, older_than_ms: int | None = None) -> list[LoggedModel]:
        # A model's deletion is its last update: a deleted model takes no further changes.
        query = select(logged_models_table).where(_L.lifecycle_stage == LifecycleStage.DELETED)
        if older_than_ms is not None:
            query = query.where(_L.last_updated_time <= older_than_ms)
        query = query.order_by(_L.id)
        return self._ctx.read(
            lambda conn: self._load_logged_models(conn, conn.execute(query).all())
        )

    def hard_delete_logged_model(self, model_id: str) -> None:
        def apply(conn: Connection) -> None:
            row = self._logged_model_row(conn, model_id, allow_deleted=True)
            if row.lifecycle_stage != LifecycleStage.DELETED:
                raise InvalidArgument(
                    f"Logged model {model_id} is not deleted ({row.lifecycle_stage}); only "
                    "deleted models can be removed for good"
                )
            conn.execute(delete(logged_models_table).where(_L.id == row.id))

        self._ctx.write(apply)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        tag_map = _checked_tags(tags)

        def apply(conn: Connection) -> None:
            row = self._logged_model_row(conn, model_id)
            self._ctx.upsert(
                conn,
                logged_model_tags_table,
                [{"model_pk": row.id, "key": k, "value": v} for k, v in tag_map.items()],
                ["model_pk", "key"],
                ["value"],
            )
            self._lm_touch(conn, row.id)

        self._ctx.write(apply)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        def apply(conn: Connection) -> None:
            row = self._logged_model_row(conn, model_id)
            result = conn.execute(
                delete(logged_model_tags_table).where(_LT.model_pk == row.id, _LT.key == key)
            )
            if not result.rowcount:
                raise NotFound(f"No tag with key {key!r} found for model with ID {model_id!r}.")
            self._lm_touch(conn, row.id)

        self._ctx.write(apply)

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        param_map = _checked_params(params)

        def apply(conn: Connection) -> None:
            row = self._logged_model_row(conn, model_id)
            self._lm_insert_params(conn, row.id, model_id, param_map)
            self._lm_touch(conn, row.id)

        self._ctx.write(apply)

    # -- metrics -----------------------------------------------------------------------------
    def _lm_points_in_run(
        self, conn: Connection, run_pk: int, key: str, steps: Sequence[int]
    ) -> list[tuple[int, int, float]]:
        """(step, timestamp, value) of the run's stored points of *key* within the steps."""
        low, high = min(steps), max(steps)
        chunks = conn.execute(
            select(_MC.steps, _MC.timestamps, _MC.vals).where(
                _MC.run_id == run_pk, _MC.key == key, _MC.min_step <= high, _MC.max_step >= low
            )
        )
        wanted = set(steps)
        out: list[tuple[int, int, float]] = []
        for chunk in chunks:
            for s, t, v in zip(
                unpack_int64(chunk.steps),
                unpack_int64(chunk.timestamps),
                unpack_float64(chunk.vals),
                strict=True,
            ):
                if s in wanted:
                    out.append((s, t, v))
        return out

    def _lm_new_run_points(
        self, conn: Connection, run_pk: int, metrics: Sequence[LoggedModelMetric]
    ) -> list[Metric]:
        by_key: dict[str, list[LoggedModelMetric]] = {}
        for m in metrics:
            by_key.setdefault(m.key, []).append(m)
        new: list[Metric] = []
        for key, points in by_key.items():
            stored = self._lm_points_in_run(conn, run_pk, key, [p.step for p in points])
            for p in points:
                point = Metric(p.key, p.value, p.timestamp, p.step)
                if any(
                    s == p.step and t == p.timestamp and _same_value(v, p.value)
                    for s, t, v in stored
                ):
                    continue
                stored.append((p.step, p.timestamp, p.value))  # repeats within the batch too
                new.append(point)
        return new

    def _lm_link_metrics(
        self, conn: Connection, run_id: str, metrics: Sequence[LoggedModelMetric]
    ) -> None:
        pks: dict[str, int] = {}
        for model_id in dict.fromkeys(m.model_id for m in metrics):
            pks[model_id] = self._logged_model_row(conn, model_id).id
        rows: list[dict[str, Any]] = []
        for m in metrics:
            value, special = encode_float(m.value)
            row = {
                "model_pk": pks[m.model_id],
                "key": m.key,
                "value": value,
                "special": special,
                "timestamp": m.timestamp,
                "step": m.step,
                "run_id": m.run_id or run_id,
                "dataset_name": m.dataset_name or "",
                "dataset_digest": m.dataset_digest or "",
            }
            if row not in rows:
                rows.append(row)
        fresh: list[dict[str, Any]] = []
        for row in rows:
            same = conn.execute(
                select(_LM.id).where(
                    *(
                        _LM[c] == row[c]
                        for c in (
                            "model_pk",
                            "key",
                            "special",
                            "timestamp",
                            "step",
                            "run_id",
                            "dataset_name",
                            "dataset_digest",
                        )
                    ),
                    _LM.value.is_(None) if row["value"] is None else _LM.value == row["value"],
                )
            ).first()
            if same is None:
                fresh.append(row)
        if fresh:
            conn.execute(insert(logged_model_metrics_table), fresh)
            for pk in {r["model_pk"] for r in fresh}:
                self._lm_touch(conn, pk)

    def log_model_metrics(self, run_id: str, metrics: Sequence[LoggedModelMetric]) -> None:
        checked = [_checked_metric(m) for m in metrics]
        if not checked:
            return

        def prepare(conn: Connection) -> list[Metric]:
            run = self._ctx.active_run_row(conn, run_id)
            for model_id in dict.fromkeys(m.model_id for m in checked):
                self._logged_model_row(conn, model_id)
            return self._lm_new_run_points(conn, run.id, checked)

        new = self._ctx.read(prepare)
        if new:
            self._runs.log_batch(run_id, metrics=new)
        self._ctx.write(lambda conn: self._lm_link_metrics(conn, run_id, checked))

    # -- links between runs and models -------------------------------------------------------
    def _lm_link(self, run_id: str, model_ids: Sequence[tuple[str, int]], kind: str) -> None:
        def apply(conn: Connection) -> None:
            run = self._ctx.active_run_row(conn, run_id)
            rows = [
                {
                    "run_id": run.id,
                    "model_pk": self._logged_model_row(conn, model_id).id,
                    "kind": kind,
                    "step": step,
                }
                for model_id, step in dict.fromkeys(model_ids)
            ]
            if rows:
                stmt = insert_ignore_statement(logged_model_run_links_table, tuple(rows[0]))
                stmt.execute_many(conn, rows)

        self._ctx.write(apply)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        self._lm_link(
            run_id, [(m.model_id, validate_int("step", m.step or 0)) for m in models], "output"
        )

    def log_model_inputs(self, run_id: str, models: Sequence[LoggedModelInput]) -> None:
        self._lm_link(run_id, [(m.model_id, 0) for m in models], "input")
