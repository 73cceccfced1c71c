"""mltrail's own modules are imported at the top of a module, not inside functions.

An import of mltrail's code inside a function hides a dependency (MLflow has over a thousand,
most of them dodging circular imports).  It is allowed only where it keeps a heavy or optional
dependency off a light path (``import mltrail``, ``mltrail --help``, ``import mltrail.sklearn``
without scikit-learn), and each such import is listed below with its reason.  A listed import
that no longer exists fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import mltrail

SRC = Path(mltrail.__file__).resolve().parent.parent

# (importing module, imported module): why the import waits until the function runs.
ALLOWED: dict[tuple[str, str], str] = {
    # -- facades and light paths ---------------------------------------------------------------
    ("mltrail.artifacts", "mltrail.tracking._artifact_helpers"): (
        "MLflow's mlflow.artifacts helpers live in the tracking layer (they resolve runs:/ and "
        "models:/ with a client): re-exported on first use, so the repositories, which the "
        "tracking client uses, never import tracking"
    ),
    ("mltrail.models", "mltrail.evaluation"): (
        "MLflow's mlflow.models.evaluate & co. are mltrail.evaluation's (library layer, it logs "
        "to runs): re-exported on first use, so importing mltrail.models loads no tracking "
        "code and the models layer imports nothing above it"
    ),
    ("mltrail.entities", "mltrail.entities._registry"): (
        "the registry entities' dataclasses load on first use, off `import mltrail`"
    ),
    ("mltrail.tracking._for_models", "mltrail.tracking._model_uris"): (
        "installed at `import mltrail`: resolving a model URI loads the registry, its entities "
        "and the artifact path rules (hashlib, secrets, unicodedata), which entities and "
        "artifacts keep off `import mltrail` too"
    ),
    ("mltrail.tracking._fluent_registry", "mltrail.registry"): (
        "register_model resolves runs:/ URIs: keeps the registry, its entities and the "
        "artifact path rules (hashlib, secrets, unicodedata) off `import mltrail`"
    ),
    # Saving a model pins its requirements and probes its imports: models._env loads
    # importlib.metadata (and email), subprocess, pickle, csv and zipfile, which importing a
    # flavor does not need.
    **{
        (importer, "mltrail.models._env"): (
            "the requirements machinery (importlib.metadata, subprocess, pickle, csv, zipfile) "
            "loads when a model is saved, not with `import mltrail.<flavor>`"
        )
        for importer in (
            "mltrail.catboost._flavor",
            "mltrail.keras._flavor",
            "mltrail.lightgbm._flavor",
            "mltrail.models._save",
            "mltrail.onnx._flavor",
            "mltrail.pyfunc._save",
            "mltrail.pytorch._flavor",
            "mltrail.shap._flavor",
            "mltrail.sklearn._flavor",
            "mltrail.statsmodels._flavor",
            "mltrail.transformers._flavor",
            "mltrail.xgboost._flavor",
        )
    },
    # The store package's public functions over the SQL backend: SQLAlchemy and Alembic load
    # when a database is upgraded or its artifact root asked for, not with `import mltrail`.
    ("mltrail.store", "mltrail.store.sql._backend"): (
        "artifact_root_for: keeps SQLAlchemy off `import mltrail` (the tracking library and "
        "the server settings import mltrail.store)"
    ),
    ("mltrail.store", "mltrail.store.sql._upgrade"): (
        "upgrade_database: keeps SQLAlchemy and Alembic off `import mltrail`"
    ),
    ("mltrail.store", "mltrail.store.sql._auth_open"): (
        "open_auth_store: keeps SQLAlchemy and Alembic off `import mltrail`"
    ),
    # What `import mltrail` does not load until it is used (measured with -X importtime).
    **{
        (importer, "mltrail._run_context"): (
            "the run context (git, user, notebook and CI probes) loads at the first run"
        )
        for importer in ("mltrail.tracking._client", "mltrail.tracking._fluent")
    },
    ("mltrail.tracking.autolog._boosting", "mltrail.tracking.autolog._sklearn_metric_calls"): (
        "XGBoost's and LightGBM's post-training metrics patch scikit-learn's metric functions "
        "when scikit-learn is installed: it is optional beside them, and that module imports it"
    ),
    ("mltrail.tracking._backends", "mltrail.registry.webhooks"): (
        "the webhook dispatcher (sender, signing, destination checks: socket, hmac, the "
        "registry's URI rules) loads with the first backend the library opens"
    ),
    ("mltrail.tracking._client_artifacts", "mltrail.registry._uris"): (
        "a missing run artifact looked up among the run's logged models: keeps the registry "
        "(and its entities) off `import mltrail`"
    ),
    ("mltrail.tracking._client_registry", "mltrail.registry"): (
        "copy_model_version's models:/ parsing: keeps the registry off `import mltrail`"
    ),
    ("mltrail.tracking._client_registry", "mltrail.registry.webhooks"): (
        "test_webhook's sender and the library's destination policy load when used"
    ),
    ("mltrail.tracking._client_registry", "mltrail.entities._registry"): (
        "the registry entities load on first use, off `import mltrail`"
    ),
    ("mltrail.tracking._client_registry", "mltrail.entities._webhook"): (
        "webhook events (json, datetime) load when a webhook is made or tested"
    ),
    ("mltrail.tracking._client_artifacts", "mltrail.artifacts._serialize"): (
        "the object serialisers (json, and the yaml/PIL/matplotlib seams) load when an object "
        "is logged"
    ),
    ("mltrail.models._probe", "mltrail.models._model"): (
        "the requirements probe is a fresh interpreter whose module level stays "
        "standard-library only: what it imports after its import hooks go in is recorded"
    ),
    ("mltrail.models._probe", "mltrail.pyfunc._load"): (
        "the requirements probe loads the model's loader after its import hooks go in"
    ),
    ("mltrail.models._probe", "mltrail.sklearn._skops"): (
        "the requirements probe pre-imports skops.io only when the model was saved with skops"
    ),
    # The CLI's faces over the server and the scoring server: `mltrail --help` (and every
    # command's --help) loads neither Starlette nor uvicorn; the command that runs them does.
    ("mltrail.cli._server", "mltrail.server"): (
        "`mltrail server` starts the tracking server: the server package loads Starlette, "
        "uvicorn and the routes, which `mltrail --help` must not"
    ),
    ("mltrail.cli._server", "mltrail.server.auth"): (
        "--app-name basic-auth reads the auth config from the server package, whose __init__ "
        "loads Starlette and uvicorn: read when `mltrail server` runs, not at `mltrail --help`"
    ),
    ("mltrail.cli._server", "mltrail.server._settings"): (
        "the default allowed hosts live in the server package, whose __init__ loads Starlette "
        "and uvicorn: read when `mltrail server` runs, not at `mltrail --help`"
    ),
    # `import mltrail` stays light (tests/test_imports.py): interfaces and checks that only
    # some backends or URIs need load when they are first needed.
    ("mltrail.store._backend", "mltrail.store._imports_base"): (
        "the import interface's six record classes cost ~3 ms at `import mltrail`; a backend "
        "that declares no import part gets the refusing default when it is built"
    ),
    ("mltrail.store._backend", "mltrail.store._foreign"): (
        "MLflow's revision list and folder checks load only when a file: URI is opened"
    ),
    ("mltrail.tracking._uri", "mltrail.store._foreign"): (
        "MLflow's folder check loads only when a folder tracking URI is resolved"
    ),
    **{
        ("mltrail.cli._import", module): (
            "the import engine (~20 ms) loads when an import runs, not at every `mltrail` "
            "command (`mltrail models serve` started 0.1 s later with it)"
        )
        for module in (
            "mltrail.importers",
            "mltrail.importers._importer",
            "mltrail.importers._mltrail",
        )
    },
    ("mltrail.cli._projects", "mltrail.projects"): (
        "`mltrail run` loads the project runner (YAML, git, the environment builder, the "
        "artifact helpers) when a project runs, not at `mltrail --help`"
    ),
    ("mltrail.cli._import_tensorboard", "mltrail.importers._tensorboard"): (
        "the TensorBoard reader loads when `mltrail import tensorboard` runs"
    ),
    ("mltrail.cli._import_mlflow", "mltrail.importers._mlflow_common"): (
        "the importers package (and its engine) loads when `mltrail import mlflow` runs"
    ),
    ("mltrail.cli._import_mlflow", "mltrail.importers._mlflow"): (
        "`mltrail import mlflow` opens MLflow's database (SQLAlchemy) or server (httpx) when it "
        "runs, not at `mltrail --help`"
    ),
    **{
        ("mltrail.cli._models", module): (
            "`mltrail models serve/predict/generate-dockerfile` load the scoring stack "
            "(mltrail.serving imports Starlette) when they run, not at `mltrail --help`"
        )
        for module in (
            "mltrail.serving._app",
            "mltrail.serving._backend",
            "mltrail.serving._model_api",
        )
    },
    # MLflow's mlflow.models.predict, build_docker and validate_serving_input share the
    # scoring server's input rules and build context: re-exported on first use.
    ("mltrail.models", "mltrail.serving._model_api"): (
        "MLflow's mlflow.models scoring names are mltrail.serving's (faces layer, Starlette): "
        "re-exported on first use, so importing mltrail.models loads no server code"
    ),
    # MLflow's mlflow.models.add_libraries_to_model re-logs and registers a model (tracking).
    ("mltrail.models", "mltrail.tracking._wheeled_model"): (
        "MLflow's mlflow.models.add_libraries_to_model logs to runs and registers versions "
        "(tracking layer): re-exported on first use, so importing mltrail.models loads no "
        "tracking code"
    ),
    ("mltrail.entities", "mltrail.entities._webhook"): (
        "the webhook entities (json, datetime, URL checks) load on first use, off `import mltrail`"
    ),
    ("mltrail.models._requirements", "mltrail.models._env"): (
        "the requirements machinery (importlib.metadata, subprocess, pickle, csv, zipfile) "
        "loads when requirements are inferred, not with `import mltrail.models`"
    ),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    base = SRC.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _imported(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool) -> list[str]:
    """The mltrail modules *node* imports (``from pkg import sub`` imports ``pkg.sub``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "mltrail"]
    if node.level:
        package = importer.split(".") if is_package else importer.split(".")[:-1]
        base = package[: len(package) - (node.level - 1)]
        module = ".".join(base + ([node.module] if node.module else []))
    elif node.module and node.module.split(".")[0] == "mltrail":
        module = node.module
    else:
        return []
    submodules = [f"{module}.{a.name}" for a in node.names if _is_module(f"{module}.{a.name}")]
    if len(submodules) == len(node.names):
        return submodules
    return [module, *submodules]


