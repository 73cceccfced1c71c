"""``entities._bulk.build_many``: instances built a column at a time equal constructed ones."""

from __future__ import annotations

import dataclasses

import pytest

from mltrail.entities import ModelVersion
from mltrail.entities._bulk import build_many

FIELDS = tuple(f.name for f in dataclasses.fields(ModelVersion))


def _constructed(i: int) -> ModelVersion:
    return ModelVersion(
        name=f"m{i}",
        version=i,
        creation_timestamp=1000 + i,
        last_updated_timestamp=2000 + i,
        description=None if i % 2 else f"d{i}",
        user_id="u",
        current_stage="Staging",
        source=f"runs:/r{i}/model",
        run_id=f"r{i}",
        status="READY",
        status_message=None,
        tags={"k": str(i)},
        run_link=None,
        aliases=[f"a{i}"],
        model_id=None,
    )


def test_build_many_equals_the_constructor() -> None:
    expected = [_constructed(i) for i in range(5)]
    # columns in another order than the fields': build_many goes by name
    fields = tuple(reversed(FIELDS))
    columns = [[getattr(e, f) for e in expected] for f in fields]
    built = build_many(ModelVersion, fields, columns)
    assert built == expected
    assert all(type(b) is ModelVersion for b in built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built[0].name = "x"  # type: ignore[misc]
    assert build_many(ModelVersion, FIELDS, [[] for _ in FIELDS]) == []


def test_build_many_refuses_a_wrong_field_list() -> None:
    columns = [[1] for _ in FIELDS]
    with pytest.raises(TypeError, match="not exactly its fields"):
        build_many(ModelVersion, FIELDS[:-1], columns[:-1])
    with pytest.raises(TypeError, match="not exactly its fields"):
        build_many(ModelVersion, (*FIELDS[:-1], FIELDS[0]), columns)
    with pytest.raises(ValueError, match="columns of different lengths"):
        build_many(ModelVersion, FIELDS, [*columns[:-1], [1, 2]])
    with pytest.raises(ValueError, match="fields but"):
        build_many(ModelVersion, FIELDS, columns[:-1])


def test_build_many_refuses_classes_it_would_build_wrongly() -> None:
    @dataclasses.dataclass
    class NoSlots:
        a: int

    @dataclasses.dataclass(slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("a < 0")

    with pytest.raises(TypeError, match="not a slots dataclass"):
        build_many(NoSlots, ["a"], [[1]])
    with pytest.raises(TypeError, match="__post_init__"):
        build_many(Checked, ["a"], [[-1]])
