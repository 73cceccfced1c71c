"""The statsmodels flavor: fitted results (``statsmodels.base.model.Results``) in
statsmodels' own file format.

A model is written with the results' ``save`` (``model.statsmodels``), which pickles them, as
MLflow does; with ``remove_data=True`` the training data is left out of the file.  Loading
reads that pickle, so it follows ``MLTRAIL_ALLOW_PICKLE`` like every pickle-based format.
The ``MLmodel`` entries are MLflow's (``loader_module: mlflow.statsmodels``,
``statsmodels_version``), so the models move both ways.  As a python_function model, a
regression's results predict from a DataFrame of its exogenous columns; a time-series model's
from one row with ``start`` and ``end`` (MLflow's rule).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._optional import require
from mltrail.models._flavor import flavor_file, load_flavor_conf, local_model
from mltrail.models._log import log_flavor_model
from mltrail.models._model import Model, ModelInfo
from mltrail.models._safety import check_pickle_allowed
from mltrail.models._save import copy_code_paths, copy_extra_files, finish_save, prepare_model_dir
from mltrail.models._signature import ModelSignature
from mltrail.pyfunc._load import add_to_model

__all__ = [
    "FLAVOR_NAME",
    "STATSMODELS_DATA_SUBPATH",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]

# What the requirements probe imports while the model is written (the loader's libraries).
_PROBE_MODULES = ["statsmodels", "mltrail.statsmodels"]

FLAVOR_NAME = "statsmodels"
STATSMODELS_DATA_SUBPATH = "model.statsmodels"


def get_default_pip_requirements() -> list[str]:
    from mltrail.models._env import pinned

    return [pinned("statsmodels")]


def get_default_conda_env() -> dict[str, Any]:
    """The conda environment (``conda.yaml``) of a model saved with the default requirements."""
    from mltrail.models._env import conda_environment

    return conda_environment(get_default_pip_requirements())


def _check_results(statsmodels_model: Any) -> None:
    results = require("statsmodels.base.wrapper")
    base = require("statsmodels.base.model")
    if not isinstance(statsmodels_model, (base.Results, results.ResultsWrapper)):
        raise InvalidArgument(
            f"Invalid statsmodels_model of type {type(statsmodels_model).__name__}: expected "
            "fitted statsmodels results (what a model's fit() returns)"
        )


def save_model(
    statsmodels_model: Any,
    path: str | os.PathLike[str],
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    remove_data: bool = False,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
) -> Model:
    """Save fitted statsmodels results to *path* (``remove_data``: without the training
    data, through statsmodels' own ``remove_data``)."""
    import statsmodels

    from mltrail.models._env import early_probe

    _check_results(statsmodels_model)
    if not isinstance(remove_data, bool):
        raise InvalidArgument(f"Invalid remove_data {remove_data!r}: must be True or False")
    local = prepare_model_dir(path)
    model = mlflow_model if mlflow_model is not None else Model()
    code = copy_code_paths(local, code_paths)
    extras = copy_extra_files(local, extra_files)
    with early_probe(_PROBE_MODULES, pip_requirements, conda_env) as started:
        statsmodels_model.save(os.path.join(local, STATSMODELS_DATA_SUBPATH), remove_data)
        add_to_model(model, "mlflow.statsmodels", data=STATSMODELS_DATA_SUBPATH, code=code)
        model.add_flavor(
            FLAVOR_NAME,
            statsmodels_version=statsmodels.__version__,
            data=STATSMODELS_DATA_SUBPATH,
            code=code,
            **extras,
        )
        wrapper = _StatsmodelsPyfunc(statsmodels_model)
        return finish_save(
            local,
            model,
            predict=wrapper.predict,
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
    statsmodels_model: Any,
    artifact_path: str | None = None,
    conda_env: Any = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    remove_data: bool = False,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    await_registration_for: int = 300,
    pip_requirements: str | Sequence[str] | None = None,
    extra_pip_requirements: str | Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    run_id: str | None = None,
) -> ModelInfo:
    """Log a statsmodels results object as MLflow 3 does: a logged model (``models:/m-...``),
    an output of the active run (or *run_id*) when there is one; the other arguments are
    :func:`save_model`'s."""
    arguments = dict(locals())
    return log_flavor_model(save_model, arguments)


def _load_file(model_dir: str, conf: dict[str, Any]) -> Any:
    require("statsmodels")
    file = flavor_file(model_dir, conf.get("data", STATSMODELS_DATA_SUBPATH), "statsmodels data")
    check_pickle_allowed(f"the statsmodels model {os.path.basename(file)}")
    io = require("statsmodels.iolib.api")
    return io.load_pickle(file)


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """The fitted statsmodels results saved at *model_uri*."""
    local = local_model(model_uri, dst_path)
    return _load_file(local, load_flavor_conf(local, FLAVOR_NAME))


class _StatsmodelsPyfunc:
    """The python_function implementation of fitted statsmodels results."""

    def __init__(self, results: Any) -> None:
        self.results = results

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        tsa = require("statsmodels.tsa.base.tsa_model")
        if isinstance(self.results.model, tsa.TimeSeriesModel):
            columns = getattr(data, "columns", ())
            if len(data) != 1 or "start" not in columns or "end" not in columns:
                raise InvalidArgument(
                    "Invalid input for a time-series model: one row with the columns start "
                    "and end (the first and last period to predict)"
                )
            row = data.iloc[0]
            return self.results.predict(start=row["start"], end=row["end"])
        return self.results.predict(data)

    def get_raw_model(self) -> Any:
        return self.results


def _load_pyfunc(path: str) -> _StatsmodelsPyfunc:
    """Loader of ``loader_module: mlflow.statsmodels`` (the model file or its directory)."""
    model_dir = os.path.dirname(path) if os.path.isfile(path) else path
    return _StatsmodelsPyfunc(_load_file(model_dir, load_flavor_conf(model_dir, FLAVOR_NAME)))
