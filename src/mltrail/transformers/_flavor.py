"""The transformers flavor: Hugging Face pipelines (or a dict of their components) on PyTorch.

``save_model`` writes MLflow's layout and ``MLmodel`` entries (``loader_module:
mlflow.transformers``, the ``transformers`` flavor with task, classes and dtype), so models
move both ways; see :mod:`mltrail.transformers._conf`.  Weights are written and read as
safetensors; loading looks classes up in the ``transformers`` package only and never contacts
the Hugging Face Hub.  PEFT models are saved as MLflow saves them (the adapter beside its base
model, :mod:`mltrail.transformers._peft`); ``save_pretrained=False`` records Hub references
resolved in the local Hugging Face cache (:mod:`mltrail.transformers._hub`).  Not supported
(refused by name): local checkpoint paths, LLM inference tasks (``llm/v1/...``), TensorFlow and
Flax models.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import string
from collections.abc import Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument, NotImplementedYet
from mltrail._optional import require
from mltrail.models._flavor import load_flavor_conf, local_model
from mltrail.models._log import log_flavor_model
from mltrail.models._model import Model, ModelInfo
from mltrail.models._save import copy_code_paths, finish_save, prepare_model_dir
from mltrail.models._signature import ModelSignature
from mltrail.pyfunc._load import add_to_model
from mltrail.transformers._conf import (
    COMPONENTS_DIR,
    build_flavor_conf,
    checked_checkpoint,
    components_of,
    load_parts,
    save_parts,
)
from mltrail.transformers._hub import cached_revision, is_valid_repo_id
from mltrail.transformers._peft import get_peft_base_model, is_peft_model
from mltrail.transformers._pyfunc import PROMPT_TEMPLATE_TASKS, TransformersPyfunc
from mltrail.transformers._signature import infer_or_get_default_signature

__all__ = [
    "FLAVOR_NAME",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "is_gpu_available",
    "load_model",
    "log_model",
    "save_model",
]

_log = logging.getLogger(__name__)

FLAVOR_NAME = "transformers"
_LOADER_MODULE = "mlflow.transformers"
_RETURN_TYPES = ("pipeline", "components")
_DICT_KEYS = ("model", "tokenizer", "feature_extractor", "image_processor", "torch_dtype")
_LLM_TASK_PREFIX = "llm/v1/"
_CARD_TEXT = "model_card.md"
_CARD_DATA = "model_card_data.yaml"
# Pipelines MLflow gives no python_function (inputs the pyfunc contract cannot carry).
_NO_PYFUNC_PIPELINES = frozenset(
    {
        "DocumentQuestionAnsweringPipeline",
        "ImageToTextPipeline",
        "VisualQuestionAnsweringPipeline",
        "ImageSegmentationPipeline",
        "DepthEstimationPipeline",
        "ObjectDetectionPipeline",
        "VideoClassificationPipeline",
        "ZeroShotImageClassificationPipeline",
        "ZeroShotObjectDetectionPipeline",
        "ZeroShotAudioClassificationPipeline",
    }
)
_NO_PYFUNC_MODELS = (
    "GraphormerPreTrainedModel",
    "InformerPreTrainedModel",
    "TimeSeriesTransformerPreTrainedModel",
    "DecisionTransformerPreTrainedModel",
)


def get_default_pip_requirements(model: Any = None) -> list[str]:
    """transformers and torch (with torchvision and accelerate when they are installed, as
    MLflow lists them), and peft for a PEFT *model*, pinned to the installed versions."""
    from mltrail.models._env import pinned

    names = ["transformers", "torch"]
    names += [n for n in ("torchvision", "accelerate") if importlib.util.find_spec(n)]
    if is_peft_model(model):
        names.append("peft")
    return [pinned(name) for name in names]


def _requirements(model: Any = None) -> list[str]:
    """What a saved model needs: the defaults, and the python_function's numpy and pandas."""
    from mltrail.models._env import pinned

    return [pinned("numpy"), pinned("pandas"), *get_default_pip_requirements(model)]


def get_default_conda_env(model: Any = None) -> dict[str, Any]:
    """The conda environment (``conda.yaml``) of a model saved with the default requirements."""
    from mltrail.models._env import conda_environment

    return conda_environment(get_default_pip_requirements(model))


def is_gpu_available() -> bool:
    """Whether torch sees a CUDA device."""
    return bool(require("torch").cuda.is_available())


