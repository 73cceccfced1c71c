"""``python -m mltrail.models._probe MODEL_DIR``: load a model, print who imported what.

With ``--wait MODULE...`` (a flavor starts the probe before it writes the model) the modules
are imported first, then the loader's own (mltrail's model and pyfunc modules, YAML), before
the hooks go in and with the garbage collector off, and the directory is read from standard
input.
Only libraries the flavor's loader imports anyway are named: their own imports are never the
model's requirements, and the loader's import statements still run (and are recorded) when
the model loads.  Should those early imports run code from outside installed packages, the
answer is ``{"retry": true}`` and the parent loads the model in a probe of the first kind.

Run in a fresh interpreter by :func:`mltrail.models._env.infer_requirements`, with only the
standard library imported before the hooks go in.  While the model loads through its
``python_function`` loader, every import is recorded with the top-level package of the code
that asked for it: ``"<root>"`` when that is the loader itself (mltrail, the unpickler, or the
deserializers that rebuild a model's objects: skops, ``torch.load``).  The last line printed is
a JSON object: ``edges``, a list of ``[importer, imported]`` pairs of top-level names (the
model's own local code, outside the standard library and site-packages, counts as ``"<root>"``
too), ``local``, whether any module imported comes from such local code, ``path``, the
probe's ``sys.path``, and ``sources``, the files of the mltrail modules it ran.  The parent keeps
what ``"<root>"`` imported and drops what libraries import for themselves (scikit-learn's
optional progress bars, joblib's psutil, ...), which their own installation takes care of; it
caches the answer only when ``local`` is false (see ``_requirements_cache``).
"""

from __future__ import annotations

import builtins
import gc
import importlib
import json
import os
import pickle  # noqa: F401  (its own module-level imports are not the model's: see below)
import sys
from types import FrameType
from typing import Any

__all__ = ["ROOT", "main"]

ROOT = "<root>"
# Code that rebuilds a model's objects: what it imports, the model references.  skops names
# the modules of a file's objects to ``importlib.import_module``; its import statements are
# its own business (optional integrations).  torch's unpicklers resolve classes by importing.
_IMPORT_MODULE_LOADERS = ("skops.io",)
_UNPICKLERS = ("torch.serialization", "torch._weights_only_unpickler")
_UNPICKLING_FUNCTIONS = {"find_class", "load", "persistent_load"}
_ROOT_PACKAGES = {"mltrail", "__main__", "pickle", "copyreg", "_pickle"}
# pickle is imported above, before the hooks: what its module imports for itself (the standard
# library, Jython's ``org``) would otherwise count as imported by the loader, but only in a
# probe where no library imported pickle first.
_LOADER_MODULES = ("yaml", "mltrail.models._model", "mltrail.pyfunc._load")
_SKIPPED = {"importlib", "importlib._bootstrap", "importlib._bootstrap_external", __name__}


def _installed_prefixes() -> tuple[str, ...]:
    """Where installed code lives: the standard library and every site-packages folder."""
    import site
    import sysconfig

    paths = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.update(site.getsitepackages())
    paths.add(site.getusersitepackages())
    return tuple(os.path.join(os.path.realpath(p), "") for p in paths if p)


_INSTALLED = _installed_prefixes()


_local_files: dict[str, bool] = {}
_real_dirs: dict[str, str] = {}


def _realpath(file: str) -> str:
    """``os.path.realpath(file)``, resolving each directory once (a module's folder holds many
    files): one ``lstat`` for a file that is not a symbolic link itself."""
    if not os.path.isabs(file):
        return os.path.realpath(file)
    folder, name = os.path.split(file)
    real = _real_dirs.get(folder)
    if real is None:
        real = _real_dirs[folder] = os.path.realpath(folder)
    if name in ("", ".", "..") or os.path.islink(file):
        return os.path.realpath(file)
    return os.path.join(real, name)


def _is_local_file(file: str) -> bool:
    """Code of the model's own (``code_paths``, working directory), not an installed library."""
    local = _local_files.get(file)
    if local is None:
        local = bool(file) and not file.startswith("<")
        # A relative name that is no file is made up (torch.ops says "_ops.py"): no local code.
        local = local and (os.path.isabs(file) or os.path.exists(file))
        local = local and not _realpath(file).startswith(_INSTALLED)
        _local_files[file] = local
    return local


def _is_local(frame: FrameType) -> bool:
    return _is_local_file(frame.f_code.co_filename)


