"""The ``MLmodel`` file: a model directory's description, read and written in MLflow's format.

::

    artifact_path: model                      # where it was logged in its run (when logged)
    flavors:
      python_function: {loader_module: mlflow.sklearn, model_path: model.skops, env: {...}}
      sklearn: {pickled_model: model.skops, serialization_format: skops, ...}
    model_uuid: 82d4e29e99bd41da9d36a559b9905d33
    run_id: ...
    saved_input_example_info: {artifact_path: input_example.json, type: dataframe, ...}
    signature: {inputs: '<json>', outputs: '<json>', params: '<json>'}
    utc_time_created: '2026-01-01 10:00:00.000000'

Keys this module does not know are kept and written back unchanged, so a file written by a
newer MLflow survives a read-modify-write by mltrail.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

from mltrail._exceptions import InvalidArgument, NotFound, NotImplementedYet
from mltrail._model_tracking import LogModelRequest, model_tracking
from mltrail._version import __version__
from mltrail.artifacts._paths import validate_artifact_path
from mltrail.models._code_model import read_model_config
from mltrail.models._example import (
    read_input_example,
    read_input_example_params,
    read_serving_input,
)
from mltrail.models._signature import ModelSignature
from mltrail.models._uri import download_model_file, is_local_uri

__all__ = [
    "MLMODEL_FILE_NAME",
    "Model",
    "ModelInfo",
    "ModelInputExample",
    "log_saved_model",
    "resolve_artifact_path",
]

#: What ``input_example=`` takes: a DataFrame, an array, a dict (of columns or of tensors), a
#: list of records, a string, bytes, or a tuple ``(example, params)``.
ModelInputExample = Union[
    "pd.DataFrame", "np.ndarray", dict[str, Any], list[Any], str, bytes, tuple[Any, ...]
]

MLMODEL_FILE_NAME = "MLmodel"

_logger = logging.getLogger(__name__)

_KNOWN = (
    "artifact_path",
    "run_id",
    "utc_time_created",
    "flavors",
    "signature",
    "saved_input_example_info",
    "model_uuid",
    "metadata",
    "model_size_bytes",
    "env_vars",
    "model_id",
)


def _mltrail_version() -> str:
    return __version__


class Model:
    """An MLflow Model: flavors, signature, input example and where it was logged."""

    def __init__(
        self,
        artifact_path: str | None = None,
        run_id: str | None = None,
        utc_time_created: str | None = None,
        flavors: dict[str, dict[str, Any]] | None = None,
        signature: ModelSignature | None = None,
        saved_input_example_info: dict[str, Any] | None = None,
        model_uuid: str | None = None,
        metadata: dict[str, Any] | None = None,
        model_size_bytes: int | None = None,
        env_vars: list[str] | None = None,
        model_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.artifact_path = artifact_path
        #: The logged model (``m-...``) this model was logged as; None for a saved model.
        self.model_id = model_id
        self.run_id = run_id
        self.utc_time_created = utc_time_created or _dt.datetime.now(_dt.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S.%f"
        )
        self.flavors: dict[str, dict[str, Any]] = dict(flavors or {})
        self.signature = signature
        self.saved_input_example_info = saved_input_example_info
        self.model_uuid = model_uuid or uuid.uuid4().hex
        self.metadata = metadata
        self.model_size_bytes = model_size_bytes
        if env_vars is not None and not (
            isinstance(env_vars, list) and all(isinstance(v, str) for v in env_vars)
        ):
            raise InvalidArgument(f"Invalid env_vars {env_vars!r}: expected a list of names")
        #: The environment variables the model reads (names only), as MLflow records them.
        self.env_vars = env_vars
        self.extra: dict[str, Any] = dict(kwargs)
        self.extra.setdefault("mltrail_version", _mltrail_version())

    # -- flavors -----------------------------------------------------------------------------
    def add_flavor(self, name: str, **params: Any) -> Model:
        """Add (or replace) a flavor's configuration; returns self."""
        self.flavors[name] = params
        return self

    def get_input_schema(self) -> Any:
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self) -> Any:
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self) -> Any:
        return self.signature.params if self.signature is not None else None

    def load_input_example(self, path: str | os.PathLike[str]) -> Any:
        """The saved input example of the model stored at *path* (None when there is none)."""
        return read_input_example(self, os.fspath(path))

    def load_input_example_params(self, path: str) -> dict[str, Any] | None:
        """The params of the ``(input, params)`` example saved with the model at *path*."""
        return read_input_example_params(self, os.fspath(path))

    def get_serving_input(self, path: str) -> str | None:
        """The serving input example (JSON text) saved with the model at *path*, or None."""
        return read_serving_input(self, os.fspath(path))

    def get_model_info(self, logged_model: Any = None) -> ModelInfo:
        """This model's :class:`ModelInfo` (what ``log_model`` returns), with the logged
        model it went to (*logged_model*; its URI is then ``models:/<model_id>``)."""
        version = self.extra.get("mlflow_version") or self.extra.get("mltrail_version") or ""
        uri = (
            f"models:/{self.model_id}"
            if self.model_id
            else f"runs:/{self.run_id}/{self.artifact_path}"
        )
        return ModelInfo(
            artifact_path=self.artifact_path or "",
            flavors=self.flavors,
            model_uri=uri,
            model_uuid=self.model_uuid,
            run_id=self.run_id,
            saved_input_example_info=self.saved_input_example_info,
            signature=self.signature,
            utc_time_created=self.utc_time_created,
            mlflow_version=str(version),
            metadata=self.metadata,
            env_vars=self.env_vars,
            logged_model=logged_model,
        )

    # -- serialisation -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.artifact_path is not None:
            out["artifact_path"] = self.artifact_path
        out["flavors"] = self.flavors
        out["model_uuid"] = self.model_uuid
        if self.run_id is not None:
            out["run_id"] = self.run_id
        out["utc_time_created"] = self.utc_time_created
        if self.signature is not None:
            out["signature"] = self.signature.to_dict()
            if self.signature._is_type_hint_from_example:
                out["type_hint_from_example"] = True
        if self.saved_input_example_info is not None:
            out["saved_input_example_info"] = self.saved_input_example_info
        if self.metadata is not None:
            out["metadata"] = self.metadata
        if self.model_size_bytes is not None:
            out["model_size_bytes"] = self.model_size_bytes
        if self.env_vars is not None:
            out["env_vars"] = self.env_vars
        if self.model_id is not None:
            out["model_id"] = self.model_id
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out

    def to_yaml(self, stream: IO[str] | None = None) -> str:
        """The ``MLmodel`` text; also written to *stream* when one is given."""
        import yaml

        text: str = yaml.safe_dump(self.to_dict(), default_flow_style=False, sort_keys=True)
        if stream is not None:
            stream.write(text)
        return text

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict())

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write this model's ``MLmodel`` to *path* (a file path)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_yaml())

    @classmethod
    def from_dict(cls, model_dict: dict[str, Any]) -> Model:
        if not isinstance(model_dict, dict):
            raise InvalidArgument(
                f"Invalid MLmodel content: expected a mapping, got {type(model_dict)}"
            )
        data = dict(model_dict)
        flavors = data.get("flavors")
        if flavors is not None and not (
            isinstance(flavors, dict) and all(isinstance(v, dict) for v in flavors.values())
        ):
            raise InvalidArgument("Invalid MLmodel content: 'flavors' must map names to mappings")
        signature = data.get("signature")
        if isinstance(signature, dict):
            signature = ModelSignature.from_dict(signature)
            # MLflow's mark beside the signature; the key stays in the extras, so it is kept
            signature._is_type_hint_from_example = data.get("type_hint_from_example") is True
        elif signature is not None:
            raise InvalidArgument("Invalid MLmodel content: 'signature' must be a mapping")
        known = {k: data.pop(k) for k in _KNOWN if k in data}
        known["signature"] = signature
        return cls(**known, **data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read a model description: a model directory, an ``MLmodel`` file or a model URI."""
        import yaml

        text = os.fspath(path)
        local = text
        if not os.path.exists(text):
            if is_local_uri(text):
                raise NotFound(f"No model at {text!r}: the path does not exist")
            local = download_model_file(text, MLMODEL_FILE_NAME)
        if os.path.isdir(local):
            local = os.path.join(local, MLMODEL_FILE_NAME)
        if not os.path.isfile(local):
            raise NotFound(f"No MLmodel file at {local!r}: not a model directory")
        with open(local, encoding="utf-8") as f:
            content = yaml.safe_load(f)
        return cls.from_dict(content or {})

    @classmethod
    def log(
        cls,
        artifact_path: str | None = None,
        flavor: Any = None,
        registered_model_name: str | None = None,
        await_registration_for: int | None = 300,
        metadata: dict[str, Any] | None = None,
        run_id: str | None = None,
        resources: Any = None,
        auth_policy: Any = None,
        prompts: Any = None,
        name: str | None = None,
        model_type: str | None = None,
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        step: int = 0,
        model_id: str | None = None,
        **kwargs: Any,
    ) -> ModelInfo:
        """Log a model the way every flavor's ``log_model`` does (MLflow's ``Model.log``):
        *flavor* is a module or object whose ``save_model(path=..., mlflow_model=...,
        **kwargs)`` writes the model's files; the rest are ``log_model``'s arguments.

        *resources* and *auth_policy* (MLflow's model-serving declarations) are written to
        ``MLmodel`` as given; *prompts* (MLflow's GenAI prompt registry) are refused.
        """
        save_flavor = getattr(flavor, "save_model", None)
        if not callable(save_flavor):
            raise InvalidArgument(
                f"Invalid flavor {flavor!r}: expected a module or object with save_model(path, "
                "mlflow_model, ...), such as mltrail.sklearn"
            )
        if resources is not None and auth_policy is not None:
            raise InvalidArgument("Only one of resources and auth_policy can be given")
        if prompts is not None:
            raise NotImplementedYet(
                "Model.log's 'prompts' argument links GenAI prompts, which mltrail does not have"
            )
        declared = {"resources": resources, "auth_policy": auth_policy}

        def save(local: str, model: Model) -> Model:
            model.metadata = metadata if metadata is not None else model.metadata
            model.extra.update({k: v for k, v in declared.items() if v is not None})
            saved = save_flavor(path=local, mlflow_model=model, **kwargs)
            return saved if isinstance(saved, Model) else model

        return log_saved_model(
            save,
            artifact_path=artifact_path,
            name=name,
            registered_model_name=registered_model_name,
            run_id=run_id,
            params=params,
            tags=tags,
            model_type=model_type,
            step=step,
            model_id=model_id,
            await_registration_for=await_registration_for,
            model_class=cls,
            model_config=kwargs.get("model_config"),
        )

    def get_tags_dict(self) -> dict[str, Any]:
        """The entry recorded in the run's ``mlflow.log-model.history`` tag."""
        entry: dict[str, Any] = {
            "run_id": self.run_id,
            "artifact_path": self.artifact_path,
            "utc_time_created": self.utc_time_created,
            "model_uuid": self.model_uuid,
            "flavors": {
                name: {k: v for k, v in conf.items() if k != "config"}
                for name, conf in self.flavors.items()
            },
        }
        if self.signature is not None:
            entry["signature"] = self.signature.to_dict()
        return entry

    def __repr__(self) -> str:
        return (
            f"Model(artifact_path={self.artifact_path!r}, run_id={self.run_id!r}, "
            f"flavors={sorted(self.flavors)!r})"
        )


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` returns: where the model went and what it is."""

    artifact_path: str
    flavors: dict[str, Any]
    model_uri: str
    model_uuid: str
    run_id: str | None
    saved_input_example_info: dict[str, Any] | None
    signature: ModelSignature | None
    utc_time_created: str
    mlflow_version: str
    metadata: dict[str, Any] | None = None
    registered_model_version: int | None = None
    env_vars: list[str] | None = field(default=None)
    #: The logged model (``mltrail.entities.LoggedModel``, as it was created) the model went
    #: to; ``name``, ``model_id``, ``params``, ``tags``, ``metrics`` and
    #: ``creation_timestamp`` are its (None for a model that was not logged as one).
    logged_model: Any = field(default=None, compare=False, repr=False)

    @property
    def signature_dict(self) -> dict[str, Any] | None:
        return self.signature.to_dict() if self.signature is not None else None

    def _logged(self, attribute: str) -> Any:
        return None if self.logged_model is None else getattr(self.logged_model, attribute)

    @property
    def name(self) -> str | None:
        return self._logged("name")  # type: ignore[no-any-return]

    @property
    def model_id(self) -> str | None:
        return self._logged("model_id")  # type: ignore[no-any-return]

    @property
    def params(self) -> dict[str, str] | None:
        return self._logged("params")  # type: ignore[no-any-return]

    @property
    def tags(self) -> dict[str, str] | None:
        return self._logged("tags")  # type: ignore[no-any-return]

    @property
    def metrics(self) -> list[Any] | None:
        return self._logged("metrics")  # type: ignore[no-any-return]

    @property
    def creation_timestamp(self) -> int | None:
        return self._logged("creation_timestamp")  # type: ignore[no-any-return]


def resolve_artifact_path(artifact_path: str | None, name: str | None) -> str:
    """The artifact path from MLflow's two spellings (positional ``artifact_path``, ``name=``)."""
    if artifact_path is not None and name is not None and artifact_path != name:
        raise InvalidArgument(
            f"Both artifact_path={artifact_path!r} and name={name!r} were given: pass only one"
        )
    chosen = artifact_path if artifact_path is not None else name
    if chosen is None:
        chosen = "model"
    if not isinstance(chosen, str):
        raise InvalidArgument(f"Invalid artifact path {chosen!r}: expected a string")
    checked = validate_artifact_path(chosen.strip("/"))
    if not checked:
        raise InvalidArgument("Invalid artifact path '': a model needs a non-empty name")
    return checked


def model_config_params(model_config: Any) -> dict[str, str]:
    """The run params MLflow logs for a model's *model_config*: a dict, or a ``.json``,
    ``.yaml`` or ``.yml`` file holding one, with nested keys joined by ``/``.  Anything else
    logs none, with a warning (as in MLflow)."""
    if isinstance(model_config, (str, os.PathLike)):
        path = os.fspath(model_config)
        if os.path.splitext(path)[1].lower() not in (".json", ".yaml", ".yml"):
            _logger.warning("Unsupported file format for model config: %s", path)
            return {}
        try:
            model_config = read_model_config(path)
        except InvalidArgument as exc:
            _logger.warning("Failed to load model config from %s: %s", path, exc.message)
            return {}
    if not isinstance(model_config, Mapping):
        return {}
    flat: dict[str, str] = {}

    def walk(mapping: Mapping[Any, Any], prefix: str) -> None:
        for key, value in mapping.items():
            name = f"{prefix}/{key}" if prefix else str(key)
            if isinstance(value, dict):
                walk(value, name)
            else:
                flat[name] = str(value)

    walk(model_config, "")
    return flat


def log_saved_model(
    save: Callable[[str, Model], Model],
    *,
    artifact_path: str | None,
    name: str | None = None,
    registered_model_name: str | None = None,
    run_id: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    await_registration_for: int | None = 300,
    model_class: type[Model] | None = None,
    model_config: Any = None,
) -> ModelInfo:
    """Save with ``save(local_dir, Model(...))`` and log it as MLflow 3's ``log_model`` does:
    a logged model (``models:/m-...``), an output of the active run (or of *run_id*; no run
    is started), registered as a version of *registered_model_name* when given.

    *params*, *tags*, *model_type* and *step* describe the new logged model; *model_id* names
    an existing one (``initialize_logged_model``) to store the files in instead.
    *await_registration_for* is accepted as MLflow's (versions are created ready here).
    The model's *model_config* (a dict, or a JSON or YAML file) is logged as the run's params.
    """
    del await_registration_for
    path = resolve_artifact_path(artifact_path, name)
    if model_type is not None and not isinstance(model_type, str):
        raise InvalidArgument(f"Invalid model_type {model_type!r}: expected a string")
    for arg, mapping in (("params", params), ("tags", tags)):
        if mapping is not None and not isinstance(mapping, Mapping):
            raise InvalidArgument(f"Invalid {arg} {mapping!r}: expected a dict of names to values")
    if isinstance(step, bool) or not isinstance(step, int):
        raise InvalidArgument(f"Invalid step {step!r}: expected an integer")
    request = LogModelRequest(
        name=path,
        registered_model_name=registered_model_name,
        run_id=run_id,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        model_id=model_id,
        run_params=model_config_params(model_config),
    )
    new = model_class or Model
    result = model_tracking().log_model(lambda local, fields: save(local, new(**fields)), request)
    info = result.model.get_model_info(result.logged_model)
    return dataclasses.replace(info, registered_model_version=result.registered_version)