def _pipeline_of(transformers_model: Any, task: str | None) -> tuple[Any, Any]:
    """The pipeline to save, and the dtype a dict of components names (or None)."""
    transformers = require("transformers")
    if isinstance(transformers_model, transformers.Pipeline):
        return transformers_model, None
    if isinstance(transformers_model, dict):
        unknown = sorted(set(transformers_model) - set(_DICT_KEYS))
        if unknown:
            raise InvalidArgument(
                f"Invalid transformers_model key {unknown[0]!r}: a dict of components takes "
                f"{list(_DICT_KEYS)}"
            )
        if "model" not in transformers_model:
            raise InvalidArgument("Invalid transformers_model: a dict of components needs 'model'")
        if not task:
            raise InvalidArgument(
                "Invalid task: saving a dict of components needs task=... (mltrail does not "
                "ask the Hugging Face Hub for a model's task)"
            )
        parts = {k: v for k, v in transformers_model.items() if k != "torch_dtype"}
        dtype = transformers_model.get("torch_dtype")
        return transformers.pipeline(task=task, **parts), dtype
    if isinstance(transformers_model, (str, os.PathLike)):
        raise NotImplementedYet(
            "Saving a transformers checkpoint directory by path is not supported yet: load it "
            "into a pipeline (transformers.pipeline(task, model=path)) and save the pipeline"
        )
    raise InvalidArgument(
        f"Invalid transformers_model of type {type(transformers_model).__name__}: expected a "
        "transformers Pipeline or a dict of its components ('model', 'tokenizer', ...)"
    )


def _check_model(pipeline: Any) -> None:
    transformers = require("transformers")
    model = pipeline.model
    if is_peft_model(model):
        model = get_peft_base_model(model)
    if not isinstance(model, transformers.PreTrainedModel):
        raise InvalidArgument(
            f"Invalid pipeline model of type {type(model).__name__}: expected a PyTorch "
            "transformers model (PreTrainedModel); TensorFlow and Flax models are not supported"
        )
    device_map = getattr(model, "hf_device_map", None)
    if isinstance(device_map, dict) and len(set(device_map.values())) > 1:
        raise InvalidArgument(
            "Invalid pipeline model: its weights are spread over several devices (device_map); "
            "load it on one device before saving"
        )


def _check_prompt_template(prompt_template: Any, task: str) -> None:
    if prompt_template is None:
        return
    if task not in PROMPT_TEMPLATE_TASKS:
        raise InvalidArgument(
            f"Invalid prompt_template: task {task!r} takes none (tasks that do: "
            f"{list(PROMPT_TEMPLATE_TASKS)})"
        )
    if not isinstance(prompt_template, str):
        raise InvalidArgument("Invalid prompt_template: expected a string")
    fields = [f[1] for f in string.Formatter().parse(prompt_template) if f[1] is not None]
    if fields != ["prompt"]:
        raise InvalidArgument(
            f"Invalid prompt_template {prompt_template!r}: it must hold exactly one field, "
            "'{prompt}'"
        )


def _with_pyfunc(pipeline: Any, processor: Any) -> bool:
    transformers = require("transformers")
    if processor is not None or type(pipeline).__name__ in _NO_PYFUNC_PIPELINES:
        return False
    excluded = tuple(
        c for n in _NO_PYFUNC_MODELS if isinstance(c := getattr(transformers, n, None), type)
    )
    return not (excluded and isinstance(pipeline.model, excluded))


def _write_card(local: str, model_card: Any) -> None:
    """The card's text and data, as MLflow writes a ``huggingface_hub`` ``ModelCard``."""
    if model_card is None:
        return
    text: Any = getattr(model_card, "text", None)
    data: Any = getattr(model_card, "data", None)
    if not isinstance(text, str) or not callable(getattr(data, "to_dict", None)):
        raise InvalidArgument(
            f"Invalid model_card of type {type(model_card).__name__}: expected a "
            "huggingface_hub ModelCard"
        )
    import yaml

    with open(os.path.join(local, _CARD_TEXT), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(local, _CARD_DATA), "w", encoding="utf-8") as f:
        yaml.safe_dump(data.to_dict(), f, default_flow_style=False)


