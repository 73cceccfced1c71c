"""ARCHITECTURE.md's layer order, read from the source: imports point down only.

Every module under ``src/mltrail`` is parsed (no import runs) and every import in it counts:
module-level, inside functions, and under ``TYPE_CHECKING``.  A module may import its own
layer and the layers below it; anything else is an upward import and fails the test, unless
it is listed in :data:`ALLOWED_UPWARD` with the reason it is still there.  That list may only
shrink: an entry that no longer matches an import fails the test too.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "mltrail"

#: The layers, lowest first; each names the top-level modules or packages of ``mltrail`` in it.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "core",
        frozenset(
            {
                "_exceptions",
                "_error_codes",
                "exceptions",
                "entities",
                "validation",
                "search",
                "_run_names",
                "_version",
                "_optional",
                # the models layer's interface to the tracking services above it, which
                # mltrail.tracking installs (dependency inversion: every import points down)
                "_model_tracking",
                "__version__",
            }
        ),
    ),
    ("store", frozenset({"store", "artifacts"})),
    (
        "models",
        frozenset(
            {
                "models",
                "pyfunc",
                "sklearn",
                "xgboost",
                "statsmodels",
                "lightgbm",
                "catboost",
                "keras",
                "transformers",
                "onnx",
                "pytorch",
                "shap",
                "registry",
                "data",
                # the run context (user, source, git commit) that data's code sources and the
                # tracking library record: it reads the process and the git repository (I/O)
                "_run_context",
                # isolated Python environments (virtualenv, uv, conda) built and cached for
                # the code mltrail runs: model serving's and projects' (subprocesses, I/O)
                "_envs",
            }
        ),
    ),
    # evaluation logs what it computes to runs (tracking); metrics re-exports its names;
    # _doctor reports the library's state (URIs, the active run) for a bug report
    ("library", frozenset({"tracking", "client", "evaluation", "metrics", "_doctor"})),
    # reading other stores (MLflow's database, mlruns, server; TensorBoard; another mltrail)
    # and writing what they hold into a backend
    ("importers", frozenset({"importers"})),
    ("faces", frozenset({"server", "serving", "projects", "cli"})),
    # ``mltrail`` itself (``__init__.py``): the public face that re-exports every layer.
    ("package", frozenset({""})),
)
_RANK = {part: rank for rank, (_, parts) in enumerate(LAYERS) for part in parts}

#: Upward imports not removed yet: (importing module, imported module) -> why it is still here.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {
    # MLflow's public name: mlflow.artifacts' helpers (download_artifacts & co.) resolve
    # runs:/ and models:/ with a tracking client, so they live in the tracking layer; the
    # package facade re-exports them on first use (module __getattr__), and no repository
    # module imports tracking.
    ("mltrail.artifacts", "mltrail.tracking"): "MLflow's mlflow.artifacts names (facade)",
    ("mltrail.artifacts", "mltrail.tracking._artifact_helpers"): "the same re-export",
    # MLflow's public names: mlflow.models.evaluate, make_metric, MetricThreshold, ... are
    # mltrail.evaluation's (it logs to runs, so it sits in the library layer); the models
    # package re-exports them on first use (module __getattr__), and nothing else in the
    # models layer imports evaluation.
    ("mltrail.models", "mltrail.evaluation"): "MLflow's mlflow.models evaluation names (facade)",
    # MLflow's module paths mlflow.models.evaluation(.validation), for `from ... import`:
    # facades that only re-export mltrail.evaluation's names (imported when named).
    ("mltrail.models.evaluation", "mltrail.evaluation"): "MLflow's module path (facade)",
    ("mltrail.models.evaluation.validation", "mltrail.evaluation"): "the same, for validation",
    # MLflow's public names: mlflow.models.predict, build_docker and validate_serving_input
    # score or package a model with the scoring server's input rules and Docker build context
    # (mltrail.serving, faces layer); the models package re-exports them on first use.
    ("mltrail.models", "mltrail.serving"): "MLflow's mlflow.models scoring names (facade)",
    # MLflow's public name: mlflow.models.add_libraries_to_model re-logs a registered model
    # with wheels of its requirements (tracking layer); re-exported on first use.
    ("mltrail.models", "mltrail.tracking"): "MLflow's mlflow.models.add_libraries_to_model",
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[str]:
    """Every ``mltrail`` module *path* imports, at any depth of its syntax tree."""
    tree = ast.parse(path.read_text(), str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module == "mltrail":  # from mltrail import X: the submodule, or the package
                for alias in node.names:
                    known = alias.name in _RANK and alias.name != ""
                    yield f"mltrail.{alias.name}" if known else "mltrail"
            else:
                yield module


def _layer(module: str) -> int | None:
    """The rank of an ``mltrail`` module's layer (None for other packages)."""
    if module != "mltrail" and not module.startswith("mltrail."):
        return None
    top = module.split(".")[1] if "." in module else ""
    rank = _RANK.get(top)
    assert rank is not None, f"{module} is in no layer of LAYERS"
    return rank


def _upward_imports() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(SRC.rglob("*.py")):
        importer = _module_name(path)
        own = _layer(importer)
        assert own is not None
        for imported in _imports(path):
            rank = _layer(imported)
            if rank is not None and rank > own:
                found.add((importer, imported))
    return found


def test_every_package_is_in_a_layer() -> None:
    tops = {p.stem if p.is_file() else p.name for p in SRC.iterdir()}
    tops = {t for t in tops if t not in ("__init__", "py", "__pycache__")} - {"py.typed"}
    assert tops - {"py"} <= set(_RANK), sorted(tops - set(_RANK))


def test_imports_point_down_only() -> None:
    upward = _upward_imports()
    unexpected = sorted(upward - set(ALLOWED_UPWARD))
    assert not unexpected, "upward imports:\n" + "\n".join(f"{a} -> {b}" for a, b in unexpected)


def test_the_allowances_are_all_still_needed() -> None:
    stale = sorted(set(ALLOWED_UPWARD) - _upward_imports())
    assert not stale, f"remove these allowances, the imports are gone: {stale}"


@pytest.mark.parametrize("face", ["server", "serving", "projects", "cli", "tracking"])
def test_faces_import_no_concrete_backend(face: str) -> None:
    """Faces reach backends through mltrail.store's interfaces, never mltrail.store.sql."""
    for path in sorted((SRC / face).rglob("*.py")):
        for imported in _imports(path):
            concrete = f"{imported}.".startswith("mltrail.store.sql.")
            assert not concrete, f"{_module_name(path)} imports {imported}"


_STORE_INTERFACES = (
    "Backend",
    "ExperimentStore",
    "RunStore",
    "MetricStore",
    "ModelRegistryStore",
    "WebhookStore",
    "LoggedModelStore",
    "SqlBackend",
    "RestBackend",
)
_PROBE = re.compile(
    r"isinstance\([^)]*\b(" + "|".join(_STORE_INTERFACES) + r")\b"
    r"|getattr\(\s*(store|backend|self\._store|ctx\.backend)\b"
)


@pytest.mark.parametrize("face", ["server", "serving", "projects", "cli", "tracking", "models"])
def test_faces_do_not_probe_backend_capabilities(face: str) -> None:
    """A backend's parts are declared in its type: no isinstance/getattr on a store."""
    for path in sorted((SRC / face).rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not _PROBE.search(line), f"{_module_name(path)}:{number}: {line.strip()}"
