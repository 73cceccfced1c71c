"""Autologging: one line logs a whole training run, as MLflow's autologging does.

``mltrail.autolog()`` turns on every integration whose framework is installed (scikit-learn,
XGBoost, LightGBM, statsmodels, PyTorch Lightning, Keras, transformers), now or when the
framework is imported later;
``mltrail.<flavor>.autolog()`` configures one.  Each integration patches its framework's
training calls (:mod:`._safety`) only while it is enabled, and its code is loaded only once
the framework is imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mltrail.tracking.autolog._config import (
    AUTOLOGGING_TAG,
    autologging_is_disabled,
    get_autologging_config,
)
from mltrail.tracking.autolog._integrations import (
    INTEGRATIONS,
    disable_all,
    enable,
    enable_all,
    member,
)
from mltrail.tracking.autolog._safety import active_session, revert_patches, safe_patch

__all__ = [
    "AUTOLOGGING_TAG",
    "INTEGRATIONS",
    "active_session",
    "autolog",
    "autologging_is_disabled",
    "disable_all",
    "enable",
    "get_autologging_config",
    "member",
    "revert_patches",
    "safe_patch",
]


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    log_traces: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    extra_tags: Mapping[str, str] | None = None,
    exclude_flavors: Iterable[str] | None = None,
) -> None:
    """Enable (or, with ``disable=True``, disable) autologging for every supported framework.

    A framework imported later is autologged from its import on.  An integration configured
    by its own ``mltrail.<flavor>.autolog(...)`` keeps that configuration.  ``log_traces``
    is accepted for MLflow's signature; no integration here traces.
    """
    del log_traces  # GenAI tracing: none of these integrations produces traces
    options = {
        "log_input_examples": log_input_examples,
        "log_model_signatures": log_model_signatures,
        "log_models": log_models,
        "log_datasets": log_datasets,
        "disable": disable,
        "exclusive": exclusive,
        "disable_for_unsupported_versions": disable_for_unsupported_versions,
        "silent": silent,
        "extra_tags": extra_tags,
    }
    excluded = {
        "pytorch" if f in ("lightning", "pytorch_lightning") else f for f in exclude_flavors or ()
    }
    enable_all(options, excluded)