def _function_level_imports() -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for path in sorted((SRC / "mltrail").rglob("*.py")):
        importer = _module_name(path)
        is_package = path.name == "__init__.py"
        functions = [
            n
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        ]
        seen: set[int] = set()
        for function in functions:
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in seen:
                    seen.add(id(node))
                    for imported in _imported(node, importer, is_package):
                        found[(importer, imported)] += 1
    return found


def test_own_modules_are_imported_at_the_top() -> None:
    found = _function_level_imports()
    hidden = sorted(pair for pair in found if pair not in ALLOWED)
    assert hidden == [], (
        "mltrail modules imported inside functions: import them at the top of the module "
        "(a circular import means some code is in the wrong layer), or, if the import keeps "
        "a heavy or optional dependency off a light path, list it in ALLOWED with the reason"
    )


def test_every_allowance_is_still_used() -> None:
    found = _function_level_imports()
    stale = sorted(pair for pair in ALLOWED if pair not in found)
    assert stale == [], "allowances that match no import any more: remove them from ALLOWED"


def test_every_allowance_has_a_reason() -> None:
    assert all(reason.strip() for reason in ALLOWED.values())


def test_the_scan_sees_function_level_imports() -> None:
    tree = ast.parse("def f():\n    from mltrail.models import _log\n    import mltrail.data\n")
    node_a, node_b = tree.body[0].body  # type: ignore[attr-defined]
    assert _imported(node_a, "mltrail.x", False) == ["mltrail.models._log"]
    assert _imported(node_b, "mltrail.x", False) == ["mltrail.data"]
    relative = ast.parse("from ._schema import x\n").body[0]
    assert isinstance(relative, ast.ImportFrom)
    assert _imported(relative, "mltrail.models._infer", False) == ["mltrail.models._schema"]
