"""``from_dictionary``: MLflow's way of building an entity from a dict of its attributes."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

__all__ = ["FromDictionary"]

E = TypeVar("E", bound="FromDictionary")


class FromDictionary:
    """Mixin of dataclass entities: ``Entity.from_dictionary({"key": ..., ...})`` takes the
    keys that are the entity's attributes and ignores the others, as MLflow's."""

    __slots__ = ()

    @classmethod
    def from_dictionary(cls: type[E], the_dict: dict[str, Any]) -> E:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in the_dict.items() if k in names})
