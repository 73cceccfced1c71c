"""A parsed GraphQL document checked against the schema (:mod:`._graphql_schema`), before
anything runs, with graphql-core's messages (what MLflow's server answers):

- a field the type does not have: ``Cannot query field 'x' on type 'T'.`` with the near names
  (``Did you mean 'runId' or 'runUuid'?``); ``__schema`` and ``__type`` only at the query root;
- a selection under a leaf (``Field 'f' must not have a selection since type 'String' has no
  subfields.``) or none under an object (``... must have a selection of subfields. ...``);
- an argument the field does not take: ``Unknown argument 'a' on field 'Query.f'.``; a
  required one left out;
- literal values of the wrong type: an input field the input type does not have (``Field 'f'
  is not defined by type 'T'.``), a number for a string (``String cannot represent a non
  string value: 5``), a string for an integer, an enum value that does not exist, null where
  the type is non-null, a scalar for an input object;
- unknown types (in variable definitions and fragment conditions), fragments on leaf types or
  spread where their type can never be, unknown and unused fragments, variables used but not
  defined, defined but not used, or of a type that is not an input type.

:func:`check_document` returns the messages in document order (empty when the document is
valid); :func:`missing_variables` the messages for required variables the request left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from mltrail.server._graphql_parse import (
    Document,
    EnumLiteral,
    Field,
    FloatLiteral,
    FragmentSpread,
    InlineFragment,
    Operation,
    Selection,
    Variable,
)
from mltrail.server._graphql_schema import (
    META_FIELDS,
    SCHEMA,
    FieldDef,
    Schema,
    TypeDef,
    TypeRef,
    did_you_mean,
    parse_type_ref,
    suggestions,
)

__all__ = ["check_document", "missing_variables", "printed"]

_INT_RANGE = range(-(2**31), 2**31)
_LEAF = ("SCALAR", "ENUM")
_COMPOSITE = ("OBJECT",)


def printed(value: Any) -> str:
    """A literal value as GraphQL prints it (in error messages)."""
    if isinstance(value, Variable):
        return f"${value.name}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, EnumLiteral):
        return str(value)
    if isinstance(value, FloatLiteral):
        return value.text
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(printed(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {printed(v)}" for k, v in value.items()) + "}"
    return str(value)


class _Checker:
    def __init__(self, schema: Schema, document: Document) -> None:
        self.schema = schema
        self.document = document
        self.errors: list[str] = []

    def type_named(self, name: str) -> TypeDef | None:
        return self.schema.types.get(name)

    def unknown_type(self, name: str) -> str:
        return f"Unknown type '{name}'." + did_you_mean(suggestions(name, list(self.schema.types)))

    def field_def(self, parent: TypeDef, name: str) -> FieldDef | None:
        if name == "__typename":
            return META_FIELDS[name]
        if name in ("__schema", "__type"):
            return META_FIELDS[name] if parent.name == self.schema.query else None
        return parent.fields.get(name)

    def selections(self, selections: list[Selection], parent: TypeDef) -> None:
        for selection in selections:
            if isinstance(selection, Field):
                self.field(selection, parent)
            elif isinstance(selection, InlineFragment):
                self.inline(selection, parent)
            else:
                self.spread(selection, parent)

    def field(self, f: Field, parent: TypeDef) -> None:
        definition = self.field_def(parent, f.name)
        if definition is None:
            near = suggestions(f.name, list(parent.fields))
            self.errors.append(
                f"Cannot query field '{f.name}' on type '{parent.name}'." + did_you_mean(near)
            )
            return
        target = self.type_named(definition.type.named)
        assert target is not None
        if target.kind in _LEAF and f.selections is not None:
            self.errors.append(
                f"Field '{f.name}' must not have a selection since type "
                f"'{definition.type}' has no subfields."
            )
        elif target.kind in _COMPOSITE and f.selections is None:
            self.errors.append(
                f"Field '{f.name}' of type '{definition.type}' must have a selection of "
                f"subfields. Did you mean '{f.name} {{ ... }}'?"
            )
        for name, value in f.arguments.items():
            argument = definition.args.get(name)
            if argument is None:
                near = suggestions(name, list(definition.args))
                self.errors.append(
                    f"Unknown argument '{name}' on field '{parent.name}.{f.name}'."
                    + did_you_mean(near)
                )
            else:
                self.value(value, argument.type)
        if f.selections is not None and target.kind in _COMPOSITE:
            self.selections(f.selections, target)
        for argument in definition.args.values():
            required = argument.type.non_null and argument.default is None
            if required and argument.name not in f.arguments:
                self.errors.append(
                    f"Field '{f.name}' argument '{argument.name}' of type "
                    f"'{argument.type}' is required, but it was not provided."
                )

    def condition(self, name: str, fragment: str | None) -> TypeDef | None:
        """The type a fragment conditions on, or None (with the error) when it cannot."""
        target = self.type_named(name)
        if target is None:
            self.errors.append(self.unknown_type(name))
            return None
        if target.kind not in _COMPOSITE:
            which = f"Fragment '{fragment}'" if fragment else "Fragment"
            self.errors.append(f"{which} cannot condition on non composite type '{name}'.")
            return None
        return target

    def inline(self, fragment: InlineFragment, parent: TypeDef) -> None:
        target = parent
        if fragment.type_condition is not None:
            found = self.condition(fragment.type_condition, None)
            if found is None:
                return
            if found.name != parent.name:
                self.errors.append(
                    f"Fragment cannot be spread here as objects of type '{parent.name}' can "
                    f"never be of type '{found.name}'."
                )
            target = found
        self.selections(fragment.selections, target)

    def spread(self, spread: FragmentSpread, parent: TypeDef) -> None:
        fragment = self.document.fragments.get(spread.name)
        if fragment is None:
            self.errors.append(f"Unknown fragment '{spread.name}'.")
            return
        target = self.type_named(fragment.type_condition or "")
        if target is not None and target.kind in _COMPOSITE and target.name != parent.name:
            self.errors.append(
                f"Fragment '{spread.name}' cannot be spread here as objects of type "
                f"'{parent.name}' can never be of type '{target.name}'."
            )

    def value(self, value: Any, ref: TypeRef) -> None:
        if isinstance(value, Variable):
            return
        if value is None:
            if ref.non_null:
                self.errors.append(f"Expected value of type '{ref}', found null.")
            return
        if ref.of is not None:
            for item in value if isinstance(value, list) else [value]:
                self.value(item, ref.of)
            return
        target = self.type_named(ref.named)
        assert target is not None
        if target.kind == "INPUT_OBJECT":
            self.input_object(value, ref, target)
        elif target.kind == "ENUM":
            self.enum(value, target)
        else:
            problem = _scalar_problem(target.name, value)
            if problem:
                self.errors.append(problem)

    def input_object(self, value: Any, ref: TypeRef, target: TypeDef) -> None:
        if not isinstance(value, dict):
            self.errors.append(f"Expected value of type '{ref}', found {printed(value)}.")
            return
        for name, item in value.items():
            definition = target.fields.get(name)
            if definition is None:
                near = suggestions(name, list(target.fields))
                self.errors.append(
                    f"Field '{name}' is not defined by type '{target.name}'." + did_you_mean(near)
                )
            else:
                self.value(item, definition.type)

    def enum(self, value: Any, target: TypeDef) -> None:
        text = printed(value)
        if isinstance(value, EnumLiteral):
            if value not in target.values:
                self.errors.append(
                    f"Value '{text}' does not exist in '{target.name}' enum."
                    + did_you_mean(suggestions(text, target.values), "the enum value")
                )
            return
        self.errors.append(
            f"Enum '{target.name}' cannot represent non-enum value: {text}."
            + did_you_mean(suggestions(text, target.values), "the enum value")
        )

    def variable_definitions(self, operation: Operation) -> None:
        for name, written in operation.variable_types.items():
            named = parse_type_ref(written).named
            target = self.type_named(named)
            if target is None:
                self.errors.append(self.unknown_type(named))
            elif target.kind not in ("SCALAR", "ENUM", "INPUT_OBJECT"):
                self.errors.append(f"Variable '${name}' cannot be non-input type '{written}'.")

    def variable_usage(self, operation: Operation) -> None:
        used = list(dict.fromkeys(_variables_in(operation.selections, self.document, set())))
        defined = operation.variable_types
        named = f" by operation '{operation.name}'" if operation.name else ""
        for name in used:
            if name not in defined:
                self.errors.append(f"Variable '${name}' is not defined{named}.")
        in_op = f" in operation '{operation.name}'" if operation.name else ""
        for name in defined:
            if name not in used:
                self.errors.append(f"Variable '${name}' is never used{in_op}.")


def _variables_in(selections: list[Selection], document: Document, seen: set[str]) -> Iterator[str]:
    for selection in selections:
        if isinstance(selection, Field):
            yield from _variables_of(list(selection.arguments.values()))
            if selection.selections:
                yield from _variables_in(selection.selections, document, seen)
        elif isinstance(selection, InlineFragment):
            yield from _variables_in(selection.selections, document, seen)
        elif selection.name not in seen and selection.name in document.fragments:
            seen.add(selection.name)
            fragment = document.fragments[selection.name]
            yield from _variables_in(fragment.selections, document, seen)


def _variables_of(values: list[Any]) -> Iterator[str]:
    for value in values:
        if isinstance(value, Variable):
            yield value.name
        elif isinstance(value, list):
            yield from _variables_of(value)
        elif isinstance(value, dict):
            yield from _variables_of(list(value.values()))


def _scalar_problem(name: str, value: Any) -> str | None:
    """graphql-core's message when a literal is not a value of the scalar *name*."""
    text = printed(value)
    if name == "String" and not (isinstance(value, str) and not isinstance(value, EnumLiteral)):
        return f"String cannot represent a non string value: {text}"
    if name == "Int":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"Int cannot represent non-integer value: {text}"
        if value not in _INT_RANGE:
            return f"Int cannot represent non 32-bit signed integer value: {text}"
    if name == "Float" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"Float cannot represent non numeric value: {text}"
    if name == "Boolean" and not isinstance(value, bool):
        return f"Boolean cannot represent a non boolean value: {text}"
    return None  # LongString takes an integer and reads anything else as null, as MLflow's


