"""``import skops.io`` without the array libraries scikit-learn's estimator scan would import.

skops builds its list of trusted scikit-learn types when ``skops.io`` is first imported, with
``sklearn.utils.all_estimators()``.  That walks every scikit-learn package with
``pkgutil.walk_packages``, which imports each package to list its children, among them the
vendored array-API wrappers ``sklearn.externals.array_api_compat.{torch,cupy,dask}``: importing
them imports torch, CuPy or Dask (torch alone takes seconds), though ``all_estimators`` then skips
everything under ``externals``.  While :func:`skops_io` imports skops, those wrapper packages are
refused (a meta path finder raises ImportError for them, which ``walk_packages`` ignores), so the
trusted list is the same and the array libraries stay unimported.  A wrapper whose library is
already imported is left alone, and scikit-learn imports the wrappers normally later on.

The requirements probe asks for ``skops.io`` without that scan at all
(``estimator_scan=False``): there skops trusts no scikit-learn type by default, which changes
nothing, since mltrail's loader passes skops every type a file holds once its own check has
passed them; the scan's imports are skops's own, never a model's requirement.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

from mltrail._optional import missing_dependency

__all__ = ["skops_io"]

_WRAPPERS = "sklearn.externals.array_api_compat."
_BACKENDS = ("torch", "cupy", "dask")


class _RefuseWrappers:
    """A meta path finder refusing the named modules with ImportError."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname in self.names:
            raise ImportError(f"{fullname} is not imported while skops.io loads", name=fullname)
        return None


def skops_io(*, estimator_scan: bool = True) -> ModuleType:
    """The ``skops.io`` module, imported without torch, CuPy or Dask the first time (and
    without listing scikit-learn's estimators when *estimator_scan* is false)."""
    if sys.modules.get("skops.io") is not None:
        # The import statement still runs: the requirements probe records who imports skops.
        import skops.io

        return sys.modules["skops.io"]
    refused = frozenset(
        _WRAPPERS + backend
        for backend in _BACKENDS
        if backend not in sys.modules and _WRAPPERS + backend not in sys.modules
    )
    finder = _RefuseWrappers(refused)
    sys.meta_path.insert(0, finder)
    # The collector is off meanwhile: the scan imports hundreds of modules, whose objects would
    # set off full collections over everything the process holds (a third of the import's time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        if estimator_scan:
            import skops.io  # noqa: F401  (bound in sys.modules)
        else:
            _import_without_scan()
    except ModuleNotFoundError as exc:
        raise missing_dependency(exc, "skops") from None
    finally:
        sys.meta_path.remove(finder)
        if collecting:
            gc.enable()
    return sys.modules["skops.io"]


def _no_estimators(type_filter: object = None) -> list[tuple[str, type]]:
    return []


def _import_without_scan() -> None:
    """``import skops.io`` while ``sklearn.utils.all_estimators`` lists nothing."""
    import sklearn.utils

    real = sklearn.utils.all_estimators
    sklearn.utils.all_estimators = _no_estimators
    try:
        import skops.io  # noqa: F401  (bound in sys.modules)
    finally:
        sklearn.utils.all_estimators = real
