"""An MLflow database (SQLite, PostgreSQL, MySQL/MariaDB) read as an import source.

The schema is told by its Alembic revision (``alembic_version``), and every table is read by
the columns it has: tables and columns added by later MLflow versions (datasets and inputs in
2.4, logged models and run outputs in 3.0, the inputs' ``step``, workspaces) are read when
present.  Nothing is written: SQLite is opened with ``mode=ro``, PostgreSQL sessions are
``default_transaction_read_only`` and MySQL sessions ``TRANSACTION READ ONLY``.

Reads are bulk queries: the first pass aggregates each table grouped by run (one query per
table for all runs of the experiments), the second reads a chunk of runs with one query per
table.
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    TableClause,
    column,
    create_engine,
    event,
    func,
    inspect,
    select,
    table,
)
from sqlalchemy.exc import DBAPIError

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail._optional import missing_dependency
from mltrail.artifacts import ArtifactRepository
from mltrail.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
    RunInfo,
)
from mltrail.entities._logged_model import LoggedModelMetric, LoggedModelStatus
from mltrail.importers._mlflow_common import (
    INF_STORED,
    fingerprint,
    local_path,
    model_id_from_source,
    open_location,
    parents_first,
    redact_uri,
)
from mltrail.importers._records import (
    RegisteredModelRecord,
    RunContents,
    RunHeader,
    Source,
    SourceCounts,
)
from mltrail.store._foreign import describe_mlflow_database

__all__ = ["MlflowDatabaseSource"]

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
_IN_CHUNK = 500  # ids per IN (...) list
_DELETED_VERSION = "Deleted_Internal"  # MLflow's SQL store keeps deleted versions so


def _stored_float(value: Any, is_nan: Any = False) -> float:
    """A metric value as MLflow's SQL store keeps it, back to what was logged."""
    if is_nan or value is None:
        return math.nan
    number = float(value)
    if number == INF_STORED:
        return math.inf
    if number == -INF_STORED:
        return -math.inf
    return number


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _sqlite_read_only_engine(uri: str) -> Engine:
    rest = uri.split("://", 1)[1]
    raw = rest[1:] if rest.startswith("/") else rest
    path = os.path.abspath(raw.split("?", 1)[0])
    if not raw or raw == ":memory:":
        raise InvalidArgument(f"Invalid MLflow database {uri!r}: an in-memory database is empty")
    if not os.path.isfile(path):
        raise NotFound(f"No MLflow database at {path}: the file does not exist")
    target = f"file:{quote(path)}?mode=ro"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(target, uri=True, check_same_thread=False)

    return create_engine("sqlite://", creator=connect)