def _check_save_arguments(
    save_pretrained: Any, base_model_path: Any, task: Any, kwargs: dict[str, Any]
) -> None:
    if kwargs:
        raise InvalidArgument(
            f"Invalid argument {sorted(kwargs)[0]!r}: the transformers flavor's save_model "
            "takes no other keyword arguments"
        )
    if not isinstance(save_pretrained, bool):
        raise InvalidArgument(f"Invalid save_pretrained {save_pretrained!r}: expected a bool")
    if base_model_path is not None and not isinstance(base_model_path, (str, os.PathLike)):
        raise InvalidArgument(f"Invalid base_model_path {base_model_path!r}: expected a path")
    if isinstance(task, str) and task.startswith(_LLM_TASK_PREFIX):
        raise NotImplementedYet(
            f"Invalid task {task!r}: the LLM inference tasks (llm/v1/...) are not supported yet"
        )


def _hub_reference(
    pipeline: Any, processor: Any, save_pretrained: bool, local_base: str | None
) -> dict[str, tuple[str, str]] | None:
    """The Hub (repository, commit) of the model and each component when the weights are not
    saved (``save_pretrained=False``, and PEFT models, as in MLflow); None to save them."""
    peft = is_peft_model(pipeline.model)
    if local_base is not None or (save_pretrained and not peft):
        return None
    base = get_peft_base_model(pipeline.model) if peft else pipeline.model
    repo = getattr(base, "name_or_path", None)
    if not is_valid_repo_id(repo):
        # MLflow's rule: no Hub repository to refer to, so the weights are saved
        if not save_pretrained:
            _log.warning(
                "save_pretrained=False, but the model's name_or_path %r is not a Hugging Face "
                "Hub repository: its weights are saved",
                repo,
            )
        return None
    parts = {"model": (repo, base)}
    components = components_of(pipeline)
    if processor is not None:
        components["processor"] = processor
    for name, component in components.items():
        parts[name] = (getattr(component, "name_or_path", None) or repo, component)
    refs: dict[str, tuple[str, str]] = {}
    for name, (ref_repo, obj) in parts.items():
        revision = cached_revision(str(ref_repo), obj) if is_valid_repo_id(ref_repo) else None
        if revision is None:
            if save_pretrained:  # a PEFT model: its base weights are saved instead
                _log.warning(
                    "The PEFT model's base %s %r is not in the local Hugging Face cache: its "
                    "weights are saved with the adapter",
                    name,
                    ref_repo,
                )
                return None
            raise InvalidArgument(
                f"Invalid save_pretrained=False: the {name}'s Hugging Face Hub repository "
                f"{ref_repo!r} is not in the local Hugging Face cache, so mltrail (which never "
                "asks the Hub) cannot record its commit; save with save_pretrained=True"
            )
        refs[name] = (str(ref_repo), revision)
    return refs


def save_model(
    transformers_model: Any,
    path: str | os.PathLike[str],
    processor: Any = None,
    task: str | None = None,
    torch_dtype: Any = None,
    model_card: Any = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    conda_env: Any = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    prompt_template: str | None = None,
    save_pretrained: bool = True,
    base_model_path: str | None = None,
    **kwargs: Any,
) -> Model:
    """Save a transformers pipeline (or a dict of its components with *task*) to *path*."""
    require("torch")
    transformers = require("transformers")
    _check_save_arguments(save_pretrained, base_model_path, task, kwargs)
    if model_config is not None and not isinstance(model_config, dict):
        raise InvalidArgument("Invalid model_config: expected a dict of pipeline arguments")
    pipeline, dict_dtype = _pipeline_of(transformers_model, task)
    _check_model(pipeline)
    _check_prompt_template(prompt_template, pipeline.task)
    local_base = None
    if base_model_path is not None:
        if not is_peft_model(pipeline.model):
            raise InvalidArgument(
                "Invalid base_model_path: only a PEFT model's base model can be referred to"
            )
        local_base = checked_checkpoint(os.fspath(base_model_path))
    hub = _hub_reference(pipeline, processor, save_pretrained, local_base)
    local = prepare_model_dir(path)
    model = mlflow_model if mlflow_model is not None else Model()
    code = copy_code_paths(local, code_paths)
    if prompt_template is not None:
        metadata = {**(metadata or {}), "prompt_template": prompt_template}
        if pipeline.task == "text-generation":
            model_config = {"return_full_text": False, **(model_config or {})}
    conf = build_flavor_conf(pipeline, torch_dtype or dict_dtype, processor, hub, local_base)
    model.add_flavor(FLAVOR_NAME, transformers_version=transformers.__version__, code=code, **conf)
    save_parts(local, pipeline, conf, processor)
    _write_card(local, model_card)
    if _with_pyfunc(pipeline, processor):
        if signature is None:
            signature = infer_or_get_default_signature(pipeline, input_example, model_config, conf)
        add_to_model(model, _LOADER_MODULE, code=code, model_config=model_config)
    # No requirements probe: the loader imports transformers and torch only (classes are
    # looked up by name in transformers; a model's own code never runs in a python_function
    # load) and the python_function numpy and pandas, so loading the model in a fresh
    # interpreter would find nothing else.
    return finish_save(
        local,
        model,
        predict=None,
        signature=signature,
        input_example=input_example,
        default_requirements=_requirements(pipeline.model),
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        conda_env=conda_env,
        metadata=metadata,
        infer_requirements=False,
    )


