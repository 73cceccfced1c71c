"""PEFT (Parameter-Efficient Fine-Tuning) models in the transformers flavor: MLflow's layout.

A pipeline whose model is a ``peft.PeftModel`` is saved as its adapter (the PEFT
``save_pretrained`` output in ``peft/``, named by the flavor key ``peft_adaptor``) beside the base
model: a Hugging Face Hub reference (repository and commit) when the base model came from the
Hub, else its weights in ``model/`` or, with ``base_model_path``, a local checkpoint directory.
Loading builds the base model and applies the adapter (``PeftModel.from_pretrained``).

``peft`` injects adapter layers into the base model in place, so the base model's own
``state_dict`` holds the adapter's parameters and renamed base weights (``...base_layer.weight``).
mltrail writes the base model's original weights; models MLflow 3.17 saved with the injected
names are read back with them (MLflow itself leaves those weights newly initialised).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._optional import require

__all__ = [
    "PEFT_ADAPTER_DIR",
    "base_weights",
    "get_model_with_peft_adapter",
    "get_peft_base_model",
    "is_peft_model",
    "restore_injected_weights",
]

PEFT_ADAPTER_DIR = "peft"
# The submodule of each kind of wrapper peft puts around a base model's module.
# (module of peft, class, the wrapped module's attribute); ModulesToSaveWrapper for peft
# versions before AuxiliaryTrainingWrapper.
_WRAPPED = (
    ("peft.tuners.tuners_utils", "BaseTunerLayer", "base_layer"),
    ("peft.utils.other", "AuxiliaryTrainingWrapper", "original_module"),
    ("peft.utils.other", "ModulesToSaveWrapper", "original_module"),
)
_INJECTED = ".base_layer."


def is_peft_model(model: Any) -> bool:
    """Whether *model* is a ``peft.PeftModel`` (False without importing peft when it is not
    loaded: no PEFT model exists then)."""
    peft = sys.modules.get("peft")
    peft_model = getattr(peft, "PeftModel", None) if peft is not None else None
    return isinstance(peft_model, type) and isinstance(model, peft_model)


def get_peft_base_model(model: Any) -> Any:
    """The transformers model a PEFT model wraps (for prompt-learning adapters, which inject
    no layers, the PEFT model's ``base_model``)."""
    configs = getattr(model, "peft_config", None) or {}
    config = configs.get(getattr(model, "active_adapter", None))
    if config is not None and not config.is_prompt_learning:
        return model.base_model.model
    return model.base_model


def get_model_with_peft_adapter(base_model: Any, peft_adapter_path: str) -> Any:
    """A ``peft.PeftModel``: *base_model* with the adapter saved in *peft_adapter_path*."""
    peft = require("peft")
    if not os.path.isdir(peft_adapter_path):
        raise InvalidArgument(
            f"Invalid peft_adapter_path {peft_adapter_path!r}: not a directory (mltrail loads "
            "adapters from local directories only)"
        )
    return peft.PeftModel.from_pretrained(base_model, peft_adapter_path)


def base_weights(model: Any) -> dict[str, Any]:
    """The base model's ``state_dict`` as it was before peft wrapped its modules: the adapter's
    parameters dropped and each wrapped module's original weights under their own names."""
    kinds = [
        (cls, inner)
        for module, name, inner in _WRAPPED
        if isinstance(cls := getattr(require(module), name, None), type)
    ]
    base = get_peft_base_model(model)
    wrapped = []
    for prefix, module in base.named_modules():
        inner = next((inner for cls, inner in kinds if isinstance(module, cls)), None)
        if inner is not None:  # the first kind that matches: each wrapper once
            wrapped.append((prefix + "." if prefix else "", inner))
    state = dict(base.state_dict())
    # Innermost wrappers first: an outer prefix then sees the inner names already restored.
    for prefix, inner in sorted(wrapped, key=lambda p: len(p[0]), reverse=True):
        kept = prefix + inner + "."
        restored: dict[str, Any] = {}
        for key, value in state.items():
            if key.startswith(kept):
                restored[prefix + key[len(kept) :]] = value
            elif not key.startswith(prefix):
                restored[key] = value
        state = restored
    return state


def restore_injected_weights(model: Any, model_dir: str) -> None:
    """Load base weights saved under peft's injected names (``...base_layer.weight``, as MLflow
    3.17 writes them) into the PEFT *model* built on *model_dir*; nothing when there are none.
    Only those tensors are read (the files' key lists are read first)."""
    names = sorted(n for n in os.listdir(model_dir) if n.endswith(".safetensors"))
    if not names:
        return
    safetensors = require("safetensors")
    target = get_peft_base_model(model)
    own = target.state_dict()
    # transformers may save a model without its base-model prefix ("transformer.", "bert."):
    # a saved key names the parameter whose name ends with it.
    by_saved_name = {}
    for key in own:
        by_saved_name[key] = key
        head, _, rest = key.partition(".")
        if rest and head == getattr(target, "base_model_prefix", None):
            by_saved_name.setdefault(rest, key)
    update = {}
    for name in names:
        with safetensors.safe_open(os.path.join(model_dir, name), framework="pt") as f:
            for key in f.keys():  # noqa: SIM118 - safe_open has keys(), no __iter__
                if _INJECTED in key and key in by_saved_name:
                    update[by_saved_name[key]] = f.get_tensor(key)
    if update:
        target.load_state_dict(update, strict=False)
