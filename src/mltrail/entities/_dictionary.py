"""``to_dictionary`` / ``from_dictionary``: MLflow's plain-dict view of an entity, and back.

MLflow's dictionary of an entity maps each of its attributes to its value; a few entities
reshape some attributes (tags as a mapping, nested entities as their own dictionaries).  The
mixin below does the common part from the dataclass fields; an entity names its reshaped
attributes in ``_TO_DICTIONARY`` / ``_FROM_DICTIONARY`` (field name -> converter).

``from_dictionary`` takes what MLflow's ``to_dictionary`` (or ``dict(entity)``) gives: nested
values may be dictionaries, mltrail entities or MLflow's entities, and tags or params may be a
mapping or a list of key/value pairs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, TypeVar

from mltrail._exceptions import InvalidArgument

__all__ = ["Dictionary", "as_entity", "dictionaries", "entities_of", "mapping_of", "to_dictionary"]

E = TypeVar("E", bound="Dictionary")
T = TypeVar("T", bound="_HasFromDictionary")


class _HasFromDictionary(Protocol):
    @classmethod
    def from_dictionary(cls: type[T], the_dict: dict[str, Any]) -> T: ...


class Dictionary:
    """Mixin of dataclass entities: ``to_dictionary()`` gives each field (through the
    entity's ``_TO_DICTIONARY`` converters); ``from_dictionary`` takes the keys that are
    fields (through ``_FROM_DICTIONARY``) and ignores the others, as MLflow's."""

    __slots__ = ()
    _TO_DICTIONARY: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}
    _FROM_DICTIONARY: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}
    #: Whether MLflow's dictionary lists the attributes in name order (else in field order).
    _NAME_ORDER: ClassVar[bool] = False

    def to_dictionary(self) -> dict[str, Any]:
        convert = self._TO_DICTIONARY
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = convert[f.name](value) if f.name in convert else value
        return dict(sorted(out.items())) if self._NAME_ORDER else out

    @classmethod
    def from_dictionary(cls: type[E], the_dict: dict[str, Any]) -> E:
        convert = cls._FROM_DICTIONARY
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        names = {f.name for f in fields}
        required = [
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        missing = [name for name in required if name not in the_dict]
        if missing:
            raise InvalidArgument(
                f"{cls.__name__}.from_dictionary: the dictionary lacks {', '.join(missing)} "
                f"(it needs {', '.join(required)})"
            )
        return cls(
            **{k: convert[k](v) if k in convert else v for k, v in the_dict.items() if k in names}
        )


def to_dictionary(entity: Any) -> Any:
    """An entity's dictionary (a converter for ``_TO_DICTIONARY``)."""
    return entity.to_dictionary()


def dictionaries(entities: Any) -> list[Any]:
    """Each entity's dictionary (a converter for ``_TO_DICTIONARY``)."""
    return [entity.to_dictionary() for entity in entities]


def as_entity(cls: type[T], value: Any) -> T:
    """*value* as a *cls*: itself, built from its dictionary, or from another library's entity
    of the same kind (its ``to_dictionary()``, else its attribute pairs, as MLflow's entities
    iterate)."""
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        return cls.from_dictionary(dict(value))
    if callable(getattr(value, "to_dictionary", None)):
        return cls.from_dictionary(value.to_dictionary())
    try:
        pairs = dict(value)
    except (TypeError, ValueError):
        raise InvalidArgument(
            f"{cls.__name__}.from_dictionary: expected a {cls.__name__}, a dictionary of its "
            f"attributes or an entity, got {type(value).__name__}"
        ) from None
    return cls.from_dictionary(pairs)


def entities_of(cls: type[T]) -> Callable[[Any], list[T]]:
    """A converter: a list (or None) of *cls* values in any :func:`as_entity` form."""

    def convert(values: Any) -> list[T]:
        return [as_entity(cls, v) for v in values or ()]

    return convert


def mapping_of(value: Any) -> dict[str, str]:
    """Tags or params as ``{key: value}``: from a mapping, or from a list of key/value pairs
    (``{"key": ..., "value": ...}`` dictionaries or entities with ``key`` and ``value``)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    out = {}
    for item in value:
        if isinstance(item, Mapping):
            out[item["key"]] = item.get("value", "")
        else:
            out[item.key] = item.value
    return out