def log_model(
    transformers_model: Any,
    artifact_path: str | None = None,
    processor: Any = None,
    task: str | None = None,
    torch_dtype: Any = None,
    model_card: Any = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    conda_env: Any = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    prompt_template: str | None = None,
    save_pretrained: bool = True,
    prompts: Sequence[Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    base_model_path: str | None = None,
    run_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a transformers pipeline (or its components) as MLflow 3 does: a logged model
    (``models:/m-...``), an output of the active run (or *run_id*) when there is one; the other
    arguments are :func:`save_model`'s."""
    arguments = dict(locals())
    if arguments.pop("prompts") is not None:
        raise NotImplementedYet(
            "log_model's prompts argument links MLflow GenAI prompts: not supported by mltrail"
        )
    # Bad arguments fail before anything is logged.
    _check_save_arguments(save_pretrained, base_model_path, task, kwargs)
    return log_flavor_model(save_model, arguments)


def _build(
    local: str,
    conf: dict[str, Any],
    return_type: str,
    device: Any,
    kwargs: Any,
    base_model_path: str | None = None,
) -> Any:
    parts = load_parts(local, conf, kwargs, base_model_path)
    if device is None and is_gpu_available():
        device = 0
    if device is not None:
        parts["device"] = device
    if return_type == "components":
        return parts
    if conf.get("processor_type"):
        raise InvalidArgument(
            "This model was saved with a processor, which a pipeline cannot hold: load it "
            "with return_type='components'"
        )
    return require("transformers").pipeline(**parts, **kwargs)


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    return_type: str = "pipeline",
    device: Any = None,
    base_model_path: str | None = None,
    **kwargs: Any,
) -> Any:
    """The pipeline saved at *model_uri*, or with ``return_type="components"`` the dict of its
    parts (``task``, ``dtype``, ``model``, ``tokenizer``, ...).  *kwargs* go to
    ``transformers.pipeline``; ``trust_remote_code=True`` lets classes the model defines load."""
    if return_type not in _RETURN_TYPES:
        raise InvalidArgument(
            f"Invalid return_type {return_type!r}: expected one of {list(_RETURN_TYPES)}"
        )
    local = local_model(str(model_uri), dst_path)
    conf = load_flavor_conf(local, FLAVOR_NAME)
    path = None if base_model_path is None else os.fspath(base_model_path)
    return _build(local, dict(conf), return_type, device, dict(kwargs), path)


def _model_config(local: str, config: dict[str, Any] | None) -> dict[str, Any]:
    """The inference config: MLflow's older ``components/inference_config.txt``, else the
    python_function flavor's ``config``."""
    import json

    legacy = os.path.join(local, COMPONENTS_DIR, "inference_config.txt")
    if os.path.isfile(legacy):
        with open(legacy, encoding="utf-8") as f:
            value = json.load(f)
        if not isinstance(value, dict):
            raise InvalidArgument(f"Invalid {COMPONENTS_DIR}/inference_config.txt: expected a dict")
        return value
    return dict(config or {})


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> TransformersPyfunc:
    """Loader of ``loader_module: mlflow.transformers`` (the model directory)."""
    local = os.path.dirname(path) if os.path.isfile(path) else path
    meta = Model.load(local)
    conf = meta.flavors.get(FLAVOR_NAME)
    if conf is None:
        raise InvalidArgument(f"The model at {local!r} has no {FLAVOR_NAME!r} flavor")
    template = (meta.metadata or {}).get("prompt_template")
    pipeline = _build(local, dict(conf), "pipeline", None, {})
    return TransformersPyfunc(pipeline, conf, _model_config(local, model_config), template)
