"""A recursive-descent parser from tokens to the filter AST, checked against a kind's fields.

Precedence, loosest first: ``OR``, ``AND``, ``NOT``, then a parenthesised expression or a
comparison.  Chains of the same operator are flattened (``a AND b AND c`` is one :class:`And`
with three items, and so is ``(a AND b) AND c``); parentheses around a single expression leave
no trace.

The work is bounded before a store sees the result: at most :data:`MAX_FILTER_TERMS`
comparisons, :data:`MAX_FILTER_VALUES` values in ``IN`` lists, :data:`MAX_DEPTH` levels of
parentheses and ``NOT`` and :data:`MAX_ORDER_BY_ITEMS` ``order_by`` items.  Tokens are read on
demand, so a filter past a limit is refused without reading the rest of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from mltrail._exceptions import InvalidArgument
from mltrail.search._ast import (
    Aggregate,
    And,
    Comparison,
    Entity,
    Expr,
    Identifier,
    Not,
    Or,
    OrderKey,
    SearchKind,
    Value,
)
from mltrail.search._errors import syntax_error
from mltrail.search._fields import (
    DATASET_KEYS,
    KINDS,
    NULL_OPS,
    PREFIXES,
    FieldType,
    KindSpec,
    ops_for,
)
from mltrail.search._lexer import (
    END,
    IDENT,
    LPAREN,
    NUMBER,
    OP,
    RPAREN,
    SIGN,
    STRING,
    WORD,
    Token,
    tokenize,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_FILTER_TERMS",
    "MAX_FILTER_VALUES",
    "MAX_ORDER_BY_ITEMS",
    "parse_filter",
    "parse_order_by",
]

MAX_DEPTH = 50  # nested parentheses and NOTs; deeper input is refused, not a RecursionError
#: Comparisons in one filter.  Each becomes a subquery: PostgreSQL's planner takes seconds
#: past ~100 of them joined by AND, and SQLite refuses an expression 1000 deep.
MAX_FILTER_TERMS = 50
#: Values in all the IN lists of one filter (each is a bound parameter of the query).
MAX_FILTER_VALUES = 10_000
#: Items in one ``order_by`` list.
MAX_ORDER_BY_ITEMS = 20
_INT64_MAX = 2**63 - 1
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "ASC", "DESC"})
_SPECIAL_FLOATS = {"NAN": math.nan, "INF": math.inf, "INFINITY": math.inf}
_AGGREGATES: dict[str, Aggregate] = {"MIN": "min", "MAX": "max"}
_FILTER = "filter"
_ORDER_BY = "order_by clause"
_TYPE_NOUN: dict[FieldType, str] = {
    "metric": "a number",
    "integer": "an integer",
    "optional_integer": "an integer",
    "string": "a string",
    "keyed": "a string",
}


def _spec(kind: str) -> KindSpec:
    spec = KINDS.get(kind)
    if spec is None:
        raise InvalidArgument(
            f"Unknown search kind {kind!r}: expected one of {', '.join(sorted(KINDS))}"
        )
    return spec


def _require_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"Invalid {what} {value!r}: expected a string")
    return value


class _Parser:
    __slots__ = (
        "depth",
        "i",
        "order",
        "source",
        "spec",
        "terms",
        "text",
        "tokens",
        "values",
        "what",
    )

    def __init__(self, what: str, text: str, spec: KindSpec, *, order: bool = False) -> None:
        self.what = what
        self.text = text
        self.spec = spec
        self.order = order
        self.source: Iterator[Token] = tokenize(what, text)
        self.tokens: list[Token] = []  # read so far; the last one is END once all are read
        self.i = 0
        self.depth = 0
        self.terms = 0  # comparisons so far
        self.values = 0  # IN-list values so far

    # -- token helpers -------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        index = self.i + ahead
        tokens = self.tokens
        while index >= len(tokens) and not (tokens and tokens[-1].kind == END):
            tokens.append(next(self.source))
        return tokens[min(index, len(tokens) - 1)]

    def advance(self) -> Token:
        tok = self.peek()
        if tok.kind != END:
            self.i += 1
        return tok

    def is_keyword(self, tok: Token, *words: str) -> bool:
        return tok.kind == WORD and tok.text.upper() in words

    def describe(self, tok: Token) -> str:
        if tok.kind == END:
            return f"the end of the {self.what}"
        text = tok.text if len(tok.text) <= 40 else tok.text[:37] + "..."
        return repr(text)

    def error(self, message: str, position: int) -> InvalidArgument:
        # A character the lexer refuses just past the offending token is the likelier cause
        # (``params.a = xé``): reading two tokens ahead raises that error instead.
        self.peek(2)
        return syntax_error(self.what, self.text, message, position)

    def enter(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression nested more than {MAX_DEPTH} levels deep", tok.pos)

    # -- expressions ---------------------------------------------------------------------------

    def parse_expression(self) -> Expr:
        expr = self.parse_or()
        tok = self.peek()
        if tok.kind == RPAREN:
            raise self.error("unmatched ')'", tok.pos)
        if tok.kind != END:
            raise self.error(
                f"expected AND, OR or the end of the filter, found {self.describe(tok)}", tok.pos
            )
        return expr

    def parse_or(self) -> Expr:
        items = [self.parse_and()]
        while self.is_keyword(self.peek(), "OR"):
            self.advance()
            items.append(self.parse_and())
        if len(items) == 1:
            return items[0]
        flat: list[Expr] = []
        for item in items:
            flat.extend(item.items if isinstance(item, Or) else (item,))
        return Or(tuple(flat))

    def parse_and(self) -> Expr:
        items = [self.parse_not()]
        while self.is_keyword(self.peek(), "AND"):
            self.advance()
            items.append(self.parse_not())
        if len(items) == 1:
            return items[0]
        flat: list[Expr] = []
        for item in items:
            flat.extend(item.items if isinstance(item, And) else (item,))
        return And(tuple(flat))

    def parse_not(self) -> Expr:
        tok = self.peek()
        if not self.is_keyword(tok, "NOT"):
            return self.parse_primary()
        self.advance()
        self.enter(tok)
        item = self.parse_not()
        self.depth -= 1
        return Not(item)

    def parse_primary(self) -> Expr:
        tok = self.peek()
        if tok.kind != LPAREN:
            return self.parse_comparison()
        self.advance()
        if self.peek().kind == RPAREN:
            raise self.error("empty parentheses", tok.pos)
        self.enter(tok)
        expr = self.parse_or()
        self.depth -= 1
        close = self.peek()
        if close.kind != RPAREN:
            raise self.error(
                f"expected ')' to close the '(' at position {tok.pos}, "
                f"found {self.describe(close)}",
                close.pos,
            )
        self.advance()
        return expr

    # -- comparisons ---------------------------------------------------------------------------

    def parse_comparison(self) -> Comparison:
        start = self.peek()
        self.terms += 1
        if self.terms > MAX_FILTER_TERMS:
            raise syntax_error(
                self.what,
                self.text,
                f"too many comparisons: a filter holds at most {MAX_FILTER_TERMS} comparisons "
                "(compare a field with many values with IN)",
                start.pos,
                limit=MAX_FILTER_TERMS,
            )
        ident, field = self.parse_identifier()
        name = self.text[
            start.pos : self.tokens[self.i - 1].pos + len(self.tokens[self.i - 1].text)
        ]
        op, op_pos = self.parse_operator(name, field)
        allowed = ops_for(field)
        if op not in allowed:
            raise self.error(
                f"operator {op} does not apply to {_field_name(ident)} ({_TYPE_NOUN[field]}); "
                f"use one of {', '.join(allowed)}",
                op_pos,
            )
        value: Value
        if op in NULL_OPS:
            value = None
        elif op in ("IN", "NOT IN"):
            value = self.parse_list(name, op, ident, field)
        else:
            value = self.parse_value(name, op, ident, field)
        return Comparison(ident, op, value, start.pos)

    def parse_operator(self, name: str, field: FieldType) -> tuple[str, int]:
        tok = self.advance()
        if tok.kind == OP:
            if tok.text == "==":
                raise self.error("use '=' to test equality, not '=='", tok.pos)
            if tok.text == "<>":
                raise self.error("use '!=' to test inequality, not '<>'", tok.pos)
            return tok.text, tok.pos
        if tok.kind == WORD:
            word = tok.text.upper()
            if word in ("LIKE", "ILIKE", "IN"):
                return word, tok.pos
            if word == "NOT":
                nxt = self.advance()
                if self.is_keyword(nxt, "LIKE", "ILIKE", "IN"):
                    return f"NOT {nxt.text.upper()}", tok.pos
                raise self.error(
                    f"expected LIKE, ILIKE or IN after NOT, found {self.describe(nxt)}", nxt.pos
                )
            if word == "IS":
                nxt = self.advance()
                if self.is_keyword(nxt, "NULL"):
                    return "IS NULL", tok.pos
                if self.is_keyword(nxt, "NOT"):
                    last = self.advance()
                    if self.is_keyword(last, "NULL"):
                        return "IS NOT NULL", tok.pos
                    raise self.error(
                        f"expected NULL after IS NOT, found {self.describe(last)}", last.pos
                    )
                raise self.error(
                    f"expected NULL or NOT NULL after IS, found {self.describe(nxt)}", nxt.pos
                )
        raise self.error(
            f"expected an operator after {name} ({', '.join(ops_for(field))}), "
            f"found {self.describe(tok)}",
            tok.pos,
        )

    def parse_list(
        self, name: str, op: str, ident: Identifier, field: FieldType
    ) -> tuple[str, ...]:
        tok = self.advance()
        if tok.kind != LPAREN:
            raise self.error(
                f"expected '(' after {op}, as in {name} {op} ('a', 'b'), "
                f"found {self.describe(tok)}",
                tok.pos,
            )
        if self.peek().kind == RPAREN:
            raise self.error(f"the {op} list is empty: give at least one value", self.peek().pos)
        values: list[str] = []
        while True:
            self.values += 1
            if self.values > MAX_FILTER_VALUES:
                raise syntax_error(
                    self.what,
                    self.text,
                    f"too many values: the IN lists of a filter hold at most {MAX_FILTER_VALUES} "
                    "values in all",
                    self.peek().pos,
                    limit=MAX_FILTER_VALUES,
                )
            values.append(self.parse_string(name, op, ident, in_list=True))
            sep = self.advance()
            if sep.kind == RPAREN:
                return tuple(values)
            if sep.kind != ",":
                raise self.error(
                    f"expected ',' or ')' in the {op} list, found {self.describe(sep)}", sep.pos
                )

    def parse_value(self, name: str, op: str, ident: Identifier, field: FieldType) -> Value:
        if field == "metric":
            return self.parse_metric_value(name, op, ident)
        if field in ("integer", "optional_integer"):
            return self.parse_integer(ident)
        return self.parse_string(name, op, ident, in_list=False)

    def missing_value(self, tok: Token, expected: str) -> InvalidArgument:
        if tok.kind == END:
            return self.error("expected a value", tok.pos)
        if self.is_keyword(tok, "NULL"):
            return self.error("use IS NULL or IS NOT NULL to test for a missing value", tok.pos)
        return self.error(f"expected {expected}, found {self.describe(tok)}", tok.pos)

    def parse_number(self) -> tuple[str, float] | None:
        """A numeric literal (with an optional sign, NaN or Infinity) if one comes next."""
        tok = self.peek()
        sign = ""
        ahead = 0
        if tok.kind == SIGN:
            sign = tok.text
            ahead = 1
        nxt = self.peek(ahead)
        if nxt.kind == NUMBER and not (sign and nxt.text[0] in "+-"):
            self.i += ahead + 1
            return sign + nxt.text, float(sign + nxt.text)
        if nxt.kind == WORD and nxt.text.upper() in _SPECIAL_FLOATS:
            self.i += ahead + 1
            number = _SPECIAL_FLOATS[nxt.text.upper()]
            return sign + nxt.text, -number if sign == "-" else number
        return None

    def parse_metric_value(self, name: str, op: str, ident: Identifier) -> float:
        tok = self.peek()
        literal = self.parse_number()
        if literal is not None:
            number = literal[1]
            if math.isnan(number) and op not in ("=", "!="):
                raise self.error(f"NaN can only be compared with = or !=, not {op}", tok.pos)
            return number
        if tok.kind == STRING:
            raise self.error(
                f"{_field_name(ident)} is a number: compare it with a number, not a string, "
                f"as in {name} {op} 0.5",
                tok.pos,
            )
        raise self.missing_value(tok, "a number")

    def parse_integer(self, ident: Identifier) -> int:
        tok = self.peek()
        literal = self.parse_number()
        if literal is not None:
            text, number = literal
            digits = text.lstrip("+-")
            if digits.isdigit():
                # Longer than any int64: out of range, and never handed to int() (which
                # refuses strings of more than a few thousand digits).
                value: int | None = int(text) if len(digits) <= 20 else _INT64_MAX + 1
            else:
                value = _integral(number)
            if value is None:
                raise self.error(
                    f"{_field_name(ident)} takes an integer, not {_short(text)}", tok.pos
                )
            if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
                raise self.error(
                    f"{_short(text)} is out of range for {_field_name(ident)}", tok.pos
                )
            return value
        if tok.kind == STRING:
            raise self.error(
                f"{_field_name(ident)} is an integer: write it without quotes", tok.pos
            )
        raise self.missing_value(tok, "an integer")

    def parse_string(self, name: str, op: str, ident: Identifier, *, in_list: bool) -> str:
        tok = self.peek()
        if tok.kind == STRING:
            self.advance()
            return tok.value
        example = f"{name} {op} ('a', 'b')" if in_list else f"{name} {op} 'a'"
        if tok.kind in (NUMBER, SIGN):
            literal = self.parse_number()
            shown = literal[0] if literal is not None else tok.text
            example = f"{name} {op} ('{shown}')" if in_list else f"{name} {op} '{shown}'"
            raise self.error(
                f"{_field_name(ident)} holds strings: quote the value, as in {example}", tok.pos
            )
        if tok.kind == WORD and tok.text.upper() not in _KEYWORDS:
            shown = _short(tok.text)
            example = f"{name} {op} ('{shown}')" if in_list else f"{name} {op} '{shown}'"
            raise self.error(f"string values must be quoted, as in {example}", tok.pos)
        raise self.missing_value(tok, "a quoted string")

    # -- identifiers ---------------------------------------------------------------------------

    def parse_identifier(self) -> tuple[Identifier, FieldType]:
        tok = self.peek()
        if tok.kind == WORD and tok.text.upper() in _AGGREGATES and self.peek(1).kind == LPAREN:
            function = tok.text.lower()
            self.i += 2
            inner = self.peek()
            ident, field = self.parse_plain_identifier()
            if ident.entity != "metric":
                raise self.error(
                    f"{function}() applies to metrics only, as in {function}(metrics.loss)",
                    inner.pos,
                )
            close = self.advance()
            if close.kind != RPAREN:
                raise self.error(
                    f"expected ')' to close {function}(, found {self.describe(close)}", close.pos
                )
            return Identifier("metric", ident.key, _AGGREGATES[tok.text.upper()]), field
        return self.parse_plain_identifier()

    def expected_field(self) -> str:
        if self.order:
            fields = [f"{e}s.<key>" for e in self.spec.order_entities if e != "attribute"]
            fields.append(self.spec.order_attributes[0])
            listed = ", ".join(fields[:-1]) + " or " if len(fields) > 1 else ""
            return f"a sort key such as {listed}{fields[-1]}"
        return "a comparison on a field such as " + self.spec.example

    def parse_plain_identifier(self) -> tuple[Identifier, FieldType]:
        tok = self.advance()
        if tok.kind == IDENT:
            if not tok.value:
                raise self.error("empty quoted key", tok.pos + len(tok.prefix) + 1)
            # tags.mlflow.`odd key` is the tag "mlflow.odd key".
            prefix, dot, rest = tok.prefix.partition(".")
            key = f"{rest}.{tok.value}" if dot else tok.value
        elif tok.kind == WORD and tok.text.upper() not in _KEYWORDS:
            prefix, dot, key = tok.text.partition(".")
            if not dot:
                prefix, key = "", tok.text
            elif not key:
                raise self.error(f"expected a key after '{prefix}.'", tok.pos + len(tok.text))
        else:
            raise self.error(
                f"expected {self.expected_field()}, found {self.describe(tok)}", tok.pos
            )
        return self.resolve(tok, prefix, key)

    def resolve(self, tok: Token, prefix: str, key: str) -> tuple[Identifier, FieldType]:
        spec = self.spec
        entities = spec.order_entities if self.order else spec.filter_entities
        doing = "sorted" if self.order else "filtered"
        entity: Entity | None
        if not prefix:
            entity = "attribute"
        else:
            entity = PREFIXES.get(prefix.lower())
            if entity is None:
                raise self.error(
                    f"unknown prefix '{prefix}'; valid prefixes for {spec.noun}s are "
                    + spec.prefixes_text(entities),
                    tok.pos,
                )
        if entity not in entities:
            raise self.error(
                f"{spec.noun}s cannot be {doing} by {entity}s; valid prefixes are "
                + spec.prefixes_text(entities),
                tok.pos,
            )
        if entity == "attribute":
            key = spec.aliases.get(key, key)
            valid = spec.order_attributes if self.order else tuple(spec.attributes)
            if key not in valid:
                if not prefix and key.lower() in PREFIXES:
                    raise self.error(
                        f"expected '.' and a key after '{key}', as in {key}.name", tok.pos
                    )
                aliases = "".join(
                    f" ({alias} means {canonical})"
                    for alias, canonical in sorted(
                        {(a.lower(), c) for a, c in spec.aliases.items()}
                    )
                )
                raise self.error(
                    f"unknown {spec.noun} attribute '{key}'; {spec.noun}s can be {doing} by "
                    f"{', '.join(sorted(valid))}{aliases}",
                    tok.pos,
                )
            return Identifier("attribute", key), spec.attributes.get(key, "string")
        if entity == "dataset" and key not in DATASET_KEYS:
            raise self.error(
                f"unknown dataset field '{key}'; use datasets.{', datasets.'.join(DATASET_KEYS)}",
                tok.pos,
            )
        return Identifier(entity, key), spec.entity_fields[entity]

    # -- order_by ------------------------------------------------------------------------------

    def parse_order_key(self) -> OrderKey:
        if self.peek().kind == END:
            raise self.error("empty order_by clause: expected a sort key", 0)
        ident, _ = self.parse_identifier()
        tok = self.advance()
        if tok.kind == END:
            return OrderKey(ident, ascending=True)
        if not self.is_keyword(tok, "ASC", "DESC"):
            raise self.error(
                f"expected ASC, DESC or the end of the clause, found {self.describe(tok)}", tok.pos
            )
        end = self.advance()
        if end.kind != END:
            raise self.error(
                f"expected the end of the clause after {tok.text}, found {self.describe(end)}",
                end.pos,
            )
        return OrderKey(ident, ascending=tok.text.upper() == "ASC")


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _integral(number: float) -> int | None:
    if math.isfinite(number) and number.is_integer():
        return int(number)
    return None


def _field_name(ident: Identifier) -> str:
    if ident.entity == "attribute":
        return f"attribute '{ident.key}'"
    if ident.entity == "dataset":
        return f"datasets.{ident.key}"
    if ident.aggregate != "latest":
        return f"{ident.aggregate}(metrics.{ident.key})"
    return f"{ident.entity} '{ident.key}'"


def parse_filter(text: str | None, kind: SearchKind = "runs") -> Expr | None:
    """Parse a search filter for ``kind`` into an expression tree (None for an empty filter).

    Raises :class:`~mltrail.InvalidArgument` naming the problem and its position for any
    malformed filter or any field or operator that ``kind`` does not support.
    """
    spec = _spec(kind)
    if text is None:
        return None
    text = _require_str(text, "filter")
    if not text or text.isspace():
        return None
    return _Parser(_FILTER, text, spec).parse_expression()


def parse_order_by(items: Sequence[str] | None, kind: SearchKind = "runs") -> list[OrderKey]:
    """Parse ``order_by`` items (``<identifier> [ASC|DESC]``) for ``kind``.

    A single string is taken as a one-item list.  Raises :class:`~mltrail.InvalidArgument` for a
    malformed item or a key that ``kind`` cannot be sorted by.
    """
    spec = _spec(kind)
    if items is None:
        return []
    if isinstance(items, str):
        items = [items]
    if len(items) > MAX_ORDER_BY_ITEMS:
        raise InvalidArgument(
            f"Invalid order_by: at most {MAX_ORDER_BY_ITEMS} items (got {len(items)})",
            details={"limit": MAX_ORDER_BY_ITEMS},
        )
    keys: list[OrderKey] = []
    for item in items:
        text = _require_str(item, "order_by item")
        keys.append(_Parser(_ORDER_BY, text, spec, order=True).parse_order_key())
    return keys
