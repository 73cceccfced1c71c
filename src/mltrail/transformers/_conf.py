"""The ``transformers`` flavor's ``MLmodel`` entry and files: writing a pipeline's parts and
building them back.

The layout is MLflow's: the model's ``save_pretrained`` output in ``model/`` (safetensors
weights and ``config.json``), each component (``tokenizer``, ``feature_extractor``,
``image_processor``) in ``components/<name>/``, a PEFT adapter in ``peft/``
(:mod:`mltrail.transformers._peft`), and the flavor entry naming the task, the pipeline and
model classes, the component classes, the dtype and the transformers version.  A model saved
with ``save_pretrained=False`` names Hub repositories and commits instead of holding weights
and components (:mod:`mltrail.transformers._hub`: read from the local cache only).

Loading never runs pickles or code from the model: classes are looked up by name in the
``transformers`` package only (a class defined by the model's own code is refused unless
the caller passes ``trust_remote_code=True``), weights are read from safetensors files, and
nothing is fetched from the Hugging Face Hub (``local_files_only``).  A PEFT adapter is read
by ``peft`` from its safetensors file.
"""

from __future__ import annotations

import os
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._optional import require
from mltrail.models._flavor import flavor_file
from mltrail.models._safety import check_pickle_allowed
from mltrail.transformers._hub import checkpoint_dir
from mltrail.transformers._peft import (
    PEFT_ADAPTER_DIR,
    base_weights,
    get_model_with_peft_adapter,
    get_peft_base_model,
    is_peft_model,
    restore_injected_weights,
)

__all__ = [
    "COMPONENTS_DIR",
    "MODEL_BINARY",
    "build_flavor_conf",
    "checked_checkpoint",
    "load_parts",
    "save_parts",
    "torch_dtype_of",
]

MODEL_BINARY = "model"
COMPONENTS_DIR = "components"
_LEGACY_BINARY = "pipeline"
_PROCESSOR = "processor"
# The pipeline attributes saved as components, in MLflow's order.
_COMPONENT_NAMES = ("feature_extractor", "tokenizer", "image_processor")
# The transformers auto class that reads each component's directory.
_AUTO_CLASSES = {
    "tokenizer": "AutoTokenizer",
    "feature_extractor": "AutoFeatureExtractor",
    "image_processor": "AutoImageProcessor",
    "processor": "AutoProcessor",
}
_MAX_SHARD_SIZE = "500MB"
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack")


def _major_version() -> int:
    version = str(require("transformers").__version__)
    return int(version.split(".", 1)[0])


def torch_dtype_of(pipeline: Any, torch_dtype: Any) -> str | None:
    """``str(dtype)`` of the dtype given, else of the model's, as MLflow records it."""
    torch = require("torch")
    dtype = torch_dtype if torch_dtype is not None else getattr(pipeline.model, "dtype", None)
    if dtype is None:
        return None
    if not isinstance(dtype, torch.dtype):
        raise InvalidArgument(
            f"Invalid torch_dtype {torch_dtype!r}: expected a torch.dtype such as torch.float16"
        )
    return str(dtype)


def components_of(pipeline: Any) -> dict[str, Any]:
    """The pipeline's components that are saved (tokenizer, feature extractor...)."""
    found = {}
    for name in _COMPONENT_NAMES:
        component = getattr(pipeline, name, None)
        if component is not None:
            found[name] = component
    return found


def build_flavor_conf(
    pipeline: Any,
    torch_dtype: Any,
    processor: Any = None,
    hub: dict[str, tuple[str, str]] | None = None,
    local_base: str | None = None,
) -> dict[str, Any]:
    """The ``transformers`` flavor entry of *pipeline* (without version and code).

    *hub* maps ``"model"`` and each component to its Hub (repository, commit) for a model saved
    with ``save_pretrained=False``; *local_base* is a PEFT model's local base checkpoint.
    """
    conf: dict[str, Any] = {
        "task": pipeline.task,
        "instance_type": type(pipeline).__name__,
    }
    framework = getattr(pipeline, "framework", None)  # transformers 4 only
    if isinstance(framework, str) and framework:
        conf["framework"] = framework
    dtype = torch_dtype_of(pipeline, torch_dtype)
    if dtype is not None:
        conf["torch_dtype"] = dtype
    model = pipeline.model
    if is_peft_model(model):
        conf["peft_adaptor"] = PEFT_ADAPTER_DIR
        model = get_peft_base_model(model)
    conf["pipeline_model_type"] = type(model).__name__
    conf["source_model_name"] = str(getattr(model, "name_or_path", "") or "")
    if hub is not None:
        conf["source_model_name"], conf["source_model_revision"] = hub["model"]
    elif local_base is not None:
        conf["local_base_model_path"] = local_base
    else:
        conf["model_binary"] = MODEL_BINARY
    components = components_of(pipeline)
    if processor is not None:
        components[_PROCESSOR] = processor
    for name, component in components.items():
        conf[f"{name}_type"] = type(component).__name__
        if hub is not None:
            conf[f"{name}_name"], conf[f"{name}_revision"] = hub[name]
    conf["components"] = [n for n in components if n != _PROCESSOR]
    return conf