def _spread_names(selections: list[Selection], document: Document, seen: set[str]) -> None:
    for selection in selections:
        if isinstance(selection, FragmentSpread):
            if selection.name not in seen and selection.name in document.fragments:
                seen.add(selection.name)
                _spread_names(document.fragments[selection.name].selections, document, seen)
        else:
            _spread_names(selection.selections or [], document, seen)


def check_document(document: Document, schema: Schema = SCHEMA) -> list[str]:
    """Every rule of the module doc, over every operation and fragment of *document*."""
    checker = _Checker(schema, document)
    for operation in document.operations:
        checker.variable_definitions(operation)
        root = schema.root(operation.kind)
        if root is None:
            checker.errors.append(f"Schema is not configured for {operation.kind}s.")
            continue
        checker.selections(operation.selections, root)
        checker.variable_usage(operation)
    for name, fragment in document.fragments.items():
        target = checker.condition(fragment.type_condition or "", name)
        if target is not None:
            checker.selections(fragment.selections, target)
    used: set[str] = set()
    for operation in document.operations:
        _spread_names(operation.selections, document, used)
    for name in document.fragments:
        if name not in used:
            checker.errors.append(f"Fragment '{name}' is never used.")
    return checker.errors


def missing_variables(operation: Operation, given: Mapping[str, Any]) -> list[str]:
    """``Variable '$x' of required type 'T!' was not provided.`` for each such variable."""
    out = []
    for name, written in operation.variable_types.items():
        required = written.endswith("!") and operation.variables.get(name) is None
        if required and given.get(name) is None:
            if name in given:
                out.append(f"Variable '${name}' of non-null type '{written}' must not be null.")
            else:
                out.append(f"Variable '${name}' of required type '{written}' was not provided.")
    return out