def _importer(frame: FrameType | None, by_name: bool) -> str:
    while frame is not None and frame.f_globals.get("__name__") in _SKIPPED:
        frame = frame.f_back
    if frame is None:
        return ROOT
    name = str(frame.f_globals.get("__name__") or "")
    top = name.split(".", 1)[0]
    if top in _ROOT_PACKAGES:
        return ROOT
    if _is_local(frame):
        return ROOT
    if name.startswith(_UNPICKLERS) and frame.f_code.co_name in _UNPICKLING_FUNCTIONS:
        return ROOT
    if by_name and name.startswith(_IMPORT_MODULE_LOADERS):
        return ROOT
    return top


def _install_hooks(edges: set[tuple[str, str]]) -> None:
    real_import = builtins.__import__
    real_import_module = importlib.import_module

    def record(name: str, level: int, by_name: bool) -> None:
        if level == 0 and name:
            edges.add((_importer(sys._getframe(2), by_name), name.split(".", 1)[0]))

    def hooked_import(
        name: str,
        globals: Any = None,
        locals: Any = None,
        fromlist: Any = (),
        level: int = 0,
    ) -> Any:
        record(name, level, False)
        return real_import(name, globals, locals, fromlist, level)

    def hooked_import_module(name: str, package: str | None = None) -> Any:
        record(name, 0 if not name.startswith(".") else 1, True)
        return real_import_module(name, package)

    builtins.__import__ = hooked_import
    importlib.import_module = hooked_import_module


def _load(model_dir: str) -> None:
    """Load *model_dir* the way ``pyfunc.load_model`` does, without its URI machinery."""
    from mltrail.models._model import Model
    from mltrail.pyfunc._load import FLAVOR_NAME, _add_code_to_path, loader_for

    meta = Model.load(model_dir)
    conf = meta.flavors.get(FLAVOR_NAME)
    if conf is None:
        raise SystemExit(f"no {FLAVOR_NAME} flavor in {model_dir}: nothing to load")
    _add_code_to_path(model_dir, conf)
    module = importlib.import_module(loader_for(str(conf.get("loader_module", ""))))
    data_path = model_dir
    if conf.get("data"):
        data_path = os.path.join(model_dir, *str(conf["data"]).split("/"))
    module._load_pyfunc(data_path)


def _loaded_local_code() -> bool:
    """Whether a module imported so far comes from outside installed packages (and mltrail)."""
    main = sys.modules.get("__main__")
    for name, module in list(sys.modules.items()):
        # This probe runs as __main__ (multiprocessing may alias it as __mp_main__).
        if module is main or name.split(".", 1)[0] in _ROOT_PACKAGES:
            continue
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and _is_local_file(file):
            return True
    return False


def _mltrail_sources() -> list[str]:
    """The files of the mltrail modules imported (this probe's included)."""
    files = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and (name == "__main__" or name.split(".", 1)[0] == "mltrail"):
            files.append(os.path.abspath(file))
    return sorted(set(files))


def _import_if_present(name: str) -> None:
    """Import *name* unless no such module exists (a library's private module may go away)."""
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if not missing or not (name == missing or name.startswith(missing + ".")):
            raise


def _prewarm(modules: list[str]) -> None:
    """Import *modules* before the hooks go in (``skops.io`` as the sklearn flavor does, but
    without its scan of scikit-learn's estimators: see ``mltrail.sklearn._skops``), then the
    loader's own modules.  The collector is off meanwhile (imports make many objects and no
    garbage); what they made is frozen out of later collections when it is turned back on."""
    gc.disable()
    try:
        for name in modules:
            if name == "skops.io":
                from mltrail.sklearn._skops import skops_io

                skops_io(estimator_scan=False)
            else:
                _import_if_present(name)
        # What _load imports before the flavor's loader runs: mltrail's own modules and YAML,
        # whose import statements inside _load still run (and are recorded) as it loads.
        for name in _LOADER_MODULES:
            importlib.import_module(name)
    finally:
        gc.freeze()
        gc.enable()


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] == "--wait":
        # Started early: import the flavor's libraries, then wait for the model's directory.
        _prewarm(argv[2:])
        if _loaded_local_code():
            sys.stdin.readline()
            print(json.dumps({"retry": True}))  # those imports must be watched: start afresh
            return 0
        model_dir = sys.stdin.readline().rstrip("\n")
        if not model_dir:
            return 0
    elif len(argv) == 2:
        model_dir = argv[1]
    else:
        print(
            "usage: python -m mltrail.models._probe [--wait MODULE...] MODEL_DIR", file=sys.stderr
        )
        return 2
    edges: set[tuple[str, str]] = set()
    _install_hooks(edges)
    _load(model_dir)
    pairs = sorted([a, b] for a, b in edges if a != b)
    answer = {
        "edges": pairs,
        "local": _loaded_local_code(),
        "path": sys.path,
        "sources": _mltrail_sources(),
    }
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
