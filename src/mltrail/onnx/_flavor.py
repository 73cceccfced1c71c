"""The ONNX flavor: an ONNX graph (``model.onnx``) served by onnxruntime.

The graph is written with ``onnx.save_model`` (large tensors in external data files next to
it, by default, as MLflow does) and checked with the ONNX checker.  ``MLmodel`` carries
MLflow's entries (``loader_module: mlflow.onnx``, ``providers``, ``onnx_session_options``), so
the models move both ways.  An ONNX file holds no Python objects: loading one runs no pickle.

As python_function, a DataFrame feeds a single-input graph with its values and a multi-input
graph column by column, and predictions come back as a DataFrame (one column per output);
a numpy array feeds a single-input graph; a dict is the feed itself, and gets a dict back.
float64 data is cast to float32 for ``tensor(float)`` inputs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._optional import require
from mltrail.models._flavor import flavor_file, load_flavor_conf, local_model
from mltrail.models._log import log_flavor_model
from mltrail.models._model import Model, ModelInfo
from mltrail.models._save import copy_code_paths, copy_extra_files, finish_save, prepare_model_dir
from mltrail.models._signature import ModelSignature
from mltrail.pyfunc._load import add_to_model

__all__ = [
    "FLAVOR_NAME",
    "ONNX_EXECUTION_PROVIDERS",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]

# What the requirements probe imports while the model is written (the loader's libraries).
_PROBE_MODULES = ["onnxruntime", "mltrail.onnx"]

_log = logging.getLogger(__name__)

FLAVOR_NAME = "onnx"
ONNX_EXECUTION_PROVIDERS = ["CUDAExecutionProvider", "CPUExecutionProvider"]
_MODEL_FILE = "model.onnx"
# SessionOptions attributes that take enums: MLmodel stores their integer values.
_ENUM_OPTIONS = {
    "graph_optimization_level": "GraphOptimizationLevel",
    "execution_mode": "ExecutionMode",
}


def get_default_pip_requirements() -> list[str]:
    from mltrail.models._env import pinned

    return [pinned("onnx"), pinned("onnxruntime"), pinned("numpy"), pinned("pandas")]


def get_default_conda_env() -> dict[str, Any]:
    """The conda environment (``conda.yaml``) of a model saved with the default requirements."""
    from mltrail.models._env import conda_environment

    return conda_environment(get_default_pip_requirements())


def _check_providers(providers: Any) -> list[Any]:
    if isinstance(providers, str) or not isinstance(providers, (list, tuple)) or not providers:
        raise InvalidArgument(
            "Invalid onnx_execution_providers: expected a non-empty list of provider names"
        )
    out: list[Any] = []
    for entry in providers:
        if isinstance(entry, str) and entry:
            out.append(entry)
        elif (
            isinstance(entry, (list, tuple))
            and len(entry) == 2
            and isinstance(entry[0], str)
            and isinstance(entry[1], dict)
        ):
            out.append([entry[0], dict(entry[1])])
        else:
            raise InvalidArgument(
                f"Invalid onnx_execution_providers entry {entry!r}: expected a provider name "
                "or a (name, options dict) pair"
            )
    return out


def _check_session_options(options: Any) -> dict[str, Any] | None:
    if options is None:
        return None
    if not isinstance(options, dict):
        raise InvalidArgument("Invalid onnx_session_options: expected a dict")
    import onnxruntime as ort

    known = ort.SessionOptions()
    for key, value in options.items():
        if not isinstance(key, str) or key.startswith("_") or not hasattr(known, key):
            raise InvalidArgument(
                f"Invalid onnx_session_options key {key!r}: not an attribute of "
                "onnxruntime.SessionOptions"
            )
        if not isinstance(value, (bool, int, float, str)):
            raise InvalidArgument(
                f"Invalid onnx_session_options value for {key!r}: expected a bool, number or "
                f"string, got {type(value).__name__}"
            )
    return dict(options)


def save_model(
    onnx_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    onnx_execution_providers: Sequence[Any] | None = None,
    onnx_session_options: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    save_as_external_data: bool = True,
    extra_files: Sequence[str] | None = None,
    **kwargs: Any,
) -> Model:
    """Save an ``onnx.ModelProto`` to *path* (checked with the ONNX checker)."""
    import onnx

    from mltrail.models._env import early_probe

    if not isinstance(onnx_model, onnx.ModelProto):
        raise InvalidArgument(
            f"Invalid onnx_model of type {type(onnx_model).__name__}: expected an onnx.ModelProto"
        )
    providers = _check_providers(
        ONNX_EXECUTION_PROVIDERS if onnx_execution_providers is None else onnx_execution_providers
    )
    session_options = _check_session_options(onnx_session_options)
    local = prepare_model_dir(path)
    model = mlflow_model if mlflow_model is not None else Model()
    code = copy_code_paths(local, code_paths)
    extras = copy_extra_files(local, extra_files)
    with early_probe(_PROBE_MODULES, pip_requirements, conda_env) as started:
        file = os.path.join(local, _MODEL_FILE)
        if save_as_external_data:
            # Moving tensors to external data rewrites the proto: leave the caller's one intact.
            copy = onnx.ModelProto()
            copy.CopyFrom(onnx_model)
            onnx_model = copy
        onnx.save_model(onnx_model, file, save_as_external_data=save_as_external_data, **kwargs)
        try:
            onnx.checker.check_model(file)
        except onnx.checker.ValidationError as exc:
            raise InvalidArgument(
                f"Invalid onnx_model: the ONNX checker refused it: {exc}"
            ) from None
        add_to_model(model, "mlflow.onnx", data=_MODEL_FILE, code=code)
        model.add_flavor(
            FLAVOR_NAME,
            onnx_version=onnx.__version__,
            data=_MODEL_FILE,
            providers=providers,
            onnx_session_options=session_options,
            code=code,
            **extras,
        )
        return finish_save(
            local,
            model,
            predict=None,  # the signature is not inferred from the example (as in MLflow)
            signature=signature,
            input_example=input_example,
            default_requirements=get_default_pip_requirements(),
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            conda_env=conda_env,
            metadata=metadata,
            started_probe=started,
        )


def log_model(
    onnx_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    onnx_execution_providers: Sequence[Any] | None = None,
    onnx_session_options: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    save_as_external_data: bool = True,
    extra_files: Sequence[str] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    run_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log an ONNX model as MLflow 3 does: a logged model (``models:/m-...``), an output of the
    active run (or *run_id*) when there is one; the other arguments are :func:`save_model`'s."""
    arguments = dict(locals())
    return log_flavor_model(save_model, arguments)


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """The ``onnx.ModelProto`` saved at *model_uri* (external data included)."""
    require("onnx")
    import onnx

    local = local_model(model_uri, dst_path)
    conf = load_flavor_conf(local, FLAVOR_NAME)
    return onnx.load_model(flavor_file(local, conf.get("data"), "onnx data"))


