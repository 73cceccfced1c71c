"""Column types shared by the schema and the migrations.

Strings compare byte-wise on every backend (``utf8mb4_bin`` tables on MySQL, collation "C"
on PostgreSQL, SQLite's default), so filters, sorting and uniqueness agree everywhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.dialects import mysql, postgresql

__all__ = ["MYSQL_TABLE_ARGS", "Blob", "Id", "LongText", "Str"]

MYSQL_TABLE_ARGS: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}

# Ids: BIGINT on servers, INTEGER on SQLite (where only INTEGER PRIMARY KEY is the rowid).
Id = BigInteger().with_variant(Integer(), "sqlite")
LongText = (
    Text()
    .with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
    .with_variant(postgresql.TEXT(collation="C"), "postgresql")
)
Blob = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


def Str(length: int) -> Any:
    return String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")
