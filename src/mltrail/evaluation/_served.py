"""A model evaluated in the environment it was logged with (``env_manager`` ``virtualenv``,
``uv`` or ``conda``), as MLflow restores it.

The model's files are copied to a private folder, the environment its ``python_env.yaml``
(``conda.yaml`` for conda) describes is built or reused from the cache (``MLTRAIL_ENV_ROOT``,
else ``~/.cache/mltrail/envs``), and each prediction runs ``python -m mltrail.serving predict``
with that environment's interpreter: the rows go in as a JSON ``dataframe_split`` file and the
predictions come back as JSON.  Only ``predict`` is served, as in MLflow: no class
probabilities (so no ``roc_auc`` or ``log_loss``), no ``score`` and no SHAP explanation.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
import weakref
from pathlib import Path
from typing import Any

from mltrail._envs import EnvironmentManager
from mltrail._exceptions import InvalidArgument, MltrailError
from mltrail.evaluation._model import Model
from mltrail.models import Model as ModelMeta
from mltrail.models._uri import download_model

__all__ = ["served_model"]

_logger = logging.getLogger("mltrail")
_TAIL = 4000


def _environment(manager: EnvironmentManager, model_dir: str) -> Path:
    if manager.manager != "conda":
        return manager.prepare(model_dir)
    conda_file = os.path.join(model_dir, "conda.yaml")
    if not os.path.isfile(conda_file):
        raise InvalidArgument(
            "Invalid env_manager 'conda': the model has no conda.yaml to build its environment "
            "from; use env_manager='virtualenv' or 'uv'"
        )
    return manager.prepare_conda(conda_file)


def _predictor(python: Path, model_dir: str, folder: str, config: dict[str, Any] | None) -> Any:
    command = [str(python), "-m", "mltrail.serving", "predict", "--model-path", model_dir]
    if config is not None:
        command += ["--model-config", json.dumps(config)]
    source = os.path.join(folder, "input.json")
    target = os.path.join(folder, "predictions.json")

    def predict(features: Any) -> Any:
        import pandas as pd

        frame = features if isinstance(features, pd.DataFrame) else pd.DataFrame(features)
        with open(source, "w", encoding="utf-8") as f:
            f.write('{"dataframe_split": ')
            f.write(frame.to_json(orient="split", index=False, date_format="iso"))
            f.write("}")
        done = subprocess.run(
            [*command, "--input", source, "--output", target, "--content-type", "json"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise MltrailError(
                "The model failed to predict in its environment (python -m mltrail.serving "
                f"predict exited with {done.returncode}):\n{done.stderr[-_TAIL:]}"
            )
        with open(target, encoding="utf-8") as f:
            predictions = json.load(f)["predictions"]
        if predictions and isinstance(predictions, list) and isinstance(predictions[0], dict):
            return pd.DataFrame(predictions)
        return pd.Series(predictions) if isinstance(predictions, list) else predictions

    return predict


def served_model(uri: str, env_manager: str, model_config: dict[str, Any] | None) -> Model:
    """The model at *uri*, predicting in its own environment (built here when needed).

    The private copy of its files is removed when the returned :class:`Model` is."""
    folder = tempfile.mkdtemp(prefix="mltrail-served-")  # mode 0700
    try:
        model_dir = download_model(uri, os.path.join(folder, "model"))
        meta = ModelMeta.load(model_dir)
        root = os.environ.get("MLTRAIL_ENV_ROOT") or None
        _logger.info(
            "Restoring the model's environment with %s (this can take minutes)", env_manager
        )
        python = _environment(EnvironmentManager(env_manager, root, echo=False), model_dir)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    model = Model(_predictor(python, model_dir, folder, model_config), model_uuid=meta.model_uuid)
    model.served = True
    weakref.finalize(model, shutil.rmtree, folder, True)
    return model
