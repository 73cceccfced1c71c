"""The autologging integrations, and turning one on or off.

Each :class:`Integration` names the imports that enable it, the distribution whose version it
checks, the versions MLflow 3.x tests its autologging with, and the module holding its
patches.  That module imports the framework, so it is loaded only once the framework has been
imported (:func:`~mltrail.tracking.autolog._hooks.when_imported`), never with ``mltrail``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from mltrail._optional import require
from mltrail.tracking.autolog._config import (
    COMMON_DEFAULTS,
    autologging_is_disabled,
    configure,
    get_autologging_config,
    is_configured,
    reset,
)
from mltrail.tracking.autolog._hooks import forget, when_imported
from mltrail.tracking.autolog._safety import log_warning, revert_patches, validate_extra_tags

__all__ = ["INTEGRATIONS", "Integration", "disable_all", "enable", "enable_all", "member"]


@dataclass(frozen=True)
class Integration:
    name: str
    #: Top-level imports that enable it (the first is the one a flavor's autolog requires).
    modules: tuple[str, ...]
    #: Distributions to read the installed version from, in order.
    distributions: tuple[str, ...]
    #: The versions MLflow 3.x tests this integration with: (minimum, maximum).
    tested: tuple[str, str]
    #: The module with ``patch(framework_module)``; it imports the framework.
    implementation: str
    #: The integration's own ``autolog`` arguments with their defaults.
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: Public objects made on the framework (callback classes): name -> defining module.
    members: Mapping[str, str] = field(default_factory=dict)


INTEGRATIONS: dict[str, Integration] = {
    i.name: i
    for i in (
        Integration(
            "sklearn",
            ("sklearn",),
            ("scikit-learn",),
            ("1.6.0", "1.9.1"),
            "mltrail.tracking.autolog._sklearn",
            {
                "max_tuning_runs": 5,
                "log_post_training_metrics": True,
                "serialization_format": "cloudpickle",
                "pos_label": None,
            },
        ),
        Integration(
            "xgboost",
            ("xgboost",),
            ("xgboost",),
            ("2.1.2", "3.4.1"),
            "mltrail.tracking.autolog._xgboost",
            {"importance_types": None, "model_format": "ubj"},
        ),
        Integration(
            "lightgbm",
            ("lightgbm",),
            ("lightgbm",),
            ("4.6.0", "4.7.0"),
            "mltrail.tracking.autolog._lightgbm",
        ),
        Integration(
            "statsmodels",
            ("statsmodels",),
            ("statsmodels",),
            ("0.14.5", "0.15.0"),
            "mltrail.tracking.autolog._statsmodels",
        ),
        Integration(
            "pytorch",
            ("lightning", "pytorch_lightning"),
            ("lightning", "pytorch-lightning"),
            ("2.4.0", "2.6.6"),
            "mltrail.tracking.autolog._lightning",
            {
                "log_every_n_epoch": 1,
                "log_every_n_step": None,
                "checkpoint": True,
                "checkpoint_monitor": "val_loss",
                "checkpoint_mode": "min",
                "checkpoint_save_best_only": True,
                "checkpoint_save_weights_only": False,
                "checkpoint_save_freq": "epoch",
            },
            {
                "MlflowModelCheckpointCallback": "mltrail.tracking.autolog._lightning_checkpoint",
                "load_checkpoint": "mltrail.tracking.autolog._lightning_checkpoint",
            },
        ),
        Integration(
            "keras",
            ("keras",),
            ("keras",),
            ("3.7.0", "3.15.1"),
            "mltrail.tracking.autolog._keras",
            {
                "log_every_epoch": True,
                "log_every_n_steps": None,
                "save_exported_model": False,
                "save_model_kwargs": None,
            },
            {"MlflowCallback": "mltrail.tracking.autolog._keras_callback"},
        ),
        Integration(
            "transformers",
            ("transformers", "setfit"),
            ("transformers",),
            ("4.45.2", "5.17.0"),
            "mltrail.tracking.autolog._transformers",
            # MLflow's: this integration logs nothing itself.
            {"log_model_signatures": False, "log_models": False, "log_datasets": False},
        ),
    )
}

# Whether an integration's configuration came from mltrail.autolog() (True) or from its own
# autolog call (False): the universal call never overrides a flavor's own.
_from_universal: dict[str, bool] = {}


def installed_version(integration: Integration) -> str | None:
    import importlib.metadata  # email & co.: loaded when a framework is patched, not at import

    for distribution in integration.distributions:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _release(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in version.split("+")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit()) if piece[:1].isdigit() else ""
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def is_tested_version(integration: Integration, version: str) -> bool:
    low, high = integration.tested
    return _release(low) <= _release(version)[: len(_release(high))] <= _release(high)


def _apply(integration: Integration, framework: ModuleType) -> None:
    if autologging_is_disabled(integration.name):  # disabled before the framework's import
        return
    version = installed_version(integration)
    if version is not None and not is_tested_version(integration, version):
        low, high = integration.tested
        if get_autologging_config(integration.name, "disable_for_unsupported_versions", False):
            log_warning(
                integration.name,
                f"{integration.name} autologging is off: {integration.distributions[0]} "
                f"{version} is outside the tested versions {low} to {high} "
                "(disable_for_unsupported_versions=True)",
            )
            return
        log_warning(
            integration.name,
            f"{integration.name} autologging is tested with {integration.distributions[0]} "
            f"{low} to {high}; {version} is installed and may not be fully logged",
        )
    importlib.import_module(integration.implementation).patch(framework)


def _require_framework(integration: Integration) -> None:
    if not any(importlib.util.find_spec(m) for m in integration.modules):
        require(integration.modules[0])  # raises: which package, and the extra installing it


def member(name: str, attribute: str) -> Any:
    """The public object *attribute* of integration *name* (see :attr:`Integration.members`);
    loading it imports the framework."""
    integration = INTEGRATIONS[name]
    _require_framework(integration)
    return getattr(importlib.import_module(integration.members[attribute]), attribute)


def enable(name: str, options: Mapping[str, Any], *, universal: bool = False) -> None:
    """Configure integration *name* with *options* and patch (or unpatch) its framework.

    Called by the flavor's own ``autolog`` (which needs the framework installed) and, for
    every integration, by ``mltrail.autolog`` (which skips those configured by their own).
    """
    integration = INTEGRATIONS[name]
    if universal and is_configured(name) and not _from_universal.get(name, True):
        return
    if not universal:
        _require_framework(integration)
    validate_extra_tags(options.get("extra_tags"))
    settings = {**COMMON_DEFAULTS, **integration.defaults, **options}
    configure(name, settings)
    _from_universal[name] = universal
    revert_patches(name)
    if settings["disable"]:
        return
    for module in integration.modules:
        if universal and importlib.util.find_spec(module) is None:
            continue
        when_imported(module, name, functools.partial(_apply, integration))


def enable_all(options: Mapping[str, Any], exclude: set[str]) -> None:
    for name in INTEGRATIONS:
        if name not in exclude:
            enable(name, options, universal=True)


def disable_all() -> None:
    """Turn every integration off and forget its configuration (the state of a new process)."""
    for name, integration in INTEGRATIONS.items():
        revert_patches(name)
        for module in integration.modules:
            forget(module, name)
    _from_universal.clear()
    reset()