def save_parts(local: str, pipeline: Any, conf: dict[str, Any], processor: Any = None) -> None:
    """Write the model (safetensors), its PEFT adapter and its components under *local*: a
    Hub reference writes the adapter only, a local base checkpoint no model weights."""
    model = pipeline.model
    if conf.get("peft_adaptor"):
        model.save_pretrained(os.path.join(local, str(conf["peft_adaptor"])))
    if "source_model_revision" in conf:
        return
    if "model_binary" in conf:
        weights = None
        if is_peft_model(model):
            weights = base_weights(model)
            model = get_peft_base_model(model)
        model.save_pretrained(
            os.path.join(local, MODEL_BINARY), max_shard_size=_MAX_SHARD_SIZE, state_dict=weights
        )
    components = os.path.join(local, COMPONENTS_DIR)
    for name in conf["components"]:
        getattr(pipeline, name).save_pretrained(os.path.join(components, name))
    if processor is not None:
        processor.save_pretrained(os.path.join(components, _PROCESSOR))


def _transformers_class(name: Any, what: str, trust_remote_code: bool) -> Any:
    """The class ``transformers.<name>``; None when transformers has none of that name and
    *trust_remote_code* allows the model's own code."""
    transformers = require("transformers")
    if isinstance(name, str) and name and not name.startswith("_"):
        cls = getattr(transformers, name, None)
        if isinstance(cls, type):
            return cls
    if trust_remote_code:
        return None
    raise InvalidArgument(
        f"Invalid transformers flavor: {what} {name!r} is not a class of the installed "
        f"transformers {transformers.__version__}; a class defined by the model's own code "
        "runs only with load_model(..., trust_remote_code=True)"
    )


def _weights_kwargs(model_dir: str) -> dict[str, Any]:
    """``from_pretrained`` arguments choosing safetensors (pickled weights need permission)."""
    names = os.listdir(model_dir) if os.path.isdir(model_dir) else []
    weights = [n for n in names if n.endswith(_WEIGHT_SUFFIXES)]
    if not weights or any(n.endswith(".safetensors") for n in weights):
        return {"use_safetensors": True}
    check_pickle_allowed(f"the transformers weights in {model_dir} ({', '.join(sorted(weights))})")
    return {"use_safetensors": False}


def deserialize_dtype(value: Any) -> Any:
    """The ``torch.dtype`` that *value* (``"torch.float16"``, ``"float16"`` or a dtype) names."""
    torch = require("torch")
    if isinstance(value, torch.dtype):
        return value
    name = str(value).removeprefix("torch.")
    dtype = getattr(torch, name, None) if not name.startswith("_") else None
    if not isinstance(dtype, torch.dtype):
        raise InvalidArgument(f"Invalid torch_dtype {value!r}: not a torch.dtype")
    return dtype


def _dtype_kwarg() -> str:
    """transformers 4.56 renamed ``torch_dtype`` to ``dtype``."""
    version = str(require("transformers").__version__).split(".")
    major, minor = int(version[0]), int(version[1]) if len(version) > 1 else 0
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"


