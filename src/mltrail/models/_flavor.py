"""Helpers every flavor's loader shares: finding a model's files and its flavor entry."""

from __future__ import annotations

import os
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts import validate_artifact_path
from mltrail.models._model import Model
from mltrail.models._uri import download_model

__all__ = ["flavor_file", "load_flavor_conf", "local_model", "model_class_name"]


def local_model(model_uri: str, dst_path: str | None = None) -> str:
    """The local directory of *model_uri* (downloaded when remote)."""
    return download_model(model_uri, dst_path)


def load_flavor_conf(model_dir: str, flavor: str) -> dict[str, Any]:
    """The ``flavors.<flavor>`` entry of the model's ``MLmodel``; InvalidArgument if absent."""
    meta = Model.load(model_dir)
    conf = meta.flavors.get(flavor)
    if conf is None:
        raise InvalidArgument(
            f"The model at {model_dir!r} has no {flavor!r} flavor (it has {sorted(meta.flavors)})"
        )
    return conf


def flavor_file(model_dir: str, relative: Any, what: str) -> str:
    """``model_dir/relative`` for a path read from ``MLmodel`` (checked to stay inside)."""
    if not isinstance(relative, str) or not relative:
        raise InvalidArgument(f"Invalid MLmodel: the {what} path is missing")
    rel = validate_artifact_path(relative)
    return os.path.join(model_dir, *rel.split("/"))


def model_class_name(model: Any) -> str:
    """``module.Class`` of *model*, as MLmodel's ``model_class`` records it."""
    cls = type(model)
    return f"{cls.__module__}.{cls.__name__}"
