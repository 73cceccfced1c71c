"""What each kind of search may filter and sort on, and which operators each field takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from mltrail.search._ast import Entity

__all__ = [
    "DATASET_KEYS",
    "KINDS",
    "NULL_OPS",
    "NUMERIC_OPS",
    "PREFIXES",
    "STRING_OPS",
    "FieldType",
    "KindSpec",
    "ops_for",
]

# How a field compares: the operators it takes and the type of its values.
#   metric:  numeric operators and IS [NOT] NULL, float values (NaN, +-Infinity included)
#   integer: numeric operators, int values (times in milliseconds, version numbers)
#   string:  equality, LIKE family and IN lists, str values
#   keyed:   a string field that may be missing (params, tags): string operators and IS [NOT] NULL
#   optional_integer: an integer that may be missing (a run's end_time while it runs)
FieldType: TypeAlias = Literal["metric", "integer", "optional_integer", "string", "keyed"]

NUMERIC_OPS: tuple[str, ...] = ("=", "!=", "<", "<=", ">", ">=")
STRING_OPS: tuple[str, ...] = ("=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "IN", "NOT IN")
NULL_OPS: tuple[str, ...] = ("IS NULL", "IS NOT NULL")

_OPS: dict[FieldType, tuple[str, ...]] = {
    "metric": NUMERIC_OPS + NULL_OPS,
    "integer": NUMERIC_OPS,
    "optional_integer": NUMERIC_OPS + NULL_OPS,
    "string": STRING_OPS,
    "keyed": STRING_OPS + NULL_OPS,
}


def ops_for(field: FieldType) -> tuple[str, ...]:
    """The operators a field of this type accepts, in a stable order for messages."""
    return _OPS[field]


# Every prefix spelling, normalised.
PREFIXES: dict[str, Entity] = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
    "dataset": "dataset",
    "datasets": "dataset",
}
# How an entity's prefixes are listed in messages.
_SPELLINGS: dict[Entity, str] = {
    "attribute": "attributes (attribute, attr, run)",
    "dataset": "datasets (dataset)",
    "metric": "metrics (metric)",
    "param": "params (param)",
    "tag": "tags (tag)",
}


@dataclass(frozen=True, slots=True)
class KindSpec:
    """The searchable fields of one kind of entity."""

    noun: str  # singular, for messages: "run", "experiment", ...
    filter_entities: tuple[Entity, ...]  # prefixes a filter may use
    attributes: dict[str, FieldType]  # filterable attributes
    order_entities: tuple[Entity, ...]  # prefixes an order_by item may use
    order_attributes: tuple[str, ...]  # sortable attributes
    aliases: dict[str, str]  # attribute spellings -> canonical key
    entity_fields: dict[Entity, FieldType]  # the field type of non-attribute entities
    example: str  # a few valid fields, for messages

    def prefixes_text(self, entities: tuple[Entity, ...]) -> str:
        return ", ".join(_SPELLINGS[e] for e in sorted(entities))


_KEYED: dict[Entity, FieldType] = {"param": "keyed", "tag": "keyed", "metric": "metric"}

DATASET_KEYS: tuple[str, ...] = ("context", "digest", "name")

KINDS: dict[str, KindSpec] = {
    "runs": KindSpec(
        noun="run",
        filter_entities=("metric", "param", "tag", "attribute", "dataset"),
        attributes={
            "run_id": "string",
            "run_name": "string",
            "status": "string",
            "user_id": "string",
            "artifact_uri": "string",
            "lifecycle_stage": "string",
            "start_time": "integer",
            "end_time": "optional_integer",
            "experiment_id": "string",
        },
        order_entities=("metric", "param", "tag", "attribute"),
        order_attributes=(
            "run_id",
            "run_name",
            "status",
            "user_id",
            "artifact_uri",
            "start_time",
            "end_time",
            "experiment_id",
        ),
        aliases={"created": "start_time", "Created": "start_time"},
        entity_fields={**_KEYED, "dataset": "string"},
        example="metrics.acc, params.lr, tags.team or an attribute such as status",
    ),
    "experiments": KindSpec(
        noun="experiment",
        filter_entities=("tag", "attribute"),
        attributes={
            "name": "string",
            "experiment_id": "string",
            "creation_time": "integer",
            "last_update_time": "integer",
        },
        order_entities=("attribute",),
        order_attributes=("name", "experiment_id", "creation_time", "last_update_time"),
        aliases={},
        entity_fields={"tag": "keyed"},
        example="name, creation_time or tags.team",
    ),
    "registered_models": KindSpec(
        noun="registered model",
        filter_entities=("tag", "attribute"),
        attributes={"name": "string"},
        order_entities=("attribute",),
        order_attributes=("name", "creation_timestamp", "last_updated_timestamp"),
        aliases={},
        entity_fields={"tag": "keyed"},
        example="name or tags.team",
    ),
    "model_versions": KindSpec(
        noun="model version",
        filter_entities=("tag", "attribute"),
        attributes={
            "name": "string",
            "run_id": "string",
            "source_path": "string",
            "current_stage": "string",
            "version_number": "integer",
        },
        order_entities=("attribute",),
        order_attributes=(
            "name",
            "version_number",
            "creation_timestamp",
            "last_updated_timestamp",
            "run_id",
        ),
        aliases={"version": "version_number"},
        entity_fields={"tag": "keyed"},
        example="name, version_number or tags.team",
    ),
    "logged_models": KindSpec(
        noun="logged model",
        filter_entities=("metric", "param", "tag", "attribute"),
        attributes={
            "name": "string",
            "model_id": "string",
            "status": "string",
            "source_run_id": "string",
            "model_type": "string",
            "experiment_id": "string",
            "creation_timestamp": "integer",
            "last_updated_timestamp": "integer",
        },
        order_entities=("metric", "attribute"),
        order_attributes=(
            "name",
            "model_id",
            "status",
            "source_run_id",
            "model_type",
            "experiment_id",
            "creation_timestamp",
            "last_updated_timestamp",
        ),
        aliases={
            "creation_time": "creation_timestamp",
            "creation_timestamp_ms": "creation_timestamp",
            "last_updated_timestamp_ms": "last_updated_timestamp",
        },
        entity_fields=dict(_KEYED),
        example="name, status, metrics.accuracy, params.alpha or tags.team",
    ),
}
