"""Keyset (cursor) pagination: pages neither repeat nor skip rows while new ones arrive.

A query is ordered by a list of sort columns ending in a unique one; the page token holds the
last row's sort values, and the next page asks for rows strictly after them.  NULLs always sort
last, whatever the direction (MLflow's "missing values last").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_

__all__ = ["SortColumn", "after_condition", "order_clauses"]


@dataclass(frozen=True)
class SortColumn:
    expr: ColumnElement[Any]
    ascending: bool = True
    nullable: bool = True


def order_clauses(columns: Sequence[SortColumn]) -> list[ColumnElement[Any]]:
    out: list[ColumnElement[Any]] = []
    for col in columns:
        if col.nullable:
            out.append(col.expr.is_(None).asc())
        out.append(col.expr.asc() if col.ascending else col.expr.desc())
    return out


def _equal(col: SortColumn, value: Any) -> ColumnElement[bool]:
    return col.expr.is_(None) if value is None else col.expr == value


def _strictly_after(col: SortColumn, value: Any) -> ColumnElement[bool] | None:
    if value is None:
        return None  # only NULLs follow a NULL, and they tie with it
    beyond = col.expr > value if col.ascending else col.expr < value
    return or_(beyond, col.expr.is_(None)) if col.nullable else beyond


def after_condition(columns: Sequence[SortColumn], last: Sequence[Any]) -> ColumnElement[bool]:
    """Rows that sort strictly after the row whose sort values are *last*."""
    terms: list[ColumnElement[bool]] = []
    for i, col in enumerate(columns):
        beyond = _strictly_after(col, last[i])
        if beyond is not None:
            terms.append(and_(*(_equal(columns[j], last[j]) for j in range(i)), beyond))
    return or_(*terms) if terms else false()
