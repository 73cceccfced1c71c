"""Run a callback when a module is imported: autologging for a framework imported later.

``mltrail.autolog()`` may run before ``import sklearn``.  :func:`when_imported` calls back at
once when the module is already imported, and otherwise right after its first import
completes, through a finder on ``sys.meta_path`` that wraps the module's loader.  A callback
that fails is reported, never raised into the user's ``import``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

__all__ = ["forget", "when_imported"]

_logger = logging.getLogger("mltrail.autolog")
_lock = threading.RLock()
_callbacks: dict[str, dict[str, Callable[[ModuleType], None]]] = {}


def when_imported(module: str, key: str, callback: Callable[[ModuleType], None]) -> None:
    """Call ``callback(module)`` once *module* is imported (now, if it already is).

    A later registration with the same *key* for the same module replaces the earlier one.
    """
    with _lock:
        loaded = sys.modules.get(module)
        if loaded is None:
            _callbacks.setdefault(module, {})[key] = callback
            _install_finder()
            return
    _call(module, callback, loaded)


def forget(module: str, key: str) -> None:
    """Drop the callback registered under *key* for *module*, if it has not run yet."""
    with _lock:
        callbacks = _callbacks.get(module, {})
        callbacks.pop(key, None)
        if not callbacks:
            _callbacks.pop(module, None)


def _call(name: str, callback: Callable[[ModuleType], None], module: ModuleType) -> None:
    try:
        callback(module)
    except Exception as exc:  # the user's import must succeed whatever autologging does
        _logger.warning("autologging could not be set up for %s: %s", name, exc)


def _fire(name: str, module: ModuleType) -> None:
    with _lock:
        callbacks = list(_callbacks.pop(name, {}).values())
    for callback in callbacks:
        _call(name, callback, module)


class _Loader(importlib.abc.Loader):
    def __init__(self, name: str, loader: importlib.abc.Loader) -> None:
        self.name = name
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # The module keeps its own loader: only this first execution is watched.
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        # A package may put another object in sys.modules while it runs (transformers puts
        # its lazy module there): that is what `import` gives the user.
        _fire(self.name, sys.modules.get(self.name, module))

    def __getattr__(self, attribute: str) -> Any:  # get_resource_reader, is_package, ...
        return getattr(self.loader, attribute)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        with _lock:
            if fullname not in _callbacks:
                return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: importlib.machinery.ModuleSpec | None = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _Loader(fullname, spec.loader)
                return spec
        return None


_finder = _Finder()


def _install_finder() -> None:
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
