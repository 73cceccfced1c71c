"""Tables of MLflow 3's logged models, on the tracking schema's ``metadata``.

Design notes:
- logged models have an integer surrogate key ``id`` used by every child table; ``model_id``
  (``m-<32 hex>``) is the public id.  ``source_run_id`` is the public id of the run that made
  the model, kept as text (the run may be deleted later, the model stays).
- metric points linked to a model are rows (a model has few), with NaN and infinities kept
  exactly by a ``special`` code as in ``latest_metrics``; ``run_id``, ``dataset_name`` and
  ``dataset_digest`` are '' when absent so that equality checks need no NULL logic.
- ``logged_model_run_links`` says which runs produced (``kind`` 'output', with the step) and
  used (``kind`` 'input') which models; it goes with the run and with the model.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    UniqueConstraint,
)

from mltrail.store.sql._schema import metadata
from mltrail.store.sql._types import MYSQL_TABLE_ARGS, Id, LongText, Str

__all__ = [
    "logged_model_metrics_table",
    "logged_model_params_table",
    "logged_model_run_links_table",
    "logged_model_tags_table",
    "logged_models_table",
]

_MYSQL = MYSQL_TABLE_ARGS

logged_models_table = Table(
    "logged_models",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("model_id", Str(64), nullable=False),
    Column(
        "experiment_id",
        Id,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", Str(500), nullable=False),
    Column("source_run_id", Str(256), nullable=True),
    Column("model_type", Str(500), nullable=True),
    Column("status", Str(20), nullable=False),
    Column("status_message", LongText, nullable=True),
    Column("artifact_location", Str(2000), nullable=False),
    Column("lifecycle_stage", Str(20), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    UniqueConstraint("model_id", name="uq_logged_models_model_id"),
    Index("ix_logged_models_experiment", "experiment_id", "lifecycle_stage", "creation_time"),
    Index("ix_logged_models_source_run", "source_run_id"),
    sqlite_autoincrement=True,
    **_MYSQL,
)


def _model_fk() -> Column[int]:
    return Column(
        "model_pk", Id, ForeignKey("logged_models.id", ondelete="CASCADE"), nullable=False
    )


def _key_value_table(name: str) -> Table:
    """``logged_model_tags`` or ``logged_model_params``: (model, key) -> value."""
    table = f"logged_model_{name}"
    return Table(
        table,
        metadata,
        _model_fk(),
        Column("key", Str(255), nullable=False),
        Column("value", LongText, nullable=False),
        PrimaryKeyConstraint("model_pk", "key", name=f"pk_{table}"),
        Index(f"ix_{table}_key_value", "key", "value", "model_pk", mysql_length={"value": 200}),
        **_MYSQL,
    )


logged_model_tags_table = _key_value_table("tags")
logged_model_params_table = _key_value_table("params")

logged_model_metrics_table = Table(
    "logged_model_metrics",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    _model_fk(),
    Column("key", Str(250), nullable=False),
    Column("value", Double(), nullable=True),
    Column("special", SmallInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("run_id", Str(256), nullable=False),
    Column("dataset_name", Str(500), nullable=False),
    Column("dataset_digest", Str(64), nullable=False),
    Index("ix_logged_model_metrics_model_key", "model_pk", "key", "timestamp", "step"),
    Index("ix_logged_model_metrics_key_value", "key", "value", "model_pk"),
    sqlite_autoincrement=True,
    **_MYSQL,
)

logged_model_run_links_table = Table(
    "logged_model_run_links",
    metadata,
    Column("run_id", Id, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    _model_fk(),
    Column("kind", Str(10), nullable=False),
    Column("step", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_id", "model_pk", "kind", "step", name="pk_logged_model_run_links"),
    Index("ix_logged_model_run_links_model", "model_pk"),
    **_MYSQL,
)