def _load_model(model_dir: str, conf: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    transformers = require("transformers")
    trust = bool(kwargs.get("trust_remote_code", False))
    cls = _transformers_class(conf.get("pipeline_model_type"), "pipeline_model_type", trust)
    load = {**_weights_kwargs(model_dir), "local_files_only": True, "trust_remote_code": trust}
    dtype = conf.get("torch_dtype")
    if dtype:
        load[_dtype_kwarg()] = deserialize_dtype(dtype)
    if cls is None:  # the model's own code, explicitly trusted
        config = transformers.AutoConfig.from_pretrained(
            model_dir, trust_remote_code=True, local_files_only=True
        )
        auto_map = getattr(config, "auto_map", None) or {}
        wanted = conf.get("pipeline_model_type")
        autos = [a for a, ref in auto_map.items() if str(ref).split(".")[-1] == wanted]
        if not autos or not hasattr(transformers, autos[0]):
            raise InvalidArgument(f"Invalid transformers flavor: no auto class loads {wanted!r}")
        cls = getattr(transformers, autos[0])
    elif not issubclass(cls, transformers.PreTrainedModel):
        raise InvalidArgument(
            f"Invalid transformers flavor: pipeline_model_type {cls.__name__!r} is not a "
            "PyTorch transformers model (TensorFlow and Flax models are not supported)"
        )
    return cls.from_pretrained(model_dir, **load)


def _load_component(local: str, conf: dict[str, Any], name: str, trust: bool) -> Any:
    transformers = require("transformers")
    cls = _transformers_class(conf.get(f"{name}_type"), f"{name}_type", trust)
    if cls is None:
        cls = getattr(transformers, _AUTO_CLASSES[name])
    if "source_model_revision" in conf:
        path = checkpoint_dir(conf.get(f"{name}_name"), conf.get(f"{name}_revision"), name)
    else:
        path = os.path.join(local, COMPONENTS_DIR, name)
    if not os.path.isdir(path):
        raise InvalidArgument(f"Invalid transformers model: {COMPONENTS_DIR}/{name} is missing")
    return cls.from_pretrained(path, local_files_only=True, trust_remote_code=trust)


def _base_model_dir(local: str, conf: dict[str, Any], base_model_path: str | None) -> str:
    """Where the (base) model's weights are: in the model, a local checkpoint or the cache."""
    if base_model_path is not None:
        if not conf.get("local_base_model_path"):
            raise InvalidArgument(
                "Invalid base_model_path: only a model saved with base_model_path takes one"
            )
        return checked_checkpoint(base_model_path)
    if conf.get("local_base_model_path"):
        return checked_checkpoint(str(conf["local_base_model_path"]))
    if "source_model_revision" in conf:
        return checkpoint_dir(conf.get("source_model_name"), conf["source_model_revision"], "model")
    # Models saved before MLflow 2.11 keep the weights in "pipeline/" and name no binary.
    return flavor_file(local, conf.get("model_binary", _LEGACY_BINARY), "model_binary")


def checked_checkpoint(path: str) -> str:
    """*path* as an absolute path; InvalidArgument unless it holds a transformers checkpoint."""
    absolute = os.path.abspath(path)
    if not os.path.isdir(absolute):
        raise InvalidArgument(f"Invalid base_model_path {path!r}: not a directory")
    if not os.path.isfile(os.path.join(absolute, "config.json")):
        raise InvalidArgument(
            f"Invalid base_model_path {path!r}: not a transformers checkpoint (no config.json)"
        )
    return absolute


def load_parts(
    local: str, conf: dict[str, Any], kwargs: dict[str, Any], base_model_path: str | None = None
) -> dict[str, Any]:
    """The pipeline arguments of the model at *local*: task, dtype, model and components."""
    task = conf.get("task")
    if not isinstance(task, str) or not task:
        raise InvalidArgument("Invalid transformers flavor: 'task' is missing")
    parts: dict[str, Any] = {"task": task}
    framework = conf.get("framework")
    if framework and _major_version() < 5:
        parts["framework"] = framework
    if conf.get("torch_dtype"):
        parts[_dtype_kwarg()] = deserialize_dtype(conf["torch_dtype"])
    model_dir = _base_model_dir(local, conf, base_model_path)
    model = _load_model(model_dir, conf, kwargs)
    adapter = conf.get("peft_adaptor")
    if adapter:
        model = get_model_with_peft_adapter(model, flavor_file(local, adapter, "peft_adaptor"))
        restore_injected_weights(model, model_dir)
    parts["model"] = model
    trust = bool(kwargs.get("trust_remote_code", False))
    names = list(conf.get("components") or [])
    if conf.get("processor_type"):
        names.append(_PROCESSOR)
    for name in names:
        if name not in _AUTO_CLASSES:
            raise InvalidArgument(
                f"Invalid transformers flavor: unknown component {name!r} (expected one of "
                f"{sorted(_AUTO_CLASSES)})"
            )
        parts[name] = _load_component(local, conf, name, trust)
    return parts
