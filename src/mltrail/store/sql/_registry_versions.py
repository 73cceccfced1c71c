"""Model versions in the SQL store: create (with source validation), stages, tags, copies.

Source validation (CVE-2023-1177 and its siblings): a version's ``source`` never names a
server-local path outside a run's (or logged model's) artifacts, nor a path that climbs.
Accepted forms:

- ``runs:/<run_id>/<path>``: when the run is in this store, its artifacts (and a ``run_id``
  given beside it must be that run); a run this store does not have is accepted as given, as
  MLflow accepts it (a registry may serve runs tracked elsewhere);
- ``models:/<name>/<version|stage|latest>`` and ``models:/<name>@<alias>``: an existing
  version, whose files the new version shares; ``models:/<model_id>``: a logged model here, or
  one elsewhere when ``model_id`` names the same id;
- a remote URI of any other scheme (``s3://``, ``gs://``, ``wasbs://``, ``hdfs://``,
  ``dbfs:/``, ``http(s)://`` outside the artifact proxy, ...): accepted as given, with or
  without a ``run_id`` (the server never reads it), unless its path climbs: ``.`` or ``..``
  segments (decoded at any depth of URL encoding) and NUL characters are refused;
- a local path or ``file:`` URI, and a proxied location (``mlflow-artifacts:`` or the proxy's
  ``http(s)`` route), which the server does read: only together with ``run_id`` (or
  ``model_id``), and only below that run's (or logged model's) artifact URI; what follows it is
  checked like an artifact path, so ``..``, ``%2e%2e`` (any depth of encoding), ``;``, ``?``,
  ``#``, backslashes and absolute or drive paths are refused.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from sqlalchemy import Connection, Row, delete, insert, select, update

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.artifacts._model_uris import ModelsUri, parse_models_uri, parse_runs_uri, path_below
from mltrail.artifacts._registry import is_local_uri
from mltrail.entities import LifecycleStage, ModelVersion, ModelVersionStatus, ModelVersionTag
from mltrail.entities._registry import (
    ACTIVE_STAGES,
    STAGE_ARCHIVED,
    STAGE_NONE,
    canonical_stage,
)
from mltrail.store.sql._core import SqlContext, now_ms
from mltrail.store.sql._experiments import join_uri
from mltrail.store.sql._logged_model_schema import logged_model_tags_table, logged_models_table
from mltrail.store.sql._registry_core import RegistryCore, check_description, registry_tag_rows
from mltrail.store.sql._registry_schema import (
    model_version_tags_table,
    model_versions_table,
    registered_model_aliases_table,
    registered_models_table,
)
from mltrail.validation import validate_run_id

__all__ = ["SqlModelVersions"]

_M = registered_models_table.c
_V = model_versions_table.c
_T = model_version_tags_table.c
MAX_RUN_LINK_LENGTH = 500


_PROXY_ROUTE = "/api/2.0/mlflow-artifacts/artifacts"


def _join(base: str, path: str) -> str:
    return join_uri(base, path) if path else base


def _is_proxied(source: str) -> bool:
    """Whether the server itself resolves *source* (its artifact proxy, in either form)."""
    scheme = source.partition(":")[0].lower()
    if scheme == "mlflow-artifacts":
        return True
    return scheme in ("http", "https") and _PROXY_ROUTE in unquote_plus(source)


def _lexically_normal(source: str) -> str:
    """A local path or ``file:`` URI with its literal ``.`` and ``..`` segments folded (as
    MLflow resolves it before checking that it lies inside a run's artifacts); encoded forms,
    queries and fragments are left for the artifact-path rules to refuse, and other URIs are
    returned unchanged."""
    if not is_local_uri(source) or "\\" in source or "?" in source or "#" in source:
        return source
    path = urlsplit(source).path if source[:5].lower() == "file:" else source
    if not path.startswith("/") or not source.endswith(path):
        return source
    if not any(seg in (".", "..") for seg in path.split("/")):
        return source
    return source[: len(source) - len(path)] + posixpath.normpath(path)


def _check_remote_source(source: str) -> None:
    """Refuse a remote *source* whose path climbs, however it is encoded."""
    text = source
    while (decoded := unquote_plus(text)) != text:
        text = decoded
    # Every segment of the decoded text (a query or fragment may hide one from the path).
    segments = re.split(r"[/\\]", text)
    if "\x00" in text or any(seg in (".", "..") for seg in segments):
        raise InvalidArgument(
            f"Invalid model version source {source!r}: If supplying a source as an http, https, "
            "s3 or other remote URI, its path must be absolute, without '.' or '..' segments "
            "(in any URL encoding) or NUL characters"
        )


#: The logged model's tag listing the versions registered from it (MLflow's, as JSON).
MODEL_VERSIONS_TAG = "mlflow.modelVersions"


def _record_on_logged_model(conn: Connection, model_id: str, name: str, version: int) -> None:
    """Add the new version to the ``mlflow.modelVersions`` tag of the logged model it was
    registered from (when that model is in this store), as MLflow records it."""
    lm, tags = logged_models_table.c, logged_model_tags_table.c
    pk = conn.execute(select(lm.id).where(lm.model_id == model_id)).scalar()
    if pk is None:
        return
    where = (tags.model_pk == pk) & (tags.key == MODEL_VERSIONS_TAG)
    current = conn.execute(select(tags.value).where(where)).scalar()
    try:
        listed = json.loads(current) if current else []
    except ValueError:
        listed = []
    if not isinstance(listed, list):
        listed = []
    listed.append({"name": name, "version": version})
    if current is None:
        conn.execute(
            insert(logged_model_tags_table).values(
                model_pk=pk, key=MODEL_VERSIONS_TAG, value=json.dumps(listed)
            )
        )
    else:
        conn.execute(update(logged_model_tags_table).where(where).values(value=json.dumps(listed)))


class SqlModelVersions:
    """Versions of registered models (for :class:`~mltrail.store.sql._registry.SqlRegistry`)."""

    def __init__(self, ctx: SqlContext, core: RegistryCore) -> None:
        self._ctx = ctx
        self._core = core

    # -- sources -----------------------------------------------------------------------------
    def _logged_model_location(self, conn: Connection, model_id: str) -> tuple[str, str | None]:
        """Artifact location and source run of an active logged model (``models:/<id>``)."""
        lm = logged_models_table.c
        row = conn.execute(
            select(lm.artifact_location, lm.source_run_id).where(
                lm.model_id == model_id, lm.lifecycle_stage == LifecycleStage.ACTIVE
            )
        ).first()
        if row is None:
            raise InvalidArgument(
                f"Invalid model version source 'models:/{model_id}': this store has no logged "
                "model of that id; register from runs:/<run_id>/<path> or models:/<name>/<version>"
            )
        return str(row.artifact_location), row.source_run_id

    def _has_logged_model(self, conn: Connection, model_id: str) -> bool:
        lm = logged_models_table.c
        found = conn.execute(select(lm.model_id).where(lm.model_id == model_id)).first()
        return found is not None

    def _resolve_version_row(self, conn: Connection, uri: ModelsUri) -> Row[Any]:
        """The version row a ``models:/<name>/...`` URI names."""
        assert uri.name is not None
        model = self._core.model_row(conn, uri.name)
        if uri.version is not None:
            return self._core.version_row(conn, model, uri.version)
        query = select(model_versions_table).where(_V.model_id == model.id)
        if uri.alias is not None:
            a = registered_model_aliases_table.c
            query = query.join(registered_model_aliases_table, a.version_id == _V.id).where(
                a.alias == uri.alias
            )
        elif uri.stage is not None:
            query = query.where(_V.current_stage == canonical_stage(uri.stage))
        row = conn.execute(query.order_by(_V.version.desc()).limit(1)).first()
        if row is None:
            what = f"alias {uri.alias}" if uri.alias else f"stage {uri.stage or 'latest'}"
            raise NotFound(f"No version of registered model '{model.name}' for {what}")
        return row

    def _resolve_source(
        self, conn: Connection, source: Any, run_id: str | None, model_id: str | None = None
    ) -> tuple[str, str | None]:
        """The storage location *source* resolves to, and the run it belongs to.

        A plain location must lie inside the artifacts of the run given as *run_id* or (as
        MLflow 3 allows) of the logged model given as *model_id*."""
        if not isinstance(source, str) or not source.strip():
            raise InvalidArgument(f"Invalid model version source {source!r}: must be a URI")
        runs = parse_runs_uri(source)
        if runs is not None:
            source_run, path = runs
            if run_id and source_run != run_id:
                raise InvalidArgument(
                    f"Invalid model version source {source!r}: it names run {source_run}, "
                    f"but run_id is {run_id}"
                )
            here = self._ctx.find_run_row(conn, source_run)
            if here is None:  # a run tracked elsewhere: kept as given, as MLflow keeps it
                return source, source_run
            return _join(here.artifact_uri, path), source_run
        models = parse_models_uri(source)
        if models is not None:
            if models.model_id is not None:
                if model_id == models.model_id and not self._has_logged_model(
                    conn, models.model_id
                ):
                    return source, run_id  # a logged model tracked elsewhere, named twice
                model_location, model_run = self._logged_model_location(conn, models.model_id)
                return _join(model_location, models.path), run_id or model_run
            row = self._resolve_version_row(conn, models)
            return _join(row.storage_location, models.path), run_id or row.run_id
        if not is_local_uri(source) and not _is_proxied(source):
            _check_remote_source(source)
            return source, run_id
        source = _lexically_normal(source)
        run = self._ctx.find_run_row(conn, run_id) if run_id else None
        if run_id and run is None and not model_id:
            raise InvalidArgument(
                f"Invalid model version source {source!r}: run_id {run_id} names no run of "
                "this server, and a local path (or a location of its artifact proxy) must lie "
                "inside the artifacts of a run here"
            )
        rest = path_below(run.artifact_uri, source) if run is not None else None
        if run is not None and rest is not None:
            return _join(run.artifact_uri, rest), run_id
        if model_id:
            model_location, model_run = self._logged_model_location(conn, model_id)
            below_model = path_below(model_location, source)
            if below_model is not None:
                return _join(model_location, below_model), run_id or model_run
        if run is None:
            raise InvalidArgument(
                f"Invalid model version source {source!r}: To use a local path as a model "
                "version source (or a location of this server's artifact proxy), give the "
                "run_id (or model_id) whose artifacts hold it; runs:/ and models:/ URIs need "
                "neither"
            )
        raise InvalidArgument(
            f"Invalid model version source {source!r}: it is not inside the artifacts of "
            f"run {run_id} ({run.artifact_uri}). To use a local path as a model version "
            "source, it must lie inside the artifact directory of the run given as run_id"
        )

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
        tag_map = registry_tag_rows(tags or [], "model version tag")
        if run_id:
            validate_run_id(run_id)
        if run_link is not None and len(str(run_link)) > MAX_RUN_LINK_LENGTH:
            raise InvalidArgument(f"Invalid run_link: longer than {MAX_RUN_LINK_LENGTH} characters")
        description = check_description(description)

        def create(conn: Connection) -> ModelVersion:
            model = self._core.model_row(conn, name)
            location, linked_run = self._resolve_source(
                conn, source, run_id or None, model_id or None
            )
            parsed = parse_models_uri(source)
            model_ref = model_id or (parsed.model_id if parsed is not None else None)
            now = now_ms()
            # Take the number under the row lock the UPDATE holds until commit.
            conn.execute(
                update(registered_models_table)
                .where(_M.id == model.id)
                .values(next_version=_M.next_version + 1, last_updated_time=now)
            )
            number = conn.execute(select(_M.next_version).where(_M.id == model.id)).scalar_one()
            number -= 1
            result = conn.execute(
                insert(model_versions_table).values(
                    model_id=model.id,
                    version=number,
                    creation_time=now,
                    last_updated_time=now,
                    description=description,
                    current_stage=STAGE_NONE,
                    source=source,
                    storage_location=location,
                    run_id=linked_run,
                    run_link=run_link or None,
                    status=ModelVersionStatus.to_string(ModelVersionStatus.READY),
                    model_ref=model_ref,
                )
            )
            (version_pk,) = result.inserted_primary_key or (None,)
            if model_ref:
                _record_on_logged_model(conn, model_ref, model.name, number)
            if tag_map:
                conn.execute(
                    insert(model_version_tags_table),
                    [{"version_id": version_pk, "key": k, "value": v} for k, v in tag_map.items()],
                )
            self._core.emit(
                conn,
                "model_version.created",
                {
                    "name": model.name,
                    "version": str(number),
                    "source": source,
                    "run_id": linked_run,
                    "tags": tag_map,
                    "description": description,
                },
            )
            return ModelVersion(
                name=model.name,
                version=number,
                creation_timestamp=now,
                last_updated_timestamp=now,
                description=description,
                current_stage=STAGE_NONE,
                source=source,
                run_id=linked_run,
                tags=tag_map,
                run_link=run_link or None,
                model_id=model_ref,
            )

        return self._core.write(create)

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self._ctx.read(lambda c: self._core.get_model_version(c, name, version))

    def update_model_version(
        self, name: str, version: int | str, description: str | None
    ) -> ModelVersion:
        description = check_description(description)

        def apply(conn: Connection) -> ModelVersion:
            model = self._core.model_row(conn, name)
            row = self._core.version_row(conn, model, version)
            conn.execute(
                update(model_versions_table)
                .where(_V.id == row.id)
                .values(description=description, last_updated_time=now_ms())
            )
            return self._core.get_model_version(conn, name, version)

        return self._core.write(apply)

    def delete_model_version(self, name: str, version: int | str) -> None:
        def apply(conn: Connection) -> None:
            model = self._core.model_row(conn, name)
            row = self._core.version_row(conn, model, version)
            conn.execute(delete(model_versions_table).where(_V.id == row.id))
            conn.execute(
                update(registered_models_table)
                .where(_M.id == model.id)
                .values(last_updated_time=now_ms())
            )

        self._core.write(apply)

    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        target = canonical_stage(stage)
        if archive_existing_versions and target not in ACTIVE_STAGES:
            raise InvalidArgument(
                "Model version transition cannot archive existing model versions because "
                f"'{target}' is not an Active stage. Valid stages are {list(ACTIVE_STAGES)}"
            )

        def apply(conn: Connection) -> ModelVersion:
            model = self._core.model_row(conn, name)
            row = self._core.version_row(conn, model, version)
            now = now_ms()
            conn.execute(
                update(model_versions_table)
                .where(_V.id == row.id)
                .values(current_stage=target, last_updated_time=now)
            )
            archived: list[int] = []
            if archive_existing_versions:
                others = select(_V.id, _V.version).where(
                    _V.model_id == model.id, _V.current_stage == target, _V.id != row.id
                )
                found = conn.execute(others).all()
                archived = sorted(r.version for r in found)
                if found:
                    conn.execute(
                        update(model_versions_table)
                        .where(_V.id.in_([r.id for r in found]))
                        .values(current_stage=STAGE_ARCHIVED, last_updated_time=now)
                    )
            conn.execute(
                update(registered_models_table)
                .where(_M.id == model.id)
                .values(last_updated_time=now)
            )
            self._core.emit(
                conn,
                "model_version.stage_changed",
                {
                    "name": model.name,
                    "version": str(row.version),
                    "from_stage": row.current_stage,
                    "to_stage": target,
                    "archived_versions": [str(v) for v in archived],
                },
            )
            return self._core.get_model_version(conn, name, row.version)

        return self._core.write(apply)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        wanted = self._core.stages(stages)

        def get(conn: Connection) -> list[ModelVersion]:
            model = self._core.model_row(conn, name)
            rows = self._core.latest_version_rows(conn, [model.id], wanted)
            rows.sort(key=lambda r: wanted.index(r.current_stage))
            return self._core.load_versions(conn, rows, {model.id: model.name})

        return self._ctx.read(get)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        def get(conn: Connection) -> str:
            row = self._core.version_row(conn, self._core.model_row(conn, name), version)
            return str(row.storage_location)

        return self._ctx.read(get)

    # -- tags --------------------------------------------------------------------------------
    def set_model_version_tag(self, name: str, version: int | str, tag: ModelVersionTag) -> None:
        rows = registry_tag_rows([tag], "model version tag")

        def apply(conn: Connection) -> None:
            model = self._core.model_row(conn, name)
            row = self._core.version_row(conn, model, version)
            self._ctx.upsert(
                conn,
                model_version_tags_table,
                [{"version_id": row.id, "key": k, "value": v} for k, v in rows.items()],
                ["version_id", "key"],
                ["value"],
            )
            for k, v in rows.items():
                self._core.emit(
                    conn,
                    "model_version_tag.set",
                    {"name": model.name, "version": str(row.version), "key": k, "value": v},
                )

        self._core.write(apply)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        def apply(conn: Connection) -> None:
            model = self._core.model_row(conn, name)
            row = self._core.version_row(conn, model, version)
            result = conn.execute(
                delete(model_version_tags_table).where(_T.version_id == row.id, _T.key == key)
            )
            if result.rowcount:
                self._core.emit(
                    conn,
                    "model_version_tag.deleted",
                    {"name": model.name, "version": str(row.version), "key": key},
                )

        self._core.write(apply)
