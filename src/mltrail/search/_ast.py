"""The nodes a parsed filter or ``order_by`` clause is made of.

A filter parses into an expression tree of :class:`Comparison` leaves joined by :class:`And`,
:class:`Or` and :class:`Not`.  The nodes are frozen, slotted dataclasses: cheap to build, hashable
and compared by value, so a test (or a cache) can compare trees directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = [
    "Aggregate",
    "And",
    "Comparison",
    "Entity",
    "Expr",
    "Identifier",
    "Not",
    "Or",
    "OrderKey",
    "SearchKind",
    "Value",
]

Entity: TypeAlias = Literal["metric", "param", "tag", "attribute", "dataset"]
Aggregate: TypeAlias = Literal["latest", "min", "max"]
SearchKind: TypeAlias = Literal[
    "runs", "experiments", "registered_models", "model_versions", "logged_models"
]
Value: TypeAlias = str | float | int | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Identifier:
    """What a comparison or sort key looks at: ``metrics.acc``, ``tags.team``, ``start_time``.

    ``entity`` is the normalised prefix (``metrics.`` and ``metric.`` both give ``"metric"``; a
    bare name is an ``"attribute"``), ``key`` the unquoted key with attribute aliases resolved
    (``created`` is ``start_time``).  ``aggregate`` is ``"min"`` or ``"max"`` only for metrics
    written as ``min(metrics.key)`` / ``max(metrics.key)``.
    """

    entity: Entity
    key: str
    aggregate: Aggregate = "latest"


@dataclass(frozen=True, slots=True)
class Comparison:
    """One ``identifier operator value`` test.

    ``op`` is one of ``= != < <= > >= LIKE ILIKE NOT LIKE NOT ILIKE IN NOT IN IS NULL
    IS NOT NULL``.  ``value`` is a float for metrics (NaN and infinities included), an int for
    time and version attributes, a str for strings, a non-empty tuple of str for ``IN`` and
    ``NOT IN``, and None for ``IS NULL`` / ``IS NOT NULL``.  ``position`` is the 0-based offset
    of the comparison in the filter string.
    """

    ident: Identifier
    op: str
    value: Value
    position: int


@dataclass(frozen=True, slots=True)
class And:
    """All of ``items`` hold (two or more items)."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one of ``items`` holds (two or more items)."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """``item`` does not hold."""

    item: Expr


Expr: TypeAlias = Comparison | And | Or | Not


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One ``order_by`` item: an identifier and a direction (ascending unless ``DESC``)."""

    ident: Identifier
    ascending: bool = True
