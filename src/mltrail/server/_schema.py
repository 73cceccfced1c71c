"""Request schemas: one description per field, used to parse requests and to write OpenAPI.

A field is a JSON Schema fragment (the subset OpenAPI 3.1 uses) built with the helpers below.
:func:`parse_query` reads a GET request's query string (lists as repeated keys) and
:func:`parse_body` a POST/PATCH/DELETE request's JSON object; both check every declared field
against its schema and raise ``InvalidArgument`` naming the field and the rule.  Unknown fields
are ignored, as MLflow's server does (its clients send fields an older server does not know).

Conventions of MLflow's proto3 JSON that are accepted: int64 values as numbers or decimal
strings; metric values as numbers or the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
enums by name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "array",
    "boolean",
    "double",
    "enum",
    "int32",
    "int64",
    "key_value",
    "numeric_id",
    "obj",
    "parse_body",
    "parse_query",
    "string",
]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MAX = 2**31 - 1
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


# -- schema builders ----------------------------------------------------------------------------


def string(description: str = "", *, max_length: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if max_length is not None:
        schema["maxLength"] = max_length
    if description:
        schema["description"] = description
    return schema


def numeric_id(description: str = "") -> dict[str, Any]:
    """An id sent as a string of decimal digits (experiment ids)."""
    schema: dict[str, Any] = {"type": "string", "pattern": "^[0-9]{1,18}$", "x-kind": "id"}
    if description:
        schema["description"] = description
    return schema


def int64(
    description: str = "", *, minimum: int = INT64_MIN, maximum: int = INT64_MAX
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "integer",
        "format": "int64",
        "minimum": minimum,
        "maximum": maximum,
    }
    if description:
        schema["description"] = description
    return schema


def int32(description: str = "", *, minimum: int = 0, maximum: int = INT32_MAX) -> dict[str, Any]:
    schema = int64(description, minimum=minimum, maximum=maximum)
    schema["format"] = "int32"
    return schema


def double(description: str = "") -> dict[str, Any]:
    """A metric value: a JSON number or one of "NaN", "Infinity", "-Infinity"."""
    schema: dict[str, Any] = {
        "oneOf": [{"type": "number"}, {"type": "string", "enum": list(_SPECIAL_FLOATS)}],
        "x-kind": "double",
    }
    if description:
        schema["description"] = description
    return schema


def boolean(description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "boolean"}
    if description:
        schema["description"] = description
    return schema


def enum(values: Sequence[str], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "enum": list(values)}
    if description:
        schema["description"] = description
    return schema


def array(items: dict[str, Any], description: str = "", *, max_items: int | None = None) -> Any:
    schema: dict[str, Any] = {"type": "array", "items": items}
    if max_items is not None:
        schema["maxItems"] = max_items
    if description:
        schema["description"] = description
    return schema


def obj(
    properties: Mapping[str, dict[str, Any]], required: Sequence[str] = (), description: str = ""
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": dict(properties)}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


def key_value(value_max: int | None = None) -> dict[str, Any]:
    """A ``{"key": ..., "value": ...}`` tag or param."""
    return obj({"key": string(max_length=250), "value": string(max_length=value_max)}, ["key"])


# -- validation ---------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _invalid(path: str, value: Any, rule: str) -> InvalidArgument:
    return InvalidArgument(f"Invalid value {_shown(value)} for parameter '{path}': {rule}")


def _missing(path: str) -> InvalidArgument:
    return InvalidArgument(
        f"Missing value for required parameter '{path}'. See the API docs for more "
        "information about request parameters."
    )


def _check_string(path: str, value: str, schema: dict[str, Any]) -> str:
    if "\x00" in value:
        raise _invalid(path, value, "NUL characters are not allowed")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _invalid(path, value, "must be valid Unicode (no lone surrogates)") from None
    limit = schema.get("maxLength")
    if limit is not None and len(value) > limit:
        raise _invalid(path, value, f"at most {limit} characters (got {len(value)})")
    allowed = schema.get("enum")
    if allowed is not None and value not in allowed:
        upper = value.upper()
        if upper in allowed:
            return upper
        raise _invalid(path, value, f"must be one of {', '.join(allowed)}")
    return value


def _check_int(path: str, value: Any, schema: dict[str, Any], from_query: bool) -> int:
    number: int
    if isinstance(value, bool):
        raise _invalid(path, value, "must be an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit() and len(value) < 40:
        number = int(value.strip())
    else:
        raise _invalid(path, value, "must be an integer")
    low, high = schema.get("minimum", INT64_MIN), schema.get("maximum", INT64_MAX)
    if not low <= number <= high:
        raise _invalid(path, value, f"must be between {low} and {high}")
    return number


def _check_double(path: str, value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise _invalid(path, value, "must be a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        if value in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[value]
        try:
            return float(value)
        except ValueError:
            pass
    raise _invalid(path, value, 'must be a number (or "NaN", "Infinity", "-Infinity")')


def _check_bool(path: str, value: Any, from_query: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_query and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _invalid(path, value, "must be true or false")


def check_value(path: str, value: Any, schema: dict[str, Any], from_query: bool = False) -> Any:
    """*value* checked against *schema* and converted (ints, floats, upper-cased enums)."""
    kind_x = schema.get("x-kind")
    if kind_x == "double":
        return _check_double(path, value)
    if kind_x == "id":
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a client may send a numeric id as a JSON number
        if not isinstance(value, str) or not value.isdigit() or len(value) > 18:
            raise _invalid(path, value, "must be an id of at most 18 decimal digits")
        return value
    kind = schema.get("type")
    if kind == "string":
        if isinstance(value, str):
            return _check_string(path, value, schema)
        if "enum" in schema and isinstance(value, int) and not isinstance(value, bool):
            names = schema["enum"]
            if 1 <= value <= len(names):  # proto3 JSON may send an enum by number
                return names[value - 1]
        raise _invalid(path, value, "must be a string")
    if kind == "integer":
        return _check_int(path, value, schema, from_query)
    if kind == "boolean":
        return _check_bool(path, value, from_query)
    if kind == "array":
        if not isinstance(value, list):
            raise _invalid(path, value, "must be a list")
        limit = schema.get("maxItems")
        if limit is not None and len(value) > limit:
            raise _invalid(path, value, f"at most {limit} items (got {len(value)})")
        items = schema["items"]
        return [check_value(f"{path}[{i}]", v, items, from_query) for i, v in enumerate(value)]
    if kind == "object":
        if not isinstance(value, dict):
            raise _invalid(path, value, "must be an object")
        return check_object(value, schema, path + ".")
    raise AssertionError(f"unsupported schema for {path}: {schema}")  # pragma: no cover


def check_object(data: Mapping[str, Any], schema: dict[str, Any], prefix: str = "") -> Any:
    out: dict[str, Any] = {}
    required = schema.get("required", ())
    for name, field_schema in schema.get("properties", {}).items():
        value = data.get(name)
        if value is None:
            if name in required:
                raise _missing(prefix + name)
            continue
        out[name] = check_value(prefix + name, value, field_schema)
    return out


def parse_body(body: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """Check a decoded JSON body (must be an object) against an object schema."""
    if not isinstance(body, dict):
        raise InvalidArgument("Invalid request body: expected a JSON object")
    result: dict[str, Any] = check_object(body, schema)
    return result


def parse_query(query: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """Check a query string (a Starlette ``QueryParams``) against an object schema.

    Lists are repeated keys (``run_ids=a&run_ids=b``); ``name[]`` is accepted too.
    """
    out: dict[str, Any] = {}
    required = schema.get("required", ())
    for name, field_schema in schema.get("properties", {}).items():
        if field_schema.get("type") == "array":
            values = query.getlist(name) + query.getlist(name + "[]")
            if values:
                out[name] = check_value(name, values, field_schema, True)
            elif name in required:
                raise _missing(name)
            continue
        value = query.get(name)
        if value is None or (value == "" and field_schema.get("type") != "string"):
            if name in required:
                raise _missing(name)
            continue
        out[name] = check_value(name, value, field_schema, True)
    return out
