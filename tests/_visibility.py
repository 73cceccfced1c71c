"""Helpers of the visibility tests (``tests/store``, ``tests/registry``): walking every page of
a search, counting the statements a search sends, and the REST backend's refusal."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from sqlalchemy import event

from mltrail._exceptions import NotImplementedYet
from mltrail.store import Backend
from mltrail.store.rest import RestBackend
from mltrail.store.sql import SqlBackend

__all__ = ["BIG", "counted_statements", "pages", "refused_over_rest"]

T = TypeVar("T")
#: The length of the big allow- and deny-lists (past SQLite's 32,766 bound parameters when
#: doubled, and past every IN list the store would send in one statement).
BIG = 20_000


def pages(search: Callable[[str | None], Sequence[T]], size: int) -> list[T]:
    """Every item of a paged search, asserting that each page but the last is full, that the
    last one ends the walk, and that no item comes twice."""
    out: list[T] = []
    token: str | None = None
    for _ in range(1000):
        page = search(token)
        token = page.token  # type: ignore[attr-defined]
        out += page
        if token is None:
            assert len(page) <= size
            break
        assert len(page) == size, f"a short page ({len(page)} of {size}) before the last"
    else:  # pragma: no cover - a search that never ends
        raise AssertionError("the search did not end")
    keys = [repr(item) for item in out]
    assert len(set(keys)) == len(keys), "an item came twice"
    return out


@contextmanager
def counted_statements(store: Backend) -> Iterator[list[str]]:
    """The statements the SQL backend's engine sends (through SQLAlchemy) meanwhile."""
    assert isinstance(store, SqlBackend)
    engine = store._ctx.engine
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def refused_over_rest(store: Backend, search: Callable[[], object]) -> bool:
    """On the REST backend, check that a search with ``visible=`` is refused (the server
    applies its callers' permissions itself) and return True; False on the others."""
    if not isinstance(store, RestBackend):
        return False
    with pytest.raises(NotImplementedYet, match="applies its callers' permissions itself"):
        search()
    return True
