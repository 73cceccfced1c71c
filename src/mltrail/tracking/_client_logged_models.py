"""The logged-model half of MlflowClient: MLflow 3's ``models:/<model_id>`` models, their
params, tags, status, artifacts and the runs that produced them (MLflow's method names,
arguments and return types).

They live in the ``logged_models`` part of the tracking URI's backend.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mltrail import artifacts
from mltrail._exceptions import InvalidArgument
from mltrail.entities._logged_model import (
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    LoggedModelStatus,
    validate_model_id,
)
from mltrail.tracking._client_artifacts import log_file_or_folder
from mltrail.tracking._client_registry import _text
from mltrail.validation import validate_int

if TYPE_CHECKING:
    from mltrail.artifacts import ArtifactRepository, FileInfo
    from mltrail.entities import LoggedModel
    from mltrail.store import Backend, PagedList
    from mltrail.store._logged_models_base import LoggedModelStore, OrderBy

__all__ = ["ClientLoggedModels"]


def _strings(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): _text(v) for k, v in (mapping or {}).items()}


def _status(status: Any) -> str:
    """``READY``/``FAILED``/``PENDING``, MLflow's ``LoggedModelStatus`` members (a str enum) or
    wire names (``LOGGED_MODEL_READY``); InvalidArgument naming the status otherwise."""
    if isinstance(status, enum.Enum) and not isinstance(status, str):
        status = status.name
    return LoggedModelStatus.parse(status)


class ClientLoggedModels:
    """Logged-model methods of the client; needs ``_backend`` and ``_tracking_uri`` from it."""

    _tracking_uri: str

    if TYPE_CHECKING:

        @property
        def _backend(self) -> Backend: ...

    @property
    def _logged_models(self) -> LoggedModelStore:
        return self._backend.logged_models

    def _model_repo(self, model_id: str) -> ArtifactRepository:
        location = self.get_logged_model(model_id).artifact_location
        return artifacts.get_artifact_repository(location, tracking_uri=self._tracking_uri)

    # -- models -----------------------------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """A new PENDING model in the experiment (a random readable name if none is given)."""
        return self._logged_models.create_logged_model(
            str(experiment_id), name, source_run_id, _strings(tags), _strings(params), model_type
        )

    def get_logged_model(self, model_id: str) -> LoggedModel:
        """NotFound for an unknown or deleted model."""
        return self._logged_models.get_logged_model(validate_model_id(model_id))

    def finalize_logged_model(self, model_id: str, status: Any) -> LoggedModel:
        """Set the status: ``"READY"``, ``"FAILED"`` (or MLflow's ``LoggedModelStatus``)."""
        checked = _status(status)
        return self._logged_models.finalize_logged_model(validate_model_id(model_id), checked)

    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete: the model disappears from get and search (``mltrail gc`` purges it)."""
        self._logged_models.delete_logged_model(validate_model_id(model_id))

    def search_logged_models(
        self,
        experiment_ids: Sequence[str] | str,
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[OrderBy] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """One page of the active models of the experiments matching *filter_string*.

        *datasets* (``{"dataset_name": ..., "dataset_digest": ...}``) restricts metric
        conditions; *order_by* items are ``{"field_name": "metrics.acc", "ascending": False}``
        (or ``"<field> [ASC|DESC]"``); the next page is fetched with the page's ``token``.
        """
        if experiment_ids is None:
            raise InvalidArgument("Invalid experiment_ids None: must be a list of experiment ids")
        ids = [experiment_ids] if isinstance(experiment_ids, (str, int)) else experiment_ids
        options: dict[str, Any] = {} if max_results is None else {"max_results": max_results}
        return self._logged_models.search_logged_models(
            [str(i) for i in ids],
            filter_string or None,
            datasets or None,
            order_by=order_by or None,
            page_token=page_token or None,
            **options,
        )

    # -- tags and params --------------------------------------------------------------------
    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, Any]) -> None:
        self._logged_models.set_logged_model_tags(validate_model_id(model_id), _strings(tags))

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """NotFound when the model has no such tag."""
        self._logged_models.delete_logged_model_tag(validate_model_id(model_id), key)

    def log_model_params(self, model_id: str, params: Mapping[str, Any]) -> None:
        """Params are immutable: the same value again is fine, another one is an error."""
        self._logged_models.log_logged_model_params(validate_model_id(model_id), _strings(params))

    # -- runs -------------------------------------------------------------------------------
    def log_model_inputs(self, run_id: str, models: Sequence[Any]) -> None:
        """Record that the run used these models (``LoggedModelInput``: a model id)."""
        inputs = [LoggedModelInput(validate_model_id(m.model_id)) for m in models]
        self._logged_models.log_model_inputs(run_id, inputs)

    def log_model_metrics(self, run_id: str, metrics: Sequence[LoggedModelMetric]) -> None:
        """Log metric values of the run and link them to the logged models they name (with
        the dataset they were measured on): MLflow's metrics logged with a ``model_id``."""
        for metric in metrics:
            validate_model_id(metric.model_id)
        self._logged_models.log_model_metrics(run_id, list(metrics))

    def log_outputs(self, run_id: str, models: Sequence[Any]) -> None:
        """Record that the run produced these models (``LoggedModelOutput``: id and step)."""
        outputs = [
            LoggedModelOutput(
                validate_model_id(m.model_id), validate_int("step", getattr(m, "step", 0) or 0)
            )
            for m in models
        ]
        self._logged_models.log_outputs(run_id, outputs)

    # -- artifacts --------------------------------------------------------------------------
    def list_logged_model_artifacts(self, model_id: str, path: str | None = None) -> list[FileInfo]:
        """The files and folders directly below *path* in the model's artifacts."""
        return self._model_repo(model_id).list_artifacts(path)

    def log_model_artifact(
        self, model_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a file (or a folder, recursively) into the model's artifacts."""
        log_file_or_folder(self._model_repo(model_id), local_path, artifact_path)

    def log_model_artifacts(
        self, model_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy the contents of a folder into the model's artifacts."""
        self._model_repo(model_id).log_artifacts(os.fspath(local_dir), artifact_path)
