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

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_LIST_ITEMS",
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
#: The bound of a request list that MLflow leaves unbounded (tags given at creation, the
#: experiments of a search): every list a request may carry has one, so that no request makes
#: the server work in proportion to an attacker's patience.
MAX_LIST_ITEMS = 1000
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
#
# A schema is compiled once into nested checker functions (cached by identity: schemas are built
# when the app is and never changed afterwards), so a request pays for the checks and not for
# reading the schema again: a log-batch of 1000 metrics is 4000 field checks.  A checker returns
# the converted value or raises _Bad; the field path of the message (``metrics[3].key``) is put
# together only on that error path, while _Bad travels out through the enclosing arrays and
# objects.

Checker = Callable[[Any], Any]


class _Bad(Exception):
    """A value broke a rule (or a required field is missing); ``parts`` is the path, innermost
    first (``".key"``, ``"[3]"``, ``".metrics"``)."""

    def __init__(self, value: Any, rule: str, part: str | None = None) -> None:
        super().__init__(rule)
        self.value = value
        self.rule = rule
        self.missing = part is not None
        self.parts: list[str] = [] if part is None else [part]

    def error(self, prefix: str) -> InvalidArgument:
        path = prefix + "".join(reversed(self.parts))
        if self.missing:
            return _missing(path)
        return _invalid(path, self.value, self.rule)


def _shown(value: Any) -> str:
    """The value as JSON (as it arrived, and as MLflow shows it), shortened."""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _invalid(path: str, value: Any, rule: str) -> InvalidArgument:
    return InvalidArgument(f"Invalid value {_shown(value)} for parameter '{path}' supplied: {rule}")


def _missing(path: str) -> InvalidArgument:
    return InvalidArgument(
        f"Missing value for required parameter '{path}'. See the API docs for more "
        "information about request parameters."
    )


def _string_checker(schema: dict[str, Any]) -> Checker:
    limit: int | None = schema.get("maxLength")
    allowed: list[str] | None = schema.get("enum")

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            if (
                allowed is not None
                and isinstance(value, int)
                and not isinstance(value, bool)
                and 1 <= value <= len(allowed)
            ):
                return allowed[value - 1]  # proto3 JSON may send an enum by number
            raise _Bad(value, "must be a string")
        if "\x00" in value:
            raise _Bad(value, "NUL characters are not allowed")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _Bad(value, "must be valid Unicode (no lone surrogates)") from None
        if limit is not None and len(value) > limit:
            raise _Bad(value, f"at most {limit} characters (got {len(value)})")
        if allowed is not None and value not in allowed:
            upper = value.upper()
            if upper in allowed:
                return upper
            raise _Bad(value, f"must be one of {', '.join(allowed)}")
        return value

    return check


def _int_checker(schema: dict[str, Any]) -> Checker:
    low: int = schema.get("minimum", INT64_MIN)
    high: int = schema.get("maximum", INT64_MAX)
    out_of_range = f"must be between {low} and {high}"

    def check(value: Any) -> int:
        number: int
        if type(value) is int:
            number = value
        elif isinstance(value, bool):
            raise _Bad(value, "must be an integer")
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and value.strip().lstrip("+-").isdigit() and len(value) < 40:
            number = int(value.strip())
        else:
            raise _Bad(value, "must be an integer")
        if not low <= number <= high:
            raise _Bad(value, out_of_range)
        return number

    return check


