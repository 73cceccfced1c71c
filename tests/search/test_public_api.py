"""The public surface of mltrail.search: explicit, sorted, light to import, linear."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import mltrail.search as search
from mltrail.search import parse_filter

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


def test_parsing_is_linear_in_the_filter_length() -> None:
    """Each OR term costs the parser the same work, however many came before it.

    (Its speed, a typical filter in well under a millisecond and 5,000 terms in well under 2 s,
    is measured by benchmarks/tracking/bench_filter_parse.py, not asserted here.)
    """

    def filter_of(n: int) -> str:
        return " OR ".join(f"params.p{i} = 'v{i}'" for i in range(n))

    expr = parse_filter(filter_of(5000))
    assert isinstance(expr, search.Or)
    assert len(expr.items) == 5000
    small, medium, large = (_parser_steps(filter_of(n)) for n in (500, 1000, 2000))
    # Linear: the second 1,000 terms cost twice what the 500 before them did.
    assert abs((large - medium) - 2 * (medium - small)) <= 0.01 * (large - medium), (
        small,
        medium,
        large,
    )
    assert large < 100 * 2000  # and a small constant number of steps per term