def _provider_name(entry: Any) -> str:
    return str(entry[0]) if isinstance(entry, (list, tuple)) else str(entry)


def _session(file: str, conf: dict[str, Any]) -> Any:
    require("onnxruntime")
    import onnxruntime as ort

    declared = conf.get("providers") or ONNX_EXECUTION_PROVIDERS
    if isinstance(declared, str):
        declared = [declared]
    available = set(ort.get_available_providers())
    providers = [
        tuple(p) if isinstance(p, list) else p for p in declared if _provider_name(p) in available
    ] or ["CPUExecutionProvider"]
    if len(providers) < len(declared):
        _log.debug("ONNX providers %s are not all available; using %s", declared, providers)
    options = ort.SessionOptions()
    for key, value in (conf.get("onnx_session_options") or {}).items():
        if not isinstance(key, str) or key.startswith("_") or not hasattr(options, key):
            raise InvalidArgument(f"Invalid onnx flavor: unknown session option {key!r}")
        if key in _ENUM_OPTIONS and isinstance(value, int):
            value = getattr(ort, _ENUM_OPTIONS[key])(value)
        setattr(options, key, value)
    return ort.InferenceSession(file, sess_options=options, providers=providers)


class _OnnxPyfunc:
    """The python_function implementation: an onnxruntime session."""

    def __init__(self, session: Any) -> None:
        self.rt = session
        self.inputs = [(i.name, i.type) for i in session.get_inputs()]
        self.output_names = [o.name for o in session.get_outputs()]

    def get_raw_model(self) -> Any:
        return self.rt

    def _feed(self, data: Any) -> dict[str, Any]:
        import numpy as np
        import pandas as pd

        names = [name for name, _ in self.inputs]
        if isinstance(data, dict):
            feed = dict(data)
        elif isinstance(data, np.ndarray):
            if len(names) != 1:
                raise InvalidArgument(
                    f"A numpy array can feed an ONNX model with one input only; this model "
                    f"has {len(names)}: {names}. Pass a dict or a DataFrame."
                )
            feed = {names[0]: data}
        elif isinstance(data, pd.DataFrame):
            if len(names) == 1:
                feed = {names[0]: data.to_numpy()}
            else:
                missing = [n for n in names if n not in data.columns]
                if missing:
                    raise InvalidArgument(f"The input DataFrame lacks the model inputs {missing}")
                feed = {n: data[n].to_numpy() for n in names}
        else:
            raise InvalidArgument(
                f"Invalid input of type {type(data).__name__} for an ONNX model: expected a "
                "DataFrame, a numpy array or a dict of arrays"
            )
        for name, onnx_type in self.inputs:
            value = feed.get(name)
            if onnx_type == "tensor(float)" and getattr(value, "dtype", None) == np.float64:
                feed[name] = value.astype(np.float32)  # type: ignore[union-attr]
        return feed

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        outputs = self.rt.run(self.output_names, self._feed(data))
        if isinstance(data, pd.DataFrame):
            return pd.DataFrame(
                {
                    name: np.asarray(value).reshape(-1)
                    for name, value in zip(self.output_names, outputs, strict=True)
                }
            )
        return dict(zip(self.output_names, outputs, strict=True))


def _load_pyfunc(path: str) -> _OnnxPyfunc:
    """Loader of ``loader_module: mlflow.onnx`` (the model file or its directory)."""
    model_dir = os.path.dirname(path) if os.path.isfile(path) else path
    conf = load_flavor_conf(model_dir, FLAVOR_NAME)
    file = path if os.path.isfile(path) else flavor_file(model_dir, conf.get("data"), "onnx data")
    return _OnnxPyfunc(_session(file, conf))
