"""Finding a backend by URI scheme."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from mltrail._exceptions import InvalidArgument
from mltrail.store import BUILTIN_SCHEMES, backend_class_for_scheme
from mltrail.store.sql import SqlBackend


def test_builtin_schemes_are_also_registered_as_entry_points() -> None:
    # pyproject.toml, not the installed metadata: an editable install's metadata is as old as
    # its last `pip install`.
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    registered = project["project"]["entry-points"]["mltrail.tracking_store"]
    for scheme, target in BUILTIN_SCHEMES.items():
        assert registered.get(scheme) == target, scheme


@pytest.mark.parametrize(
    "scheme", ["sqlite", "postgresql", "postgresql+psycopg", "mysql+pymysql", "mariadb"]
)
def test_sql_schemes_resolve_to_the_sql_store(scheme: str) -> None:
    assert backend_class_for_scheme(scheme) is SqlBackend


def test_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(InvalidArgument) as info:
        backend_class_for_scheme("nosuchdb")
    message = str(info.value)
    assert "'nosuchdb'" in message
    assert "sqlite" in message
    assert "postgresql" in message
