"""The public surface of mltrail.search: explicit, sorted, light to import, linear."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import mltrail.search as search
from mltrail._exceptions import InvalidArgument
from mltrail.search import (
    MAX_FILTER_TERMS,
    MAX_FILTER_VALUES,
    MAX_ORDER_BY_ITEMS,
    parse_filter,
    parse_order_by,
)
from mltrail.search._lexer import Token, tokenize

HEAVY = ("sqlalchemy", "alembic", "pandas", "numpy", "yaml", "click", "httpx", "starlette")


def test_all_is_sorted_and_matches_the_public_names() -> None:
    # Sorted as ruff sorts __all__: constants, then classes, then functions.
    assert search.__all__ == sorted(
        search.__all__, key=lambda name: (not name.isupper(), not name[:1].isupper(), name)
    )
    public = {
        name
        for name, value in vars(search).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - {"annotations"} == set(search.__all__)
    for name in search.__all__:
        assert getattr(search, name) is not None


def test_expr_is_a_runtime_union() -> None:
    expr = parse_filter("params.a = '1' OR NOT params.b = '2'")
    assert isinstance(expr, search.Expr)


def test_import_loads_only_the_standard_library() -> None:
    probe = (
        "import sys, json\n"
        "before = set(sys.modules)\n"
        "import mltrail.search\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY]
    assert heavy == []
    assert not any(
        m.startswith(("mltrail.store.sql", "mltrail.server", "mltrail.cli")) for m in loaded
    )


def test_search_modules_import_nothing_outside_the_standard_library() -> None:
    import ast
    from pathlib import Path

    allowed = {"__future__", "collections", "dataclasses", "math", "re", "typing"}
    package = Path(search.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in allowed or name.startswith(
                    ("mltrail.search", "mltrail._exceptions")
                ), f"{path.name} imports {name}"
        assert len(path.read_text(encoding="utf-8").splitlines()) < 800, path.name


def _parser_steps(text: str) -> int:
    """How many functions of mltrail.search (and builtins they call) parsing *text* runs."""
    package = str(Path(search.__file__).parent)
    steps = 0

    def count(frame: types.FrameType, event: str, _arg: object) -> None:
        nonlocal steps
        if event in ("call", "c_call") and frame.f_code.co_filename.startswith(package):
            steps += 1

    sys.setprofile(count)
    try:
        parse_filter(text)
    finally:
        sys.setprofile(None)
    return steps


def test_a_filter_past_the_limit_is_refused_without_reading_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read: list[Token] = []

    def counting(what: str, text: str) -> Iterator[Token]:
        for token in tokenize(what, text):
            read.append(token)
            yield token

    monkeypatch.setattr(search._parser, "tokenize", counting)
    at_limit = " OR ".join(f"params.p{i} = 'v{i}'" for i in range(MAX_FILTER_TERMS))
    expr = parse_filter(at_limit)
    assert isinstance(expr, search.Or)
    assert len(expr.items) == MAX_FILTER_TERMS
    per_term = 4  # field, operator, value, OR
    assert len(read) == MAX_FILTER_TERMS * per_term  # the last OR is the END token

    read.clear()
    huge = " OR ".join(f"params.p{i} = 'v{i}'" for i in range(100_000))
    with pytest.raises(InvalidArgument, match=f"at most {MAX_FILTER_TERMS} comparisons") as info:
        parse_filter(huge)
    assert info.value.details == {
        "position": huge.index(f"params.p{MAX_FILTER_TERMS} "),
        "limit": MAX_FILTER_TERMS,
    }
    assert len(read) <= (MAX_FILTER_TERMS + 1) * per_term + 2


def test_in_lists_and_order_by_are_bounded() -> None:
    values = ", ".join(f"'{i}'" for i in range(MAX_FILTER_VALUES))
    expr = parse_filter(f"params.a IN ({values})")
    assert isinstance(expr, search.Comparison)
    assert isinstance(expr.value, tuple)
    assert len(expr.value) == MAX_FILTER_VALUES
    with pytest.raises(InvalidArgument, match=f"at most {MAX_FILTER_VALUES} values") as info:
        parse_filter(f"params.a IN ({values}) OR params.b IN ('x')")
    assert info.value.details["limit"] == MAX_FILTER_VALUES
    assert len(parse_order_by(["start_time"] * MAX_ORDER_BY_ITEMS)) == MAX_ORDER_BY_ITEMS
    with pytest.raises(InvalidArgument, match=f"at most {MAX_ORDER_BY_ITEMS} items"):
        parse_order_by(["start_time"] * (MAX_ORDER_BY_ITEMS + 1))


def test_parsing_is_linear_in_the_filter_length() -> None:
    """Each OR term costs the parser the same work, however many came before it.

    (Its speed, a typical filter in well under a millisecond and a filter at the term limit,
    is measured by benchmarks/tracking/bench_filter_parse.py, not asserted here.)
    """

    def filter_of(n: int) -> str:
        return " OR ".join(f"params.p{i} = 'v{i}'" for i in range(n))

    expr = parse_filter(filter_of(MAX_FILTER_TERMS))
    assert isinstance(expr, search.Or)
    assert len(expr.items) == MAX_FILTER_TERMS
    small, medium, large = (_parser_steps(filter_of(n)) for n in (10, 20, 40))
    # Linear: the second 20 terms cost twice what the 10 before them did.
    assert abs((large - medium) - 2 * (medium - small)) <= 0.01 * (large - medium), (
        small,
        medium,
        large,
    )
    assert large < 200 * 40  # and a small constant number of steps per term