def _server_read_only_engine(uri: str) -> Engine:
    scheme, _, rest = uri.partition("://")
    url = f"{_DRIVERS.get(scheme, scheme)}://{rest}"
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        kwargs["connect_args"] = {"options": "-c default_transaction_read_only=on"}
    try:  # SQLAlchemy imports the driver here
        engine = create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:
        raise missing_dependency(exc) from None
    if engine.dialect.name in ("mysql", "mariadb"):

        def read_only(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.close()

        event.listen(engine, "connect", read_only)
    return engine


class MlflowDatabaseSource(Source):
    """An MLflow tracking (and registry) database, read-only.

    *artifacts_destination* is where the MLflow server kept proxied artifacts (its
    ``--artifacts-destination``), needed when runs' locations are ``mlflow-artifacts:`` URIs.
    """

    def __init__(self, uri: str, *, artifacts_destination: str | None = None) -> None:
        scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
        base = scheme.split("+", 1)[0]
        if base not in ("sqlite", "postgresql", "postgres", "mysql", "mariadb"):
            raise InvalidArgument(
                f"Invalid MLflow database URI {uri!r}: expected sqlite:///, postgresql:// "
                "or mysql://"
            )
        self.key = redact_uri(uri)
        self.artifacts_destination = artifacts_destination
        self._tables: dict[str, TableClause] = {}
        self.engine = (
            _sqlite_read_only_engine(uri) if base == "sqlite" else _server_read_only_engine(uri)
        )
        try:
            self.revision, self._columns = self._read_schema()
        except DBAPIError as exc:
            self.engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
            raise InvalidArgument(
                f"Cannot read the MLflow database {self.key}: {type(exc.orig).__name__} {reason}"
            ) from None
        except BaseException:
            self.engine.dispose()
            raise
        kind = describe_mlflow_database(self.revision, self._table_names)
        self.description = f"{self.key}: {kind or 'an MLflow tracking database'}"

    # -- schema -------------------------------------------------------------------------------

    def _read_schema(self) -> tuple[str, dict[str, frozenset[str]]]:
        inspector = inspect(self.engine)
        names = set(inspector.get_table_names())
        self._table_names = frozenset(names)
        if "alembic_version" not in names or not {"experiments", "runs"} <= names:
            raise InvalidArgument(
                f"{self.key} is not an MLflow database (it has no MLflow tables; an empty or "
                "new database, or another application's)"
            )
        with self.engine.connect() as conn:
            revision = conn.execute(
                select(column("version_num")).select_from(table("alembic_version"))
            ).scalar()
        if revision is None:
            raise InvalidArgument(f"{self.key} has no schema revision: it is not an MLflow store")
        if not all(c in "0123456789abcdef" for c in str(revision)):
            # MLflow's revisions are hex ids; mltrail's are numbered (0001_initial, ...).
            raise InvalidArgument(
                f"{self.key} is not an MLflow database (schema revision {revision}; an mltrail "
                "store is imported with `mltrail import mltrail`)"
            )
        wanted = [
            "experiments",
            "experiment_tags",
            "runs",
            "params",
            "tags",
            "metrics",
            "latest_metrics",
            "datasets",
            "inputs",
            "input_tags",
            "logged_models",
            "logged_model_params",
            "logged_model_tags",
            "logged_model_metrics",
            "registered_models",
            "registered_model_tags",
            "model_versions",
            "model_version_tags",
            "registered_model_aliases",
        ]
        columns = {
            name: frozenset(c["name"] for c in inspector.get_columns(name))
            for name in wanted
            if name in names
        }
        return str(revision), columns

    def _table(self, name: str) -> TableClause | None:
        """The table as one construct per source (a query naming it twice must see one)."""
        found = self._tables.get(name)
        if found is None and name in self._columns:
            found = table(name, *(column(c) for c in sorted(self._columns[name])))
            self._tables[name] = found
        return found

    def _need(self, name: str) -> TableClause:
        found = self._table(name)
        if found is None:
            raise InvalidArgument(f"The MLflow database {self.key} has no {name} table")
        return found

    def _has(self, table_name: str, column_name: str) -> bool:
        return column_name in self._columns.get(table_name, frozenset())

    def close(self) -> None:
        self.engine.dispose()

    # -- experiments and runs -------------------------------------------------------------------

    def experiments(self, names: Sequence[str] | None = None) -> list[Experiment]:
        exp = self._need("experiments")
        cols = [exp.c.experiment_id, exp.c.name, exp.c.artifact_location, exp.c.lifecycle_stage]
        has_times = self._has("experiments", "creation_time")
        if has_times:
            cols += [exp.c.creation_time, exp.c.last_update_time]
        query = select(*cols).order_by(exp.c.experiment_id)
        if names is not None:
            query = query.where(exp.c.name.in_(list(names)))
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            tag_table = self._table("experiment_tags")
            if tag_table is not None:
                ids = [row[0] for row in rows]
                for chunk in _chunks(ids):
                    for exp_id, key, value in conn.execute(
                        select(tag_table.c.experiment_id, tag_table.c.key, tag_table.c.value).where(
                            tag_table.c.experiment_id.in_(chunk)
                        )
                    ):
                        tags[str(exp_id)][key] = value if value is not None else ""
        return [
            Experiment(
                experiment_id=str(row[0]),
                name=row[1],
                artifact_location=row[2] or "",
                lifecycle_stage=row[3] or "active",
                tags=tags.get(str(row[0]), {}),
                creation_time=row[4] if has_times else None,
                last_update_time=row[5] if has_times else None,
            )
            for row in rows
        ]

    def _run_query_ids(self, experiment_ids: Sequence[str]) -> list[int]:
        return [int(e) for e in experiment_ids]

    def run_headers(self, experiment_ids: Sequence[str]) -> Iterator[RunHeader]:
        exp_ids = self._run_query_ids(experiment_ids)
        if not exp_ids:
            return
        runs = self._need("runs")
        info_cols = [
            runs.c.run_uuid,
            runs.c.experiment_id,
            runs.c.name if self._has("runs", "name") else runs.c.run_uuid,
            runs.c.user_id,
            runs.c.status,
            runs.c.start_time,
            runs.c.end_time,
            runs.c.artifact_uri,
            runs.c.lifecycle_stage,
        ]
        extra = [
            getattr(runs.c, name)
            for name in ("source_type", "source_name", "entry_point_name", "source_version")
            if self._has("runs", name)
        ]
        if self._has("runs", "deleted_time"):
            extra.append(runs.c.deleted_time)
        in_experiments = runs.c.experiment_id.in_(exp_ids)
        with self.engine.connect() as conn:
            rows = conn.execute(select(*info_cols, *extra).where(in_experiments)).all()
            ids = [row[0] for row in rows]
            tags = self._tags_by_run(conn, ids)
            aggregates = self._aggregates(conn, in_experiments)
        infos: list[RunInfo] = []
        parts: dict[str, tuple[Any, ...]] = {}
        for row in rows:
            run_id = row[0]
            run_tags = tags.get(run_id, {})
            name = row[2] if self._has("runs", "name") else run_tags.get("mlflow.runName", "")
            info = RunInfo(
                run_id=run_id,
                experiment_id=str(row[1]),
                run_name=name or run_tags.get("mlflow.runName") or "",
                user_id=row[3] or "",
                status=row[4] or "RUNNING",
                start_time=row[5],
                end_time=row[6],
                artifact_uri=row[7] or "",
                lifecycle_stage=row[8] or "active",
            )
            infos.append(info)
            parts[run_id] = (
                tuple(row),
                sorted(run_tags.items()),
                tuple(agg.get(run_id) for agg in aggregates),
            )
        parents = {
            run_id: tags[run_id]["mlflow.parentRunId"]
            for run_id in tags
            if "mlflow.parentRunId" in tags[run_id]
        }
        for info in parents_first(infos, parents):
            yield RunHeader(info, fingerprint(*parts[info.run_id]))

    def _tags_by_run(self, conn: Connection, run_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        tag_table = self._need("tags")
        out: dict[str, dict[str, str]] = defaultdict(dict)
        for chunk in _chunks(run_ids):
            for run_id, key, value in conn.execute(
                select(tag_table.c.run_uuid, tag_table.c.key, tag_table.c.value).where(
                    tag_table.c.run_uuid.in_(chunk)
                )
            ):
                out[run_id][key] = value if value is not None else ""
        return out

    def _aggregates(
        self, conn: Connection, in_experiments: ColumnElement[bool]
    ) -> list[dict[str, tuple[Any, ...]]]:
        """Per run, one summary per table (params, metrics, inputs, outputs), each read by one
        grouped query: MLflow only ever adds params, metric points and inputs (never edits
        them), so their counts tell a change; tags, which can be overwritten, are read whole."""
        runs = self._need("runs")
        run_ids = select(runs.c.run_uuid).where(in_experiments).scalar_subquery()
        out: list[dict[str, tuple[Any, ...]]] = []
        params = self._need("params")
        out.append(
            self._grouped(
                conn,
                params.c.run_uuid,
                [func.count(), func.sum(func.length(params.c.value))],
                params.c.run_uuid.in_(run_ids),
            )
        )
        metrics = self._need("metrics")
        out.append(
            self._grouped(
                conn,
                metrics.c.run_uuid,
                [func.count()],  # from the run_uuid index alone: points are only added
                metrics.c.run_uuid.in_(run_ids),
            )
        )
        inputs = self._table("inputs")
        if inputs is not None:
            out.append(
                self._grouped(
                    conn,
                    inputs.c.destination_id,
                    [func.count(), func.max(inputs.c.input_uuid)],
                    inputs.c.destination_id.in_(run_ids),
                )
            )
            out.append(
                self._grouped(
                    conn,
                    inputs.c.source_id,
                    [func.count(), func.max(inputs.c.destination_id)],
                    (inputs.c.source_type == "RUN_OUTPUT") & inputs.c.source_id.in_(run_ids),
                )
            )
        return out

    @staticmethod
    def _grouped(
        conn: Connection, key: Any, aggregates: list[Any], where: ColumnElement[bool]
    ) -> dict[str, tuple[Any, ...]]:
        query = select(key, *aggregates).where(where).group_by(key)
        return {row[0]: tuple(row[1:]) for row in conn.execute(query)}

    def run_contents(self, headers: Sequence[RunHeader]) -> Iterator[RunContents]:
        by_id = {h.info.run_id: RunContents(h) for h in headers}
        ids = list(by_id)
        if not ids:
            return
        params = self._need("params")
        with self.engine.connect() as conn:
            for run_id, tags in self._tags_by_run(conn, ids).items():
                by_id[run_id].tags = tags
            for chunk in _chunks(ids):
                for run_id, key, value in conn.execute(
                    select(params.c.run_uuid, params.c.key, params.c.value).where(
                        params.c.run_uuid.in_(chunk)
                    )
                ):
                    by_id[run_id].params[key] = value
            self._read_metrics(conn, ids, by_id)
            self._read_inputs(conn, ids, by_id)
        yield from by_id.values()

    def _read_metrics(
        self, conn: Connection, ids: Sequence[str], by_id: dict[str, RunContents]
    ) -> None:
        """Each run's points as columns, built per run from the rows by transposition (a few
        million points per chunk of runs: no per-point Python work but the NaN and infinity
        fixes, and the model links of the points MLflow 3 linked)."""
        metrics = self._need("metrics")
        links = self._model_metric_links(conn, ids)
        has_nan = self._has("metrics", "is_nan")
        for chunk in _chunks(ids):
            query = select(
                metrics.c.run_uuid,
                metrics.c.key,
                metrics.c.value,
                metrics.c.timestamp,
                metrics.c.step,
                metrics.c.is_nan if has_nan else metrics.c.step,
            ).where(metrics.c.run_uuid.in_(chunk))
            grouped: dict[str, list[Any]] = defaultdict(list)
            # Plain tuples from the driver's cursor (the columns are untyped: nothing to
            # convert), not a Row object per point.
            result = conn.execute(query)
            for row in result.cursor.fetchall():
                grouped[row[0]].append(row)
            result.close()
            for run_id, rows in grouped.items():
                _, keys, values, timestamps, steps, flags = zip(*rows, strict=True)
                cols = by_id[run_id].metrics
                cols.keys = list(keys)
                cols.values = [float(v) if v is not None else math.nan for v in values]
                if has_nan and any(flags):
                    for i, flag in enumerate(flags):
                        if flag:
                            cols.values[i] = math.nan
                if INF_STORED in cols.values or -INF_STORED in cols.values:
                    cols.values = [_stored_float(v) for v in cols.values]
                cols.timestamps = [int(t) for t in timestamps]
                cols.steps = [int(s) for s in steps]
                if links:
                    found = [
                        links.get((run_id, k, s, t))
                        for k, s, t in zip(cols.keys, cols.steps, cols.timestamps, strict=True)
                    ]
                    cols.model_ids = [f[0] if f else None for f in found]
                    cols.dataset_names = [f[1] if f else None for f in found]
                    cols.dataset_digests = [f[2] if f else None for f in found]

    def _model_metric_links(
        self, conn: Connection, ids: Sequence[str]
    ) -> dict[tuple[str, str, int, int], tuple[str, str | None, str | None]] | None:
        """MLflow 3 records a run's metric logged for a model twice: in ``metrics`` and in
        ``logged_model_metrics`` with the model and dataset; the second gives the links."""
        lmm = self._table("logged_model_metrics")
        if lmm is None:
            return None
        links: dict[tuple[str, str, int, int], tuple[str, str | None, str | None]] = {}
        for chunk in _chunks(ids):
            query = select(
                lmm.c.run_id,
                lmm.c.metric_name,
                lmm.c.metric_step,
                lmm.c.metric_timestamp_ms,
                lmm.c.model_id,
                lmm.c.dataset_name,
                lmm.c.dataset_digest,
            ).where(lmm.c.run_id.in_(chunk))
            for run_id, key, step, ts, model_id, name, digest in conn.execute(query):
                links.setdefault((run_id, key, int(step), int(ts)), (model_id, name, digest))
        return links

    def _read_inputs(
        self, conn: Connection, ids: Sequence[str], by_id: dict[str, RunContents]
    ) -> None:
        inputs, datasets = self._table("inputs"), self._table("datasets")
        if inputs is None:
            return
        input_tags = self._table("input_tags")
        step_col = inputs.c.step if self._has("inputs", "step") else inputs.c.source_id
        for chunk in _chunks(ids):
            rows = conn.execute(
                select(
                    inputs.c.input_uuid,
                    inputs.c.source_type,
                    inputs.c.source_id,
                    inputs.c.destination_type,
                    inputs.c.destination_id,
                    step_col,
                ).where(inputs.c.destination_id.in_(chunk) | inputs.c.source_id.in_(chunk))
            ).all()
            dataset_ids = [r[2] for r in rows if r[1] == "DATASET"]
            found: dict[str, Dataset] = {}
            if datasets is not None and dataset_ids:
                for dchunk in _chunks(dataset_ids):
                    for row in conn.execute(
                        select(
                            datasets.c.dataset_uuid,
                            datasets.c.name,
                            datasets.c.digest,
                            datasets.c.dataset_source_type,
                            datasets.c.dataset_source,
                            datasets.c.dataset_schema,
                            datasets.c.dataset_profile,
                        ).where(datasets.c.dataset_uuid.in_(dchunk))
                    ):
                        found[row[0]] = Dataset(*row[1:])
            tags: dict[str, list[InputTag]] = defaultdict(list)
            uuids = [r[0] for r in rows if r[1] == "DATASET"]
            if input_tags is not None and uuids:
                for uchunk in _chunks(uuids):
                    for input_uuid, name, value in conn.execute(
                        select(
                            input_tags.c.input_uuid, input_tags.c.name, input_tags.c.value
                        ).where(input_tags.c.input_uuid.in_(uchunk))
                    ):
                        tags[input_uuid].append(InputTag(name, value))
            for input_uuid, source_type, source_id, dest_type, dest_id, step in rows:
                if source_type == "DATASET" and dest_type == "RUN" and dest_id in by_id:
                    if source_id in found:
                        by_id[dest_id].dataset_inputs.append(
                            DatasetInput(found[source_id], sorted(tags[input_uuid], key=_tag_key))
                        )
                elif source_type == "RUN_OUTPUT" and source_id in by_id:
                    model_step = int(step) if self._has("inputs", "step") and step else 0
                    by_id[source_id].model_output_ids.append((dest_id, model_step))
                elif dest_type == "RUN" and dest_id in by_id and source_type != "DATASET":
                    by_id[dest_id].model_input_ids.append(source_id)

    # -- logged models ------------------------------------------------------------------------

    def logged_models(self, experiment_ids: Sequence[str]) -> Iterator[LoggedModel]:
        models = self._table("logged_models")
        exp_ids = self._run_query_ids(experiment_ids)
        if models is None or not exp_ids:
            return
        query = select(
            models.c.model_id,
            models.c.experiment_id,
            models.c.name,
            models.c.artifact_location,
            models.c.creation_timestamp_ms,
            models.c.last_updated_timestamp_ms,
            models.c.status,
            models.c.model_type,
            models.c.source_run_id,
            models.c.status_message,
        ).where(models.c.experiment_id.in_(exp_ids))
        if self._has("logged_models", "lifecycle_stage"):
            query = query.where(models.c.lifecycle_stage != "deleted")
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(models.c.creation_timestamp_ms)).all()
            for chunk_start in range(0, len(rows), _IN_CHUNK):
                chunk = rows[chunk_start : chunk_start + _IN_CHUNK]
                ids = [r[0] for r in chunk]
                params = self._model_pairs(conn, "logged_model_params", "param", ids)
                tags = self._model_pairs(conn, "logged_model_tags", "tag", ids)
                metrics = self._model_metrics(conn, ids)
                for row in chunk:
                    yield LoggedModel(
                        model_id=row[0],
                        experiment_id=str(row[1]),
                        name=row[2],
                        artifact_location=row[3],
                        creation_timestamp=int(row[4]),
                        last_updated_timestamp=int(row[5]),
                        status=LoggedModelStatus.parse(int(row[6])),
                        model_type=row[7] or None,
                        source_run_id=row[8] or None,
                        status_message=row[9] or None,
                        tags=tags.get(row[0], {}),
                        params=params.get(row[0], {}),
                        metrics=metrics.get(row[0], []),
                    )

    def _model_pairs(
        self, conn: Connection, name: str, prefix: str, ids: Sequence[str]
    ) -> dict[str, dict[str, str]]:
        pairs = self._table(name)
        out: dict[str, dict[str, str]] = defaultdict(dict)
        if pairs is None:
            return out
        key, value = getattr(pairs.c, f"{prefix}_key"), getattr(pairs.c, f"{prefix}_value")
        for model_id, k, v in conn.execute(
            select(pairs.c.model_id, key, value).where(pairs.c.model_id.in_(list(ids)))
        ):
            out[model_id][k] = v
        return out

    def _model_metrics(
        self, conn: Connection, ids: Sequence[str]
    ) -> dict[str, list[LoggedModelMetric]]:
        lmm = self._table("logged_model_metrics")
        out: dict[str, list[LoggedModelMetric]] = defaultdict(list)
        if lmm is None:
            return out
        query = select(
            lmm.c.model_id,
            lmm.c.metric_name,
            lmm.c.metric_value,
            lmm.c.metric_timestamp_ms,
            lmm.c.metric_step,
            lmm.c.run_id,
            lmm.c.dataset_name,
            lmm.c.dataset_digest,
        ).where(lmm.c.model_id.in_(list(ids)))
        query = query.order_by(lmm.c.model_id, lmm.c.metric_name, lmm.c.metric_step)
        for model_id, key, value, ts, step, run_id, dname, ddigest in conn.execute(query):
            out[model_id].append(
                LoggedModelMetric(
                    key=key,
                    value=_stored_float(value),
                    timestamp=int(ts),
                    step=int(step),
                    model_id=model_id,
                    run_id=run_id or None,
                    dataset_name=dname or None,
                    dataset_digest=ddigest or None,
                )
            )
        return out

    # -- registry -----------------------------------------------------------------------------

    def registered_models(self) -> Iterator[RegisteredModelRecord]:
        models = self._table("registered_models")
        if models is None:
            return
        versions_t = self._need("model_versions")
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    models.c.name,
                    models.c.creation_time,
                    models.c.last_updated_time,
                    models.c.description,
                ).order_by(models.c.name)
            ).all()
            model_tags = self._registry_pairs(conn, "registered_model_tags", ("name",))
            version_tags = self._registry_pairs(conn, "model_version_tags", ("name", "version"))
            aliases: dict[str, dict[str, int]] = defaultdict(dict)
            alias_t = self._table("registered_model_aliases")
            if alias_t is not None:
                for name, alias, version in conn.execute(
                    select(alias_t.c.name, alias_t.c.alias, alias_t.c.version)
                ):
                    aliases[name][alias] = int(version)
            cols = [
                "name",
                "version",
                "creation_time",
                "last_updated_time",
                "description",
                "user_id",
                "current_stage",
                "source",
                "run_id",
                "status",
                "status_message",
                "run_link",
            ]
            versions: dict[str, list[ModelVersion]] = defaultdict(list)
            query = select(*(getattr(versions_t.c, c) for c in cols)).order_by(
                versions_t.c.name, versions_t.c.version
            )
            for row in conn.execute(query):
                v = dict(zip(cols, row, strict=True))
                if v["current_stage"] == _DELETED_VERSION:
                    continue
                name, number = v["name"], int(v["version"])
                versions[name].append(
                    ModelVersion(
                        name=name,
                        version=number,
                        creation_timestamp=v["creation_time"],
                        last_updated_timestamp=v["last_updated_time"],
                        description=v["description"],
                        user_id=v["user_id"] or None,
                        current_stage=v["current_stage"] or "None",
                        source=v["source"],
                        run_id=v["run_id"] or None,
                        status=v["status"] or "READY",
                        status_message=v["status_message"] or None,
                        tags=version_tags.get((name, number), {}),
                        run_link=v["run_link"] or None,
                        aliases=sorted(a for a, n in aliases[name].items() if n == number),
                        model_id=model_id_from_source(v["source"]),
                    )
                )
        for name, created, updated, description in rows:
            model = RegisteredModel(
                name=name,
                creation_timestamp=created,
                last_updated_timestamp=updated,
                description=description,
                tags=model_tags.get((name,), {}),
                aliases=dict(aliases[name]),
            )
            record = RegisteredModelRecord(model, versions[name], dict(aliases[name]))
            record.fingerprint = fingerprint(
                repr(model), [repr(v) for v in record.versions], sorted(record.aliases.items())
            )
            yield record

    def _registry_pairs(
        self, conn: Connection, name: str, keys: tuple[str, ...]
    ) -> dict[tuple[Any, ...], dict[str, str]]:
        pairs = self._table(name)
        out: dict[tuple[Any, ...], dict[str, str]] = defaultdict(dict)
        if pairs is None:
            return out
        cols = [getattr(pairs.c, k) for k in keys]
        for row in conn.execute(select(*cols, pairs.c.key, pairs.c.value)):
            ident = tuple(int(x) if k == "version" else x for k, x in zip(keys, row, strict=False))
            out[ident][row[-2]] = row[-1] if row[-1] is not None else ""
        return out

    # -- artifacts and counts -----------------------------------------------------------------

    def open_artifacts(self, artifact_uri: str) -> ArtifactRepository | None:
        return open_location(artifact_uri, artifacts_destination=self.artifacts_destination)

    def counts(self, experiment_ids: Sequence[str]) -> SourceCounts:
        exp_ids = self._run_query_ids(experiment_ids)
        runs = self._need("runs")
        in_runs = select(runs.c.run_uuid).where(runs.c.experiment_id.in_(exp_ids))
        run_ids = in_runs.scalar_subquery()
        out = SourceCounts(experiments=len(exp_ids))

        def count(conn: Connection, name: str, where: Any = None) -> int:
            t = self._table(name)
            if t is None:
                return 0
            query = select(func.count()).select_from(t)
            if where is not None:
                query = query.where(where(t))
            return int(conn.execute(query).scalar() or 0)

        with self.engine.connect() as conn:
            out.runs = count(conn, "runs", lambda t: t.c.experiment_id.in_(exp_ids))
            out.params = count(conn, "params", lambda t: t.c.run_uuid.in_(run_ids))
            out.tags = count(conn, "tags", lambda t: t.c.run_uuid.in_(run_ids))
            out.metric_points = count(conn, "metrics", lambda t: t.c.run_uuid.in_(run_ids))
            out.logged_models = count(
                conn,
                "logged_models",
                lambda t: t.c.experiment_id.in_(exp_ids) & (t.c.lifecycle_stage != "deleted"),
            )
            out.registered_models = count(conn, "registered_models")
            out.model_versions = count(
                conn, "model_versions", lambda t: t.c.current_stage != _DELETED_VERSION
            )
            uris = [
                u
                for (u,) in conn.execute(
                    select(runs.c.artifact_uri).where(runs.c.experiment_id.in_(exp_ids))
                )
            ]
        out.artifacts = _count_local_files(uris)
        return out


def _tag_key(tag: InputTag) -> str:
    return tag.key


def _count_local_files(uris: Sequence[str | None]) -> int | None:
    """The files below these locations when all of them are local folders, else None."""
    total = 0
    for uri in uris:
        if not uri:
            continue
        path = local_path(uri)
        if path is None or urlsplit(uri).scheme.lower() == "mlflow-artifacts":
            return None
        for _dirpath, _dirs, files in os.walk(path):
            total += len(files)
    return total
