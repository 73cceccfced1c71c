"""The public surface of mltrail.search: explicit, sorted, light to import, fast."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import types

import mltrail.search as search
from mltrail.search import parse_filter, parse_order_by

HEAVY = ("sqlalchemy", "alembic", "pandas", "numpy", "yaml", "click", "httpx", "starlette")


def test_all_is_sorted_and_matches_the_public_names() -> None:
    assert search.__all__ == sorted(search.__all__)
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


def test_parsing_a_typical_filter_takes_well_under_a_millisecond() -> None:
    text = (
        "metrics.acc > 0.9 AND (params.model = 'rf' OR tags.team ILIKE 'r%') "
        "AND status IN ('RUNNING', 'FINISHED') AND start_time >= 1700000000000"
    )
    parse_filter(text)
    rounds = 200
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            parse_filter(text)
            parse_order_by(["max(metrics.acc) DESC", "start_time"])
        best = min(best, (time.perf_counter() - start) / rounds)
    # Typically ~50 us; a generous bound that a loaded CI machine still meets.
    assert best < 1e-3


def test_parsing_is_linear_in_the_filter_length() -> None:
    text = " OR ".join(f"params.p{i} = 'v{i}'" for i in range(5000))
    start = time.perf_counter()
    expr = parse_filter(text)
    elapsed = time.perf_counter() - start
    assert isinstance(expr, search.Or)
    assert len(expr.items) == 5000
    assert elapsed < 2.0
