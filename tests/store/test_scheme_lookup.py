"""Finding a tracking store by URI scheme."""

from __future__ import annotations

from importlib import metadata

import pytest

from mltrail._exceptions import InvalidArgument
from mltrail.store import BUILTIN_SCHEMES, store_class_for_scheme
from mltrail.store.sql import SqlStore


def test_builtin_schemes_are_also_registered_as_entry_points() -> None:
    registered = {
        ep.name: ep.value
        for ep in metadata.distribution("mltrail").entry_points
        if ep.group == "mltrail.tracking_store"
    }
    for scheme, target in BUILTIN_SCHEMES.items():
        assert registered.get(scheme) == target, scheme


@pytest.mark.parametrize(
    "scheme", ["sqlite", "postgresql", "postgresql+psycopg", "mysql+pymysql", "mariadb"]
)
def test_sql_schemes_resolve_to_the_sql_store(scheme: str) -> None:
    assert store_class_for_scheme(scheme) is SqlStore


def test_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(InvalidArgument) as info:
        store_class_for_scheme("nosuchdb")
    message = str(info.value)
    assert "'nosuchdb'" in message
    assert "sqlite" in message
    assert "postgresql" in message
