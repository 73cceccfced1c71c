"""Properties: no input escapes as anything but InvalidArgument; rendered trees parse back."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mltrail._exceptions import InvalidArgument
from mltrail.search import (
    And,
    Comparison,
    Expr,
    Identifier,
    Not,
    Or,
    OrderKey,
    SearchKind,
    parse_filter,
    parse_order_by,
)

T = TypeVar("T")
KINDS: list[SearchKind] = ["runs", "experiments", "registered_models", "model_versions"]
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_POSITION = re.compile(r" at position (\d+)\n")

# Fragments of the grammar, so that random sequences reach deep into the parser.
FRAGMENTS = [
    "metrics.acc", "metric.a", "params.p", "tags.t", "attributes.run_name", "run.status",
    "datasets.name", "foo.bar", "start_time", "created", "name", "version", "experiment_id",
    "version_number", "metrics.`f1 score`", 'params."a b"', "min(", "max(", "min", "max",
    "AND", "OR", "NOT", "and", "or", "not", "IN", "NOT IN", "LIKE", "ILIKE", "IS", "NULL",
    "IS NOT NULL", "ASC", "DESC", "=", "!=", "<", "<=", ">", ">=", "==", "<>", "(", ")", ",",
    "'x'", '"y"', "''", "'it''s'", "'\\'", "'", '"', "`", "0", "-1", "1.5", "1e308", "1e999",
    "-", "+", ".", "NaN", "Infinity", "-Infinity", "9" * 30, " ", "\t", "\n", "metrics.",
    "tags.mlflow.`x", "é", "\x00", ";",
]  # fmt: skip


def outcome(call: Callable[[], T]) -> T | InvalidArgument:
    """The result of ``call``, or the InvalidArgument it raised (any other exception escapes)."""
    try:
        return call()
    except InvalidArgument as exc:
        return exc


def check(text: str) -> None:
    for kind in KINDS:
        result = outcome(lambda: parse_filter(text, kind))  # noqa: B023
        if isinstance(result, InvalidArgument):
            found = _POSITION.search(result.message)
            assert found is not None, result.message
            assert 0 <= int(found.group(1)) <= len(text)
        elif result is None:
            assert not text.strip()
        else:
            assert isinstance(result, Comparison | And | Or | Not)


def check_order(items: list[str]) -> None:
    for kind in KINDS:
        keys = outcome(lambda: parse_order_by(items, kind))  # noqa: B023
        if isinstance(keys, InvalidArgument):
            assert _POSITION.search(keys.message) is not None, keys.message
        else:
            assert len(keys) == len(items)
            assert all(isinstance(key, OrderKey) for key in keys)


@FUZZ
@given(st.text())
def test_any_text_parses_or_raises_invalid_argument(text: str) -> None:
    check(text)


@FUZZ
@given(st.text(alphabet="metrics.paramtagsNOTANDOR()'\"`\\=<>!, 0123456789-+eINULKSaxyz_/:"))
def test_grammar_alphabet_parses_or_raises_invalid_argument(text: str) -> None:
    check(text)


@FUZZ
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=25), st.sampled_from([" ", ""]))
def test_grammar_fragments_parse_or_raise_invalid_argument(parts: list[str], sep: str) -> None:
    check(sep.join(parts))


@FUZZ
@given(st.lists(st.one_of(st.text(max_size=30), st.sampled_from(FRAGMENTS)), max_size=4))
def test_order_by_items_parse_or_raise_invalid_argument(items: list[str]) -> None:
    check_order(items)


@FUZZ
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=6).map(" ".join))
def test_order_by_fragments_parse_or_raise_invalid_argument(item: str) -> None:
    check_order([item])


# -- round trip: random trees rendered to text parse back to the same tree ---------------------

UNQUOTED_KEY = re.compile(r"[A-Za-z0-9_\-./:]+")
keys = st.one_of(
    st.from_regex(r"[A-Za-z0-9_\-/:][A-Za-z0-9_\-./:]{0,10}", fullmatch=True),
    st.text(min_size=1, max_size=12),
)
strings = st.text(max_size=12)
floats = st.floats(allow_nan=True, allow_infinity=True)
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
STRING_OPS = ["=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"]
NUMERIC_OPS = ["=", "!=", "<", "<=", ">", ">="]
RUN_STRING_ATTRIBUTES = ["run_id", "run_name", "status", "user_id", "artifact_uri"]


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    entity = draw(st.sampled_from(["metric", "param", "tag", "attribute", "dataset"]))
    if entity == "metric":
        ident = Identifier("metric", draw(keys), draw(st.sampled_from(["latest", "min", "max"])))
        op = draw(st.sampled_from([*NUMERIC_OPS, "IS NULL", "IS NOT NULL"]))
        value = None if op.startswith("IS") else draw(floats)
        if isinstance(value, float) and math.isnan(value):
            op = draw(st.sampled_from(["=", "!="]))
        return Comparison(ident, op, value, 0)
    if entity == "attribute" and draw(st.booleans()):
        ident = Identifier("attribute", draw(st.sampled_from(["start_time", "end_time"])))
        return Comparison(ident, draw(st.sampled_from(NUMERIC_OPS)), draw(ints), 0)
    if entity == "attribute":
        ident = Identifier("attribute", draw(st.sampled_from(RUN_STRING_ATTRIBUTES)))
    elif entity == "dataset":
        ident = Identifier("dataset", draw(st.sampled_from(["name", "digest", "context"])))
    else:
        ident = Identifier(entity, draw(keys))  # type: ignore[arg-type]
    ops = [*STRING_OPS, "IN", "NOT IN"]
    if entity in ("param", "tag"):
        ops += ["IS NULL", "IS NOT NULL"]
    op = draw(st.sampled_from(ops))
    if op.startswith("IS"):
        return Comparison(ident, op, None, 0)
    if op.endswith("IN"):
        return Comparison(ident, op, tuple(draw(st.lists(strings, min_size=1, max_size=3))), 0)
    return Comparison(ident, op, draw(strings), 0)


expressions = st.recursive(
    comparisons(),
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda items: And(tuple(items))),
        st.lists(children, min_size=2, max_size=3).map(lambda items: Or(tuple(items))),
        children.map(Not),
    ),
    max_leaves=8,
)


class Draw(Protocol):
    def __call__(self, strategy: st.SearchStrategy[T], label: Any = None) -> T: ...


@dataclass
class Renderer:
    """Renders a tree as filter text, recording where each comparison starts."""

    draw: Draw
    parts: list[str] = field(default_factory=list)
    size: int = 0
    positions: list[int] = field(default_factory=list)

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def space(self) -> None:
        self.emit(self.draw(st.sampled_from([" ", "  ", "\t", "\n "])))

    def keyword(self, word: str) -> None:
        self.emit(self.draw(st.sampled_from([word, word.lower(), word.title()])))

    def key(self, key: str) -> str:
        style = self.draw(st.sampled_from(["plain", "back", "double"]))
        if style == "plain" and UNQUOTED_KEY.fullmatch(key):
            return key
        if style == "back":
            return "`" + key.replace("`", "``") + "`"
        return '"' + key.replace("\\", "\\\\").replace('"', '""') + '"'

    def string(self, value: str) -> str:
        quote = self.draw(st.sampled_from(["'", '"']))
        escaped = value.replace("\\", "\\\\")
        if self.draw(st.booleans()):
            return quote + escaped.replace(quote, quote * 2) + quote
        return quote + escaped.replace(quote, "\\" + quote) + quote

    def number(self, value: float) -> str:
        if math.isnan(value):
            return self.draw(st.sampled_from(["NaN", "nan"]))
        if math.isinf(value):
            return ("-" if value < 0 else "") + self.draw(st.sampled_from(["Infinity", "inf"]))
        return repr(value)

    def comparison(self, cmp: Comparison) -> None:
        self.positions.append(self.size)
        ident = cmp.ident
        prefix = {
            "metric": ["metrics", "metric"],
            "param": ["params", "param"],
            "tag": ["tags", "tag"],
            "dataset": ["datasets", "dataset"],
            "attribute": ["attributes", "attribute", "attr", "run", ""],
        }[ident.entity]
        chosen = self.draw(st.sampled_from(prefix))
        key = self.key(ident.key) if ident.entity in ("metric", "param", "tag") else ident.key
        name = f"{chosen}.{key}" if chosen else key
        if ident.aggregate != "latest":
            name = f"{ident.aggregate}({name})"
        self.emit(name)
        self.space()
        for i, word in enumerate(cmp.op.split()):
            if i:
                self.space()
            if word.isalpha():
                self.keyword(word)
            else:
                self.emit(word)
        value = cmp.value
        if value is None:
            return
        self.space()
        if isinstance(value, tuple):
            self.emit("(" + ", ".join(self.string(v) for v in value) + ")")
        elif isinstance(value, str):
            self.emit(self.string(value))
        elif isinstance(value, float):
            self.emit(self.number(value))
        else:
            self.emit(str(value))

    def expr(self, expr: Expr) -> None:
        if isinstance(expr, Comparison):
            self.comparison(expr)
        elif isinstance(expr, Not):
            self.keyword("NOT")
            self.space()
            self.wrapped(expr.item)
        else:
            word = "AND" if isinstance(expr, And) else "OR"
            for i, item in enumerate(expr.items):
                if i:
                    self.space()
                    self.keyword(word)
                    self.space()
                self.wrapped(item)

    def wrapped(self, expr: Expr) -> None:
        if isinstance(expr, Comparison) and not self.draw(st.booleans()):
            self.expr(expr)
            return
        self.emit("(")
        self.expr(expr)
        self.emit(")")


def normalise(expr: Expr) -> object:
    """A comparable form: no positions, NaN made comparable, same-operator nesting flattened."""
    if isinstance(expr, Comparison):
        value = expr.value
        if isinstance(value, float) and math.isnan(value):
            value = "<NaN>"
        return ("cmp", expr.ident, expr.op, value)
    if isinstance(expr, Not):
        return ("not", normalise(expr.item))
    kind = type(expr)
    flat: list[object] = []
    for item in expr.items:
        if isinstance(item, kind):
            inner = normalise(item)
            assert isinstance(inner, tuple)
            flat.extend(inner[1])
        else:
            flat.append(normalise(item))
    return (kind.__name__, tuple(flat))


def comparisons_in(expr: Expr) -> list[Comparison]:
    if isinstance(expr, Comparison):
        return [expr]
    if isinstance(expr, Not):
        return comparisons_in(expr.item)
    return [c for item in expr.items for c in comparisons_in(item)]


@settings(max_examples=300, deadline=None)
@given(expressions, st.data())
def test_rendered_trees_parse_back(expr: Expr, data: st.DataObject) -> None:
    renderer = Renderer(data.draw)
    renderer.expr(expr)
    text = "".join(renderer.parts)
    parsed = parse_filter(text)
    assert parsed is not None
    assert normalise(parsed) == normalise(expr)
    assert [c.position for c in comparisons_in(parsed)] == renderer.positions
