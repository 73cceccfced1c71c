"""``persist_pretrained_model``: write the weights of a model saved with
``save_pretrained=False`` into the model itself, as MLflow does.

The model and its components are built from the Hub commits the model records, read from the
local Hugging Face cache (mltrail never downloads); their ``save_pretrained`` output is written
into the model's ``model/`` and ``components/`` and its ``MLmodel`` names them instead of the
Hub references.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from types import SimpleNamespace

from mltrail.models._flavor import load_flavor_conf, local_model
from mltrail.models._model import Model
from mltrail.models._uri import upload_model_dir, upload_model_file, writable_location
from mltrail.transformers._conf import COMPONENTS_DIR, MODEL_BINARY, save_parts
from mltrail.transformers._flavor import FLAVOR_NAME, _build

__all__ = ["persist_pretrained_model"]

_log = logging.getLogger(__name__)
_MLMODEL = "MLmodel"


def persist_pretrained_model(model_uri: str) -> None:
    """Write the weights and components of the model at *model_uri* (saved or logged with
    ``save_pretrained=False``) into it; a model that holds its weights already is left as it is.

    The Hub commits the model records are read from the local Hugging Face cache: a commit the
    cache does not hold is an error naming the command that fetches it.  *model_uri* is a local
    directory, a ``runs:/`` URI, a logged model (``models:/<model_id>``) or an artifact URI; a
    registered version (``models:/<name>/<version>``) is refused: its files stay what it was
    registered as.
    """
    writable_location(str(model_uri))  # a registered version is refused before any work
    work = tempfile.mkdtemp(prefix="mltrail-persist-")  # mode 0o700
    try:
        local = local_model(str(model_uri), os.path.join(work, "model"))
        conf = dict(load_flavor_conf(local, FLAVOR_NAME))
        if "model_binary" in conf:
            _log.info("The model at %s holds its weights already: nothing to do", model_uri)
            return
        # The parts as save_parts reads a pipeline: .model and one attribute per component.
        parts = _build(local, dict(conf), "components", "cpu", {})
        persisted = _persisted_conf(conf)
        out = os.path.join(work, "out")
        os.makedirs(out)
        save_parts(out, SimpleNamespace(**parts), persisted, parts.get("processor"))
        meta = Model.load(local)
        meta.flavors[FLAVOR_NAME] = persisted
        meta.save(os.path.join(out, _MLMODEL))
        for name in (MODEL_BINARY, COMPONENTS_DIR):
            if os.path.isdir(os.path.join(out, name)):
                upload_model_dir(str(model_uri), os.path.join(out, name), name)
        upload_model_file(str(model_uri), os.path.join(out, _MLMODEL))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _log.info("The pretrained model's weights are now part of %s", model_uri)


def _persisted_conf(conf: dict[str, object]) -> dict[str, object]:
    """*conf* naming the model's own ``model/`` instead of a Hub or local base reference."""
    persisted = dict(conf)
    persisted["model_binary"] = MODEL_BINARY
    persisted.pop("source_model_revision", None)
    persisted.pop("local_base_model_path", None)
    names = [str(n) for n in (conf.get("components") or [])]  # type: ignore[attr-defined]
    if conf.get("processor_type"):
        names.append("processor")
    for name in names:
        persisted.pop(f"{name}_name", None)
        persisted.pop(f"{name}_revision", None)
    return persisted
