"""Prepared statements (store/sql/_prepared.py) on every SQL backend: results, inserted keys,
IN lists longer than one slice, and errors wrapped as SQLAlchemy wraps them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from mltrail.store.sql._engine import create_db_engine, write_transaction
from mltrail.store.sql._prepared import IN_SLICE, Prepared, PreparedIn, bound

_meta = MetaData()
_items = Table(
    "prepared_items",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(50), nullable=False, unique=True),
    Column("size", BigInteger, nullable=False),
    Column("score", Double, nullable=True),
)
_c = _items.c


def _insert(dialect: str) -> object:
    stmt = insert(_items).values(**bound("name", "size", "score"))
    return stmt.returning(_c.id) if dialect == "postgresql" else stmt


INSERT = Prepared(_insert)
BY_NAME = Prepared(lambda _: select(_items).where(_c.name == bindparam("name")))
BY_IDS = PreparedIn(
    lambda _, n: (
        select(_c.id, _c.name)
        .where(_c.id.in_(PreparedIn.names(n)), _c.size >= bindparam("min_size"))
        .order_by(_c.id)
    )
)


@pytest.fixture
def engine(db_uri: str) -> Iterator[Engine]:
    engine = create_db_engine(db_uri)
    _meta.drop_all(engine)
    _meta.create_all(engine)
    try:
        yield engine
    finally:
        _meta.drop_all(engine)
        engine.dispose()


def test_rows_keys_and_in_lists(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        ids = [
            INSERT.insert(conn, {"name": f"n{i}", "size": i, "score": i / 2})
            for i in range(IN_SLICE + 7)
        ]
    assert len(set(ids)) == len(ids)
    with write_transaction(engine) as conn:
        row = BY_NAME.first(conn, {"name": "n3"})
        assert row is not None
        assert (row.id, row.name, row.size, row.score) == (ids[3], "n3", 3, 1.5)
        assert isinstance(row.score, float)
        assert BY_NAME.first(conn, {"name": "absent"}) is None
        found = BY_IDS.all(conn, ids, {"min_size": 5})
        # every id past the first five, across both slices, once each
        assert [r.id for r in found] == ids[5:]
        assert BY_IDS.all(conn, [], {"min_size": 0}) == []


def test_errors_are_wrapped_and_roll_back(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        INSERT.insert(conn, {"name": "taken", "size": 1, "score": None})

    def clash() -> None:
        with write_transaction(engine) as conn:
            INSERT.insert(conn, {"name": "other", "size": 2, "score": None})
            INSERT.insert(conn, {"name": "taken", "size": 3, "score": None})

    with pytest.raises(IntegrityError):
        clash()
    with write_transaction(engine) as conn:
        assert BY_NAME.first(conn, {"name": "other"}) is None  # the failed transaction is undone
        assert BY_NAME.first(conn, {"name": "taken"}).size == 1


def test_expanding_parameters_are_refused(engine: Engine) -> None:
    bad = Prepared(lambda _: select(_c.id).where(_c.id.in_([1, 2, 3])))
    with write_transaction(engine) as conn, pytest.raises(ValueError, match="not a plain"):
        bad.all(conn)
