"""A GraphQL document parser for the queries MLflow's web UI and clients send to ``/graphql``.

It reads executable documents (the GraphQL specification's grammar, October 2021): operations
(``query``/``mutation``, a name, variable definitions, directives, a selection set) and fragment
definitions; fields with aliases, arguments and directives; fragment spreads and inline
fragments; values of every kind (variables, numbers, strings and block strings, booleans,
null, enums, lists, objects).  Type-system documents are refused.  Directives are parsed and
ignored (MLflow's UI tags its queries with ``@component``).

:func:`check_limits` refuses what could make one request expensive, before anything runs:
more than :data:`MAX_ROOT_FIELDS` root fields or :data:`MAX_ALIASES` aliases in one selection
set, selection sets nested deeper than :data:`MAX_DEPTH`, more than :data:`MAX_SELECTIONS`
fields in all (fragments counted where they are spread, each spread once per path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mltrail._exceptions import InvalidArgument

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_ROOT_FIELDS",
    "MAX_SELECTIONS",
    "Document",
    "EnumLiteral",
    "Field",
    "FloatLiteral",
    "FragmentSpread",
    "InlineFragment",
    "Operation",
    "Variable",
    "check_limits",
    "parse_document",
]

MAX_ROOT_FIELDS = 10
MAX_ALIASES = 10
MAX_DEPTH = 10
MAX_SELECTIONS = 1000
#: The longest document accepted (characters).
MAX_DOCUMENT_LENGTH = 100_000

_TOKEN = re.compile(
    r"""
    (?P<skip>[\s,\ufeff]+|\#[^\n\r]*)
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$&()\[\]{}:=@|])
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<block>\"\"\"(?:\\\"\"\"|[^"]|"(?!""))*\"\"\")
  | (?P<string>"(?:\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4})|[^"\\\n\r])*")
    """,
    re.VERBOSE,
)
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "/": "/"}


@dataclass(frozen=True)
class Variable:
    name: str


class EnumLiteral(str):
    """An enum value written in the document (a bare name), as opposed to a string."""

    __slots__ = ()


class FloatLiteral(float):
    """A float written in the document; ``text`` is how it was written."""

    text: str

    def __new__(cls, text: str) -> FloatLiteral:
        made = super().__new__(cls, text)
        made.text = text
        return made


@dataclass
class Field:
    name: str
    alias: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    selections: list[Selection] | None = None

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class FragmentSpread:
    name: str


@dataclass
class InlineFragment:
    type_condition: str | None
    selections: list[Selection]


Selection = Field | FragmentSpread | InlineFragment


@dataclass
class Operation:
    kind: str  # "query" or "mutation"
    name: str | None
    variables: dict[str, Any]  # name -> default value (None when absent)
    selections: list[Selection]
    variable_types: dict[str, str] = field(default_factory=dict)  # name -> type as written


@dataclass
class Document:
    operations: list[Operation]
    fragments: dict[str, InlineFragment]

    def operation(self, name: str | None) -> Operation:
        """The operation to run: the one named *name*, or the only one."""
        if name:
            for op in self.operations:
                if op.name == name:
                    return op
            raise InvalidArgument(f"Unknown operation named '{name}'.")
        if len(self.operations) != 1:
            raise InvalidArgument(
                "Must provide operation name if query contains several operations."
            )
        return self.operations[0]


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            raise InvalidArgument(
                f"Syntax Error: unexpected character {text[at]!r} at position {at} of the query"
            )
        kind = match.lastgroup or ""
        if kind != "skip":
            out.append((kind, match.group(), at))
        at = match.end()
    out.append(("end", "", len(text)))
    return out


def _string(token: str) -> str:
    if token.startswith('"""'):
        lines = token[3:-3].replace('\\"""', '"""').splitlines()
        indents = [len(x) - len(x.lstrip()) for x in lines[1:] if x.strip()]
        cut = min(indents, default=0)
        lines = lines[:1] + [x[cut:] for x in lines[1:]]
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        return "\n".join(lines)
    body = token[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            nxt = body[i + 1]
            if nxt == "u":
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self, value: str | None = None, kind: str | None = None) -> bool:
        k, v, _ = self.tokens[self.at]
        return (value is None or v == value) and (kind is None or k == kind)

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        k, v, pos = self.tokens[self.at]
        if (value is not None and v != value) or (kind is not None and k != kind):
            wanted = repr(value) if value is not None else kind
            shown = repr(v) if k != "end" else "the end of the query"
            raise InvalidArgument(f"Syntax Error: expected {wanted}, found {shown} at {pos}.")
        self.at += 1
        return v

    def skip(self, value: str) -> bool:
        if self.peek(value):
            self.at += 1
            return True
        return False

    def document(self) -> Document:
        operations: list[Operation] = []
        fragments: dict[str, InlineFragment] = {}
        while not self.peek(kind="end"):
            if self.peek("{"):
                operations.append(Operation("query", None, {}, self.selection_set()))
            elif self.peek("query") or self.peek("mutation"):
                operations.append(self.operation())
            elif self.peek("fragment"):
                self.take()
                name = self.take(kind="name")
                self.take("on")
                condition = self.take(kind="name")
                self.directives()
                fragments[name] = InlineFragment(condition, self.selection_set())
            else:
                found = self.tokens[self.at][1] or "the end of the query"
                raise InvalidArgument(
                    f"Syntax Error: expected an operation or a fragment, found {found!r} "
                    "(only queries and mutations are served)"
                )
        if not operations:
            raise InvalidArgument("Syntax Error: the document has no operation.")
        return Document(operations, fragments)

    def operation(self) -> Operation:
        kind = self.take()
        name = self.take(kind="name") if self.peek(kind="name") else None
        variables: dict[str, Any] = {}
        types: dict[str, str] = {}
        if self.skip("("):
            while not self.skip(")"):
                self.take("$")
                var = self.take(kind="name")
                self.take(":")
                types[var] = self.type_reference()
                variables[var] = self.value(const=True) if self.skip("=") else None
                self.directives()
        self.directives()
        return Operation(kind, name, variables, self.selection_set(), types)

    def type_reference(self) -> str:
        if self.skip("["):
            written = f"[{self.type_reference()}]"
            self.take("]")
        else:
            written = self.take(kind="name")
        return written + "!" if self.skip("!") else written

    def directives(self) -> None:
        while self.skip("@"):
            self.take(kind="name")
            if self.peek("("):
                self.arguments()

    def selection_set(self) -> list[Selection]:
        self.take("{")
        out: list[Selection] = []
        while not self.skip("}"):
            if self.skip("..."):
                if self.peek("on") or self.peek("{") or self.peek("@"):
                    condition = None
                    if self.skip("on"):
                        condition = self.take(kind="name")
                    self.directives()
                    out.append(InlineFragment(condition, self.selection_set()))
                else:
                    out.append(FragmentSpread(self.take(kind="name")))
                    self.directives()
                continue
            name = self.take(kind="name")
            alias = None
            if self.skip(":"):
                alias, name = name, self.take(kind="name")
            arguments = self.arguments() if self.peek("(") else {}
            self.directives()
            selections = self.selection_set() if self.peek("{") else None
            out.append(Field(name, alias, arguments, selections))
        if not out:
            raise InvalidArgument("Syntax Error: an empty selection set.")
        return out

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        out: dict[str, Any] = {}
        while not self.skip(")"):
            name = self.take(kind="name")
            self.take(":")
            out[name] = self.value()
        return out

    def value(self, const: bool = False) -> Any:
        kind, text, pos = self.tokens[self.at]
        if text == "$" and not const:
            self.take()
            return Variable(self.take(kind="name"))
        if kind == "number":
            self.take()
            return FloatLiteral(text) if any(c in text for c in ".eE") else int(text)
        if kind in ("string", "block"):
            self.take()
            return _string(text)
        if kind == "name":
            self.take()
            if text in ("true", "false", "null"):
                return {"true": True, "false": False, "null": None}[text]
            return EnumLiteral(text)
        if self.skip("["):
            items = []
            while not self.skip("]"):
                items.append(self.value(const))
            return items
        if self.skip("{"):
            fields: dict[str, Any] = {}
            while not self.skip("}"):
                name = self.take(kind="name")
                self.take(":")
                fields[name] = self.value(const)
            return fields
        raise InvalidArgument(f"Syntax Error: unexpected {text or 'end of the query'!r} at {pos}.")