def _check_double(value: Any) -> float:
    if type(value) is float:
        return value
    if isinstance(value, bool) or value is None:
        raise _Bad(value, "must be a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        if value in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[value]
        try:
            return float(value)
        except ValueError:
            pass
    raise _Bad(value, 'must be a number (or "NaN", "Infinity", "-Infinity")')


def _check_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # a client may send a numeric id as a JSON number
    if not isinstance(value, str) or not value.isdigit() or len(value) > 18:
        raise _Bad(value, "must be an id of at most 18 decimal digits")
    return value


def _bool_checker(from_query: bool) -> Checker:
    def check(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if from_query and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _Bad(value, "must be true or false")

    return check


def _array_checker(schema: dict[str, Any], from_query: bool) -> Checker:
    limit: int | None = schema.get("maxItems")
    item = _compile(schema["items"], from_query)

    def check(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise _Bad(value, "must be a list")
        if limit is not None and len(value) > limit:
            raise _Bad(value, f"at most {limit} items (got {len(value)})")
        try:
            return [item(v) for v in value]
        except _Bad as bad:
            # Which item? Found again only on this (rare) path; checks have no side effects.
            index = next(i for i, v in enumerate(value) if not _passes(item, v))
            bad.parts.append(f"[{index}]")
            raise

    return check


def _passes(check: Checker, value: Any) -> bool:
    try:
        check(value)
    except _Bad:
        return False
    return True


def _fields_checker(schema: dict[str, Any], from_query: bool) -> Callable[[Any], dict[str, Any]]:
    """The checker of an object's declared fields (*data* is known to be a mapping)."""
    required = schema.get("required", ())
    fields = tuple(
        (name, _compile(field_schema, from_query), name in required, "." + name)
        for name, field_schema in schema.get("properties", {}).items()
    )

    def check(data: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, field_check, is_required, part in fields:
            value = data.get(name)
            if value is None:
                if is_required:
                    raise _Bad(None, "", part)
                continue
            try:
                out[name] = field_check(value)
            except _Bad as bad:
                bad.parts.append(part)
                raise
        return out

    return check


def _object_checker(schema: dict[str, Any], from_query: bool) -> Checker:
    fields = _fields_checker(schema, from_query)

    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _Bad(value, "must be an object")
        return fields(value)

    return check


def _unsupported(schema: dict[str, Any]) -> Checker:
    def check(value: Any) -> Any:  # pragma: no cover - a programming error in a schema
        raise AssertionError(f"unsupported schema: {schema}")

    return check


def _compile(schema: dict[str, Any], from_query: bool) -> Checker:
    kind_x = schema.get("x-kind")
    if kind_x == "double":
        return _check_double
    if kind_x == "id":
        return _check_id
    kind = schema.get("type")
    if kind == "string":
        return _string_checker(schema)
    if kind == "integer":
        return _int_checker(schema)
    if kind == "boolean":
        return _bool_checker(from_query)
    if kind == "array":
        return _array_checker(schema, from_query)
    if kind == "object":
        return _object_checker(schema, from_query)
    return _unsupported(schema)


_MAX_CACHED = 4096
# (id(schema), from_query, whole value or fields only) -> (schema, checker); holding the schema
# keeps its id from being reused by another dict.
_compiled: dict[tuple[int, bool, bool], tuple[dict[str, Any], Checker]] = {}


def _checker(schema: dict[str, Any], from_query: bool, fields_only: bool = False) -> Checker:
    key = (id(schema), from_query, fields_only)
    entry = _compiled.get(key)
    if entry is not None and entry[0] is schema:
        return entry[1]
    if fields_only:
        checker = _fields_checker(schema, from_query)
    else:
        checker = _compile(schema, from_query)
    if len(_compiled) >= _MAX_CACHED:
        _compiled.clear()  # apps built and dropped by the thousand (tests): start afresh
    _compiled[key] = (schema, checker)
    return checker


def check_value(path: str, value: Any, schema: dict[str, Any], from_query: bool = False) -> Any:
    """*value* checked against *schema* and converted (ints, floats, upper-cased enums)."""
    try:
        return _checker(schema, from_query)(value)
    except _Bad as bad:
        raise bad.error(path) from None


def _field_error(bad: _Bad, prefix: str) -> InvalidArgument:
    # An object's path parts start with "."; a top-level field's path is *prefix* + its name.
    path = prefix + "".join(reversed(bad.parts))[1:]
    return _missing(path) if bad.missing else _invalid(path, bad.value, bad.rule)


def check_object(data: Mapping[str, Any], schema: dict[str, Any], prefix: str = "") -> Any:
    """The declared fields of *data* checked and converted; unknown fields are left out."""
    try:
        return _checker(schema, False, fields_only=True)(data)
    except _Bad as bad:
        raise _field_error(bad, prefix) from None


def parse_body(body: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """Check a decoded JSON body (must be an object) against an object schema."""
    if not isinstance(body, dict):
        raise InvalidArgument("Invalid request body: expected a JSON object")
    try:
        result: dict[str, Any] = _checker(schema, False, fields_only=True)(body)
    except _Bad as bad:
        raise _field_error(bad, "") from None
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
