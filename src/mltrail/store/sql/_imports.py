"""Imports into the SQL store: bulk writes with ids kept, and the import ledger.

Each write is one transaction that also writes its ledger rows, so an import killed at any
point leaves every call either done and recorded or not done at all.  A run is replaced
wholesale: its child rows (params, tags, metric chunks and summaries, inputs, model links)
are deleted and written again from the source, through the same row builders the metric
store uses, so summaries always agree with the points.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts._model_uris import parse_models_uri, parse_runs_uri
from mltrail.entities import LifecycleStage, LoggedModel
from mltrail.store._imports_base import (
    ImportedCounts,
    ImportedExperiment,
    ImportedRegisteredModel,
    ImportedRun,
    ImportStore,
    LedgerEntry,
    LedgerKind,
    MetricPoints,
)
from mltrail.store.sql._codec import encode_float, unpack_float64, unpack_int64
from mltrail.store.sql._core import SqlContext, insert_ignore_statement, inserted_id, now_ms
from mltrail.store.sql._experiments import join_uri
from mltrail.store.sql._imports_schema import import_ledger_table
from mltrail.store.sql._logged_model_schema import (
    logged_model_metrics_table,
    logged_model_params_table,
    logged_model_run_links_table,
    logged_model_tags_table,
    logged_models_table,
)
from mltrail.store.sql._metrics import SeriesGroup, chunk_rows, insert_series_rows, summary_rows
from mltrail.store.sql._prepared import IN_SLICE
from mltrail.store.sql._registry_schema import (
    model_version_tags_table,
    model_versions_table,
    registered_model_aliases_table,
    registered_model_tags_table,
    registered_models_table,
)
from mltrail.store.sql._schema import (
    dataset_table,
    experiment_tags_table,
    experiments_table,
    input_tags_table,
    inputs_table,
    latest_metrics_table,
    metric_chunks_table,
    params_table,
    runs_table,
    tags_table,
)
from mltrail.validation import model_name_key

__all__ = ["SqlImports", "ledger_source_key"]

_L = import_ledger_table.c
_E = experiments_table.c
_R = runs_table.c
_LM = logged_models_table.c
_M = registered_models_table.c
_V = model_versions_table.c
_D = dataset_table.c
_MAX_KEY = 255

#: The tables holding a run's rows, deleted before the run is written again.
_RUN_CHILDREN = (
    params_table,
    tags_table,
    latest_metrics_table,
    metric_chunks_table,
    input_tags_table,
    inputs_table,
    logged_model_run_links_table,
)


def ledger_source_key(source_key: str) -> str:
    """The form of a source key the ledger stores: itself, or its digest when too long."""
    if len(source_key) <= _MAX_KEY:
        return source_key
    return "sha256:" + hashlib.sha256(source_key.encode()).hexdigest()


def _slices(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for lo in range(0, len(items), IN_SLICE):
        yield items[lo : lo + IN_SLICE]


def _int_ids(ids: Iterable[str]) -> list[int]:
    out = []
    for value in ids:
        try:
            out.append(int(value))
        except ValueError:
            raise InvalidArgument(
                f"Invalid experiment_id {value!r}: this store's ids are integers"
            ) from None
    return out


class SqlImports(ImportStore):
    """:class:`~mltrail.store.ImportStore` over the SQL schema."""

    def __init__(self, ctx: SqlContext) -> None:
        self._ctx = ctx

    # -- the ledger ---------------------------------------------------------------------------
    def ledger(self, source_key: str, kind: str) -> dict[str, LedgerEntry]:
        """Runs and logged models deleted for good since they were imported are marked
        ``present=False``."""
        present: Any = literal(True)
        if kind == LedgerKind.RUN:
            present = select(_R.id).where(_R.run_uuid == _L.entity_key).exists()
        elif kind == LedgerKind.LOGGED_MODEL:
            present = select(_LM.id).where(_LM.model_id == _L.entity_key).exists()
        query = select(_L.entity_key, _L.fingerprint, _L.target, present.label("present")).where(
            _L.source_key == ledger_source_key(source_key), _L.kind == kind
        )
        return self._ctx.read(
            lambda conn: {
                row.entity_key: LedgerEntry(row.fingerprint, row.target, bool(row.present))
                for row in conn.execute(query)
            }
        )

    def _record(
        self,
        conn: Connection,
        source_key: str,
        kind: str,
        entries: Sequence[tuple[str, str, str | None]],
    ) -> int:
        key = ledger_source_key(source_key)
        rows = [
            {"source_key": key, "kind": kind, "entity_key": e, "fingerprint": f, "target": t}
            for e, f, t in entries
        ]
        self._ctx.upsert(
            conn,
            import_ledger_table,
            rows,
            ["source_key", "kind", "entity_key"],
            ["fingerprint", "target"],
        )
        return len(rows)

    # -- experiments --------------------------------------------------------------------------
    def write_experiments(self, source_key: str, experiments: Sequence[ImportedExperiment]) -> None:
        if not experiments:
            return

        def apply(conn: Connection) -> None:
            ids = _int_ids(item.experiment.experiment_id for item in experiments)
            present = {
                row[0]
                for row in conn.execute(select(_E.experiment_id).where(_E.experiment_id.in_(ids)))
            }
            now = now_ms()
            for eid, item in zip(ids, experiments, strict=True):
                exp = item.experiment
                deleted = exp.lifecycle_stage == LifecycleStage.DELETED
                values = {
                    "name": exp.name,
                    "artifact_location": exp.artifact_location,
                    "lifecycle_stage": exp.lifecycle_stage,
                    "creation_time": exp.creation_time if exp.creation_time is not None else now,
                    "last_update_time": (
                        exp.last_update_time if exp.last_update_time is not None else now
                    ),
                    "deleted_time": (exp.last_update_time or now) if deleted else None,
                }
                if eid in present:
                    conn.execute(
                        update(experiments_table).where(_E.experiment_id == eid).values(**values)
                    )
                else:
                    conn.execute(insert(experiments_table).values(experiment_id=eid, **values))
            t = experiment_tags_table.c
            conn.execute(delete(experiment_tags_table).where(t.experiment_id.in_(ids)))
            tag_rows = [
                {"experiment_id": eid, "key": k, "value": v}
                for eid, item in zip(ids, experiments, strict=True)
                for k, v in item.experiment.tags.items()
            ]
            if tag_rows:
                conn.execute(insert(experiment_tags_table), tag_rows)
            self._bump_sequence(conn)
            self._record(
                conn,
                source_key,
                LedgerKind.EXPERIMENT,
                [(i.source_id, i.fingerprint, i.experiment.experiment_id) for i in experiments],
            )

        self._ctx.write(apply)

    def _bump_sequence(self, conn: Connection) -> None:
        """PostgreSQL's id sequence does not see explicit ids: move it past them."""
        if self._ctx.dialect == "postgresql":
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), "
                    "GREATEST((SELECT MAX(experiment_id) FROM experiments), 1))"
                )
            )

    # -- logged models ------------------------------------------------------------------------
    def write_logged_models(
        self, source_key: str, models: Sequence[tuple[LoggedModel, str]]
    ) -> None:
        if not models:
            return

        def apply(conn: Connection) -> None:
            ids = [m.model_id for m, _ in models]
            pks = self._model_pks(conn, ids)
            for model, _ in models:
                values = {
                    "experiment_id": int(model.experiment_id),
                    "name": model.name,
                    "source_run_id": model.source_run_id,
                    "model_type": model.model_type,
                    "status": model.status,
                    "status_message": model.status_message,
                    "artifact_location": model.artifact_location,
                    "lifecycle_stage": LifecycleStage.ACTIVE,
                    "creation_time": model.creation_timestamp,
                    "last_updated_time": model.last_updated_timestamp,
                }
                if model.model_id in pks:
                    conn.execute(
                        update(logged_models_table)
                        .where(_LM.id == pks[model.model_id])
                        .values(**values)
                    )
                else:
                    conn.execute(
                        insert(logged_models_table).values(model_id=model.model_id, **values)
                    )
            pks = self._model_pks(conn, ids)
            for table in (
                logged_model_tags_table,
                logged_model_params_table,
                logged_model_metrics_table,
            ):
                conn.execute(delete(table).where(table.c.model_pk.in_(list(pks.values()))))
            tags, params, metrics = [], [], []
            for model, _ in models:
                pk = pks[model.model_id]
                tags += [{"model_pk": pk, "key": k, "value": v} for k, v in model.tags.items()]
                params += [{"model_pk": pk, "key": k, "value": v} for k, v in model.params.items()]
                for m in model.metrics:
                    value, special = encode_float(m.value)
                    metrics.append(
                        {
                            "model_pk": pk,
                            "key": m.key,
                            "value": value,
                            "special": special,
                            "timestamp": m.timestamp,
                            "step": m.step,
                            "run_id": m.run_id or "",
                            "dataset_name": m.dataset_name or "",
                            "dataset_digest": m.dataset_digest or "",
                        }
                    )
            for table, rows in (
                (logged_model_tags_table, tags),
                (logged_model_params_table, params),
                (logged_model_metrics_table, metrics),
            ):
                if rows:
                    conn.execute(insert(table), rows)
            self._record(
                conn,
                source_key,
                LedgerKind.LOGGED_MODEL,
                [(m.model_id, fp, None) for m, fp in models],
            )

        self._ctx.write(apply)

    @staticmethod
    def _model_pks(conn: Connection, model_ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for part in _slices(list(dict.fromkeys(model_ids))):
            query = select(_LM.model_id, _LM.id).where(_LM.model_id.in_(part))
            out.update({row.model_id: row.id for row in conn.execute(query)})
        return out

    # -- runs ---------------------------------------------------------------------------------
    def write_runs(self, source_key: str, runs: Sequence[ImportedRun]) -> int:
        if not runs:
            return 0
        return self._ctx.write(lambda conn: self._write_runs(conn, source_key, runs))

    def _run_pks(self, conn: Connection, run_ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for part in _slices(run_ids):
            query = select(_R.run_uuid, _R.id).where(_R.run_uuid.in_(part))
            out.update({row.run_uuid: row.id for row in conn.execute(query)})
        return out

    def _write_runs(self, conn: Connection, source_key: str, runs: Sequence[ImportedRun]) -> int:
        run_ids = [r.info.run_id for r in runs]
        existing = self._run_pks(conn, run_ids)
        for part in _slices(list(existing.values())):
            for table in _RUN_CHILDREN:
                conn.execute(delete(table).where(table.c.run_id.in_(part)))
        now = now_ms()
        new_rows: list[dict[str, Any]] = []
        changed_rows: list[dict[str, Any]] = []
        for run in runs:
            info = run.info
            row = {
                "experiment_id": int(info.experiment_id),
                "name": info.run_name or "",
                "user_id": info.user_id or "",
                "status": info.status,
                "start_time": info.start_time or 0,
                "end_time": info.end_time,
                "lifecycle_stage": info.lifecycle_stage,
                "artifact_uri": info.artifact_uri,
                "deleted_time": now if info.lifecycle_stage == LifecycleStage.DELETED else None,
            }
            if info.run_id in existing:
                changed_rows.append(
                    {"b_pk": existing[info.run_id], **{f"b_{c}": v for c, v in row.items()}}
                )
            else:
                new_rows.append({"run_uuid": info.run_id, **row})
        if changed_rows:
            stmt = (
                update(runs_table)
                .where(_R.id == bindparam("b_pk"))
                .values({c[2:]: bindparam(c) for c in changed_rows[0] if c != "b_pk"})
            )
            conn.execute(stmt, changed_rows)
        if new_rows:
            conn.execute(insert(runs_table), new_rows)
        pks = {**existing, **self._run_pks(conn, [r["run_uuid"] for r in new_rows])}
        written = len(runs)
        params, tags, chunks, summaries = [], [], [], []
        for run in runs:
            pk = pks[run.info.run_id]
            params += [{"run_id": pk, "key": k, "value": v} for k, v in run.params.items()]
            tags += [{"run_id": pk, "key": k, "value": v} for k, v in run.tags.items()]
            groups = _groups(run)
            if groups:
                chunks += chunk_rows(pk, groups)
                summaries += summary_rows(pk, groups)
        for table, rows in ((params_table, params), (tags_table, tags)):
            if rows:
                conn.execute(insert(table), rows)
        insert_series_rows(conn, chunks, summaries)
        written += len(params) + len(tags) + len(chunks) + len(summaries)
        written += self._write_inputs(conn, runs, pks)
        written += self._write_model_links(conn, runs, pks)
        written += self._record(
            conn,
            source_key,
            LedgerKind.RUN,
            [
                (
                    r.info.run_id,
                    r.fingerprint,
                    None if r.artifact_files is None else str(r.artifact_files),
                )
                for r in runs
            ],
        )
        return written

    def _write_inputs(
        self, conn: Connection, runs: Sequence[ImportedRun], pks: dict[str, int]
    ) -> int:
        datasets: dict[tuple[int, str, str], dict[str, Any]] = {}
        for run in runs:
            eid = int(run.info.experiment_id)
            for item in run.dataset_inputs:
                ds = item.dataset
                datasets.setdefault(
                    (eid, ds.name, ds.digest),
                    {
                        "experiment_id": eid,
                        "name": ds.name,
                        "digest": ds.digest,
                        "source_type": ds.source_type,
                        "source": ds.source,
                        "schema": ds.schema,
                        "profile": ds.profile,
                    },
                )
        if not datasets:
            return 0
        rows = list(datasets.values())
        insert_ignore_statement(dataset_table, tuple(rows[0])).execute_many(conn, rows)
        ids: dict[tuple[int, str, str], int] = {}
        for eid in {key[0] for key in datasets}:
            names = sorted({key[1] for key in datasets if key[0] == eid})
            for part in _slices(names):
                query = select(_D.id, _D.name, _D.digest).where(
                    _D.experiment_id == eid, _D.name.in_(part)
                )
                ids.update({(eid, r.name, r.digest): r.id for r in conn.execute(query)})
        inputs: dict[tuple[int, int], dict[str, Any]] = {}
        input_tags: dict[tuple[int, int, str], dict[str, Any]] = {}
        for run in runs:
            pk, eid = pks[run.info.run_id], int(run.info.experiment_id)
            for item in run.dataset_inputs:
                dataset_id = ids[(eid, item.dataset.name, item.dataset.digest)]
                inputs[(pk, dataset_id)] = {"run_id": pk, "dataset_id": dataset_id}
                for tag in item.tags:
                    input_tags[(pk, dataset_id, tag.key)] = {
                        "run_id": pk,
                        "dataset_id": dataset_id,
                        "key": tag.key,
                        "value": tag.value,
                    }
        conn.execute(insert(inputs_table), list(inputs.values()))
        if input_tags:
            conn.execute(insert(input_tags_table), list(input_tags.values()))
        return len(rows) + len(inputs) + len(input_tags)

    def _write_model_links(
        self, conn: Connection, runs: Sequence[ImportedRun], pks: dict[str, int]
    ) -> int:
        wanted = [m for r in runs for m in r.model_input_ids]
        wanted += [m for r in runs for m, _ in r.model_output_ids]
        if not wanted:
            return 0
        models = self._model_pks(conn, wanted)
        links: dict[tuple[int, int, str, int], dict[str, Any]] = {}
        for run in runs:
            pk = pks[run.info.run_id]
            pairs = [(m, "input", 0) for m in run.model_input_ids]
            pairs += [(m, "output", step) for m, step in run.model_output_ids]
            for model_id, kind, step in pairs:
                if model_id in models:
                    key = (pk, models[model_id], kind, step)
                    links[key] = {"run_id": pk, "model_pk": key[1], "kind": kind, "step": step}
        if links:
            conn.execute(insert(logged_model_run_links_table), list(links.values()))
        return len(links)

    # -- registered models --------------------------------------------------------------------
    def write_registered_model(self, source_key: str, model: ImportedRegisteredModel) -> None:
        def apply(conn: Connection) -> None:
            rm = model.model
            conn.execute(
                delete(registered_models_table).where(_M.name_key == model_name_key(rm.name))
            )
            now = now_ms()
            numbers = [int(v.version) for v in model.versions]
            result = conn.execute(
                insert(registered_models_table).values(
                    name=rm.name,
                    name_key=model_name_key(rm.name),
                    creation_time=rm.creation_timestamp or now,
                    last_updated_time=rm.last_updated_timestamp or rm.creation_timestamp or now,
                    description=rm.description,
                    next_version=max(numbers, default=0) + 1,
                )
            )
            model_pk = inserted_id(result)
            if rm.tags:
                conn.execute(
                    insert(registered_model_tags_table),
                    [{"model_id": model_pk, "key": k, "value": v} for k, v in rm.tags.items()],
                )
            version_pks: dict[int, int] = {}
            for v in model.versions:
                source = v.source or ""
                result = conn.execute(
                    insert(model_versions_table).values(
                        model_id=model_pk,
                        version=int(v.version),
                        creation_time=v.creation_timestamp or now,
                        last_updated_time=v.last_updated_timestamp or v.creation_timestamp or now,
                        description=v.description,
                        user_id=v.user_id,
                        current_stage=v.current_stage,
                        source=source,
                        storage_location=self._storage_location(conn, source),
                        run_id=v.run_id or None,
                        run_link=v.run_link or None,
                        status=v.status,
                        status_message=v.status_message,
                        model_ref=v.model_id,
                    )
                )
                version_pks[int(v.version)] = inserted_id(result)
            version_tags = [
                {"version_id": version_pks[int(v.version)], "key": k, "value": value}
                for v in model.versions
                for k, value in v.tags.items()
            ]
            if version_tags:
                conn.execute(insert(model_version_tags_table), version_tags)
            aliases = [
                {"model_id": model_pk, "alias": alias, "version_id": version_pks[int(number)]}
                for alias, number in model.aliases.items()
                if int(number) in version_pks
            ]
            if aliases:
                conn.execute(insert(registered_model_aliases_table), aliases)
            self._record(
                conn,
                source_key,
                LedgerKind.REGISTERED_MODEL,
                [(model.source_name, model.fingerprint, rm.name)],
            )

        self._ctx.write(apply)

    @staticmethod
    def _storage_location(conn: Connection, source: str) -> str:
        """Where a version's files are: below its run's or logged model's artifacts for
        ``runs:/`` and ``models:/<id>`` sources, else the source itself."""
        runs = parse_runs_uri(source) if source else None
        if runs is not None:
            run_id, path = runs
            row = conn.execute(select(_R.artifact_uri).where(_R.run_uuid == run_id)).first()
            if row is not None:
                return join_uri(row.artifact_uri, path) if path else str(row.artifact_uri)
            return source
        models = parse_models_uri(source) if source.startswith("models:/") else None
        if models is not None and models.model_id is not None:
            query = select(_LM.artifact_location).where(_LM.model_id == models.model_id)
            found = conn.execute(query).first()
            if found is not None:
                base = str(found.artifact_location)
                return join_uri(base, models.path) if models.path else base
        return source

    # -- counts -------------------------------------------------------------------------------
    def counts(
        self, experiment_ids: Sequence[str], registered_model_names: Sequence[str]
    ) -> ImportedCounts:
        ids = _int_ids(experiment_ids)

        def read(conn: Connection) -> ImportedCounts:
            out = ImportedCounts()
            for part in _slices(ids):
                out.experiments += _scalar(
                    conn, select(func.count()).where(_E.experiment_id.in_(part))
                )
                in_runs = _R.experiment_id.in_(part)
                out.runs += _scalar(conn, select(func.count()).where(in_runs))
                for table, field in ((params_table, "params"), (tags_table, "tags")):
                    query = (
                        select(func.count())
                        .select_from(table.join(runs_table, table.c.run_id == _R.id))
                        .where(in_runs)
                    )
                    setattr(out, field, getattr(out, field) + _scalar(conn, query))
                lm = latest_metrics_table
                points = (
                    select(func.coalesce(func.sum(lm.c.count), 0))
                    .select_from(lm.join(runs_table, lm.c.run_id == _R.id))
                    .where(in_runs)
                )
                out.metric_points += _scalar(conn, points)
                out.logged_models += _scalar(
                    conn,
                    select(func.count()).where(
                        _LM.experiment_id.in_(part), _LM.lifecycle_stage == LifecycleStage.ACTIVE
                    ),
                )
            keys = list(dict.fromkeys(model_name_key(n) for n in registered_model_names))
            for part in _slices(keys):
                out.registered_models += _scalar(
                    conn, select(func.count()).where(_M.name_key.in_(part))
                )
                versions = (
                    select(func.count())
                    .select_from(
                        model_versions_table.join(registered_models_table, _V.model_id == _M.id)
                    )
                    .where(_M.name_key.in_(part))
                )
                out.model_versions += _scalar(conn, versions)
            return out

        return self._ctx.read(read)

    def metric_points(self, run_ids: Sequence[str]) -> dict[str, MetricPoints]:
        mc = metric_chunks_table.c

        def read(conn: Connection) -> dict[str, MetricPoints]:
            out: dict[str, MetricPoints] = {}
            for part in _slices(list(dict.fromkeys(run_ids))):
                query = (
                    select(_R.run_uuid, mc.key, mc.count, mc.steps, mc.timestamps, mc.vals)
                    .select_from(metric_chunks_table.join(runs_table, mc.run_id == _R.id))
                    .where(_R.run_uuid.in_(part))
                    .order_by(mc.run_id, mc.key, mc.id)
                )
                for run_id, key, count, steps, stamps, vals in conn.execute(query):
                    points = out.get(run_id)
                    if points is None:
                        points = out[run_id] = MetricPoints()
                    points.keys += [key] * count
                    points.steps += unpack_int64(steps)
                    points.timestamps += unpack_int64(stamps)
                    points.values += unpack_float64(vals)
            return out

        return self._ctx.read(read)

    def series_counts(self, run_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        lm = latest_metrics_table.c

        def read(conn: Connection) -> dict[tuple[str, str], int]:
            out: dict[tuple[str, str], int] = {}
            for part in _slices(list(dict.fromkeys(run_ids))):
                query = (
                    select(_R.run_uuid, lm.key, lm.count)
                    .select_from(latest_metrics_table.join(runs_table, lm.run_id == _R.id))
                    .where(_R.run_uuid.in_(part))
                )
                out.update({(row[0], row[1]): int(row[2]) for row in conn.execute(query)})
            return out

        return self._ctx.read(read)


def _scalar(conn: Connection, query: Any) -> int:
    return int(conn.execute(query).scalar_one() or 0)


def _groups(run: ImportedRun) -> dict[str, SeriesGroup]:
    """The run's metric columns grouped by key, in logging order.

    Consecutive points of one key are moved as slices (a source usually gives a series'
    points together), so no Python code runs per point.
    """
    values, stamps, steps = run.metric_values, run.metric_timestamps, run.metric_steps
    if not len(values) == len(stamps) == len(steps) == len(run.metric_keys):
        raise InvalidArgument(
            f"Invalid metric columns of run {run.info.run_id}: keys, values, timestamps and "
            "steps must be equally long"
        )
    groups: dict[str, SeriesGroup] = {}
    pos = 0
    for key, same in groupby(run.metric_keys):
        count = len(list(same))
        group = groups.get(key)
        if group is None:
            group = groups[key] = SeriesGroup()
        group.values.extend(values[pos : pos + count])
        group.timestamps.extend(stamps[pos : pos + count])
        group.steps.extend(steps[pos : pos + count])
        pos += count
    return groups