def parse_document(text: Any) -> Document:
    """The parsed document; InvalidArgument naming the problem when it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument("Missing value for required parameter 'query' (a GraphQL document)")
    if len(text) > MAX_DOCUMENT_LENGTH:
        raise InvalidArgument(
            f"Invalid value for parameter 'query': longer than {MAX_DOCUMENT_LENGTH} characters"
        )
    return _Parser(text).document()


def _fields_of(
    selections: list[Selection], fragments: dict[str, InlineFragment], seen: frozenset[str]
) -> tuple[list[tuple[Field, frozenset[str]]], int]:
    """The fields of one selection set, fragments merged in, and how many carry aliases."""
    out: list[tuple[Field, frozenset[str]]] = []
    aliases = 0
    queue: list[tuple[Selection, frozenset[str]]] = [(s, seen) for s in selections]
    while queue:
        selection, visited = queue.pop(0)
        if isinstance(selection, Field):
            out.append((selection, visited))
            aliases += selection.alias is not None
        elif isinstance(selection, InlineFragment):
            queue.extend((s, visited) for s in selection.selections)
        else:
            if selection.name in visited:
                raise InvalidArgument(f"Cannot spread fragment '{selection.name}' within itself.")
            fragment = fragments.get(selection.name)
            if fragment is None:
                raise InvalidArgument(f"Unknown fragment '{selection.name}'.")
            inner = visited | {selection.name}
            queue.extend((s, inner) for s in fragment.selections)
    return out, aliases


def check_limits(document: Document) -> None:
    """Refuse a document over the limits of the module doc (InvalidArgument naming which)."""
    total = 0
    for operation in document.operations:
        stack: list[tuple[list[Selection], int, frozenset[str]]] = [
            (operation.selections, 1, frozenset())
        ]
        while stack:
            selections, depth, seen = stack.pop()
            if depth > MAX_DEPTH:
                raise InvalidArgument(f"Query exceeds maximum depth of {MAX_DEPTH}")
            fields, aliases = _fields_of(selections, document.fragments, seen)
            if depth == 1 and len(fields) > MAX_ROOT_FIELDS:
                raise InvalidArgument(
                    f"GraphQL queries should have at most {MAX_ROOT_FIELDS} root fields; this "
                    f"one has {len(fields)}"
                )
            if aliases > MAX_ALIASES:
                raise InvalidArgument(
                    f"GraphQL queries should have at most {MAX_ALIASES} aliases in one "
                    f"selection set; this one has {aliases}"
                )
            for f, visited in fields:
                total += 1
                if total > MAX_SELECTIONS:
                    raise InvalidArgument(
                        f"Query exceeds maximum total selections of {MAX_SELECTIONS}"
                    )
                if f.selections:
                    stack.append((f.selections, depth + 1, visited))
