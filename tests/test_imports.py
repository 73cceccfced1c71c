"""``import mltrail`` stays light: checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "sqlalchemy",
    "alembic",
    "pandas",
    "numpy",
    "yaml",
    "click",
    "httpx",
    "mltrail.store.sql",
    "mltrail.store.rest",
    "mltrail.cli",
    "mltrail.store._imports_base",  # what `mltrail import` writes through: with a backend
    "mltrail.store._foreign",  # telling MLflow's stores apart: when a folder is opened
    "mltrail.importers",
)


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_mltrail_run_loads_the_projects_runner_on_first_use() -> None:
    loaded = _modules_after("import mltrail")
    assert "mltrail.projects" not in loaded
    loaded = _modules_after("import mltrail; mltrail.run")
    assert "mltrail.projects" in loaded


def test_import_mltrail_loads_nothing_heavy() -> None:
    loaded = _modules_after("import mltrail")
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY)
    assert heavy == []
    assert not any(m.startswith(("mltrail.server", "mltrail.store.sql")) for m in loaded)


def test_public_names_are_explicit() -> None:
    import types

    import mltrail

    for name in mltrail.__all__:
        assert hasattr(mltrail, name), name
    public = {
        name
        for name, value in vars(mltrail).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    helpers = {"annotations", "import_module", "TYPE_CHECKING", "Any"}
    lazy = set(mltrail._LAZY_FUNCTIONS)  # mltrail.run: loaded with mltrail.projects on first use
    assert public - helpers - lazy == set(mltrail.__all__) - {"__version__"} - lazy
