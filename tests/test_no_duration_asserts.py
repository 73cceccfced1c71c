"""No test asserts a wall-clock duration: on a busy machine any threshold fails some day.

A test checks work instead (calls made, retries and the waits they asked for, rows or bytes
read, steps at two sizes); a speed target belongs in benchmarks/.  This scan of tests/ finds
every ``assert`` that reads a clock (``time.perf_counter()``, ``monotonic()``, ``time()``,
``timeit`` ...), directly or through a variable or function computed from one.  The only
exceptions are waits with a deadline, which give up on something that never happens; they are
listed below with the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent

CLOCKS = {
    "perf_counter",
    "perf_counter_ns",
    "monotonic",
    "monotonic_ns",
    "process_time",
    "process_time_ns",
    "thread_time",
    "time",
    "time_ns",
    "timeit",
    "repeat",
    "default_timer",
}
CLOCK_MODULES = {"time", "timeit"}

# (file below tests/, function): why its assert on a clock is not a duration claim.
ALLOWED = {
    ("registry/conftest.py", "rest_store"): "a deadline: fails when uvicorn never starts",
    ("projects/test_run.py", "wait_for_file"): "a deadline: fails when the file never appears",
}


def _is_clock_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        base = func.value
        return (
            func.attr in CLOCKS and isinstance(base, ast.Name) and base.id in CLOCK_MODULES
        ) or (func.attr == "now" and "datetime" in ast.unparse(base))
    return isinstance(func, ast.Name) and func.id in {"perf_counter", "monotonic", "default_timer"}


def _reads(node: ast.AST, names: set[str], functions: set[str]) -> bool:
    """Whether *node* reads a clock, a name computed from one or a function returning one."""
    for sub in ast.walk(node):
        if _is_clock_call(sub):
            return True
        if isinstance(sub, ast.Name) and sub.id in names:
            return True
        if isinstance(sub, ast.Attribute) and sub.attr in names:
            return True  # self.elapsed, result.started_in, ...
        if isinstance(sub, ast.Call):
            called = sub.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            if name in functions:
                return True
    return False


def _targets(node: ast.AST) -> list[str]:
    out: list[str] = []
    for target in (
        node.targets
        if isinstance(node, ast.Assign)
        else [node.target]
        if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For))
        else []
    ):
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                out.append(sub.id)
            elif isinstance(sub, ast.Attribute):
                out.append(sub.attr)
    return out


def duration_asserts(source: str) -> list[tuple[int, str]]:
    """(line, enclosing function) of every assert in *source* that reads a clock."""
    tree = ast.parse(source)
    names: set[str] = set()
    functions: set[str] = set()
    changed = True
    while changed:  # follow values computed from a clock until nothing new is found
        changed = False
        for node in ast.walk(tree):
            value = getattr(node, "value", None) if not isinstance(node, ast.For) else node.iter
            if value is not None and _targets(node) and _reads(value, names, functions):
                new = set(_targets(node)) - names
                names |= new
                changed |= bool(new)
            if (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.name not in functions
                and any(
                    isinstance(sub, ast.Return)
                    and sub.value is not None
                    and _reads(sub.value, names, functions)
                    for sub in ast.walk(node)
                )
            ):
                functions.add(node.name)
                changed = True
            if isinstance(node, ast.Call) and any(  # timings.append(elapsed)
                _reads(arg, names, functions) for arg in node.args
            ):
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and func.attr in {"append", "extend", "add"}
                    and func.value.id not in names
                ):
                    names.add(func.value.id)
                    changed = True
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Assert) and _reads(node.test, names, functions):
                found.append((node.lineno, function.name))
    return sorted(set(found))


def test_no_test_asserts_a_duration() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        relative = path.relative_to(TESTS).as_posix()
        for line, function in duration_asserts(path.read_text(encoding="utf-8")):
            if (relative, function) not in ALLOWED:
                offenders.append(f"tests/{relative}:{line} ({function})")
    assert offenders == [], "asserts on a measured duration:\n" + "\n".join(offenders)


def test_the_scan_finds_durations_however_they_are_computed() -> None:
    # The samples live in a text file, written with ``expect`` where the code they stand for
    # has ``assert``: they are what the scan must catch, not tests of ours.
    samples = (Path(__file__).parent / "duration_assert_samples.txt").read_text(encoding="utf-8")
    assert samples.count("\n    expect ") == 5
    caught = samples.replace("\n    expect ", "\n    assert ")
    assert [f for _, f in duration_asserts(caught)] == [
        "test_direct",
        "test_through_a_variable",
        "test_through_a_list",
        "test_through_a_helper",
        "test_an_attribute",
    ]
    fine = """
import time

def test_counts():
    calls = []
    work(calls.append)
    assert len(calls) == 3

def test_a_printed_time():
    start = time.perf_counter()
    work()
    print(f"took {time.perf_counter() - start:.2f} s")
    assert done()
"""
    assert duration_asserts(fine) == []
