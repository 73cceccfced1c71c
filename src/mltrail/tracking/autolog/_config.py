"""What each autologging integration was configured with, and whether it is on.

``mltrail.autolog(...)`` configures every integration; ``mltrail.<flavor>.autolog(...)``
configures one, and its options then win over the universal call's for that flavor until it
is called again.  State is process-wide, as in MLflow: training code in any thread autologs.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

__all__ = [
    "AUTOLOGGING_TAG",
    "COMMON_DEFAULTS",
    "autologging_is_disabled",
    "configure",
    "get_autologging_config",
    "is_configured",
    "reset",
    "suspended",
]

#: The tag MLflow sets on each run an autologging integration creates: its name.
AUTOLOGGING_TAG = "mlflow.autologging"

#: The arguments every integration's ``autolog`` takes, with MLflow's defaults.
COMMON_DEFAULTS: Mapping[str, Any] = {
    "log_input_examples": False,
    "log_model_signatures": True,
    "log_models": True,
    "log_datasets": True,
    "disable": False,
    "exclusive": False,
    "disable_for_unsupported_versions": False,
    "silent": False,
    "registered_model_name": None,
    "extra_tags": None,
}

_lock = threading.Lock()
_configs: dict[str, dict[str, Any]] = {}
# Integrations switched off for the code running in this context (see `suspended`).
_suspended: ContextVar[frozenset[str]] = ContextVar(
    "mltrail_autolog_suspended", default=frozenset()
)


def configure(integration: str, options: Mapping[str, Any]) -> None:
    """Record *integration*'s options (the whole set its ``autolog`` was called with)."""
    with _lock:
        _configs[integration] = dict(options)


def is_configured(integration: str) -> bool:
    with _lock:
        return integration in _configs


def get_autologging_config(integration: str, key: str, default: Any = None) -> Any:
    """The value *integration* was configured with for *key* (MLflow's helper of this name)."""
    with _lock:
        return _configs.get(integration, {}).get(key, default)


def autologging_is_disabled(integration: str) -> bool:
    """True unless *integration* was enabled (and not disabled since), or while it is
    :func:`suspended`."""
    if integration in _suspended.get():
        return True
    with _lock:
        config = _configs.get(integration)
        return config is None or bool(config.get("disable", False))


def reset() -> None:
    """Forget every integration's configuration (tests; patches are reverted separately)."""
    with _lock:
        _configs.clear()


@contextlib.contextmanager
def suspended(integrations: Iterable[str]) -> Iterator[None]:
    """Autologging of *integrations* is off for the code this block runs (in this thread, and
    the tasks it awaits); their configuration is kept and applies again afterwards."""
    token = _suspended.set(_suspended.get() | frozenset(integrations))
    try:
        yield
    finally:
        _suspended.reset(token)
