"""Column types shared by the schema and the migrations.

Strings compare byte-wise on every backend (``utf8mb4_bin`` tables on MySQL, collation "C"
on PostgreSQL, SQLite's default), so filters, sorting and uniqueness agree everywhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Dialect, Integer, LargeBinary, String, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["MYSQL_TABLE_ARGS", "Blob", "Id", "LongText", "Str"]

MYSQL_TABLE_ARGS: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}

# Ids: BIGINT on servers, INTEGER on SQLite (where only INTEGER PRIMARY KEY is the rowid).
Id = BigInteger().with_variant(Integer(), "sqlite")


class _LongText(TypeDecorator[str]):
    """TEXT; MEDIUMTEXT on MySQL/MariaDB (whose TEXT holds 64 KiB only); collation C on PG.

    The MySQL type is imported only when a MySQL dialect asks: SQLite users never load the
    server dialects (they cost tens of milliseconds of start-up).
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import MEDIUMTEXT

            return dialect.type_descriptor(MEDIUMTEXT())
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Text(collation="C"))
        return dialect.type_descriptor(Text())


class _Blob(TypeDecorator[bytes]):
    """BLOB; LONGBLOB on MySQL/MariaDB (whose BLOB holds 64 KiB only)."""

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import LONGBLOB

            return dialect.type_descriptor(LONGBLOB())
        return dialect.type_descriptor(LargeBinary())


LongText = _LongText()
Blob = _Blob()


def Str(length: int) -> Any:
    return String(length).with_variant(String(length, collation="C"), "postgresql")
