"""What a REST store refuses: permanent deletion (``mltrail gc``) works on the database, as
MLflow's ``gc`` does; a tracking server offers no endpoint that destroys data beyond recovery."""

from __future__ import annotations

from mltrail._exceptions import NotImplementedYet
from mltrail.entities import Experiment, LoggedModel, RunInfo

__all__ = ["RestRefusesGc"]


class RestRefusesGc:
    """The garbage-collection part of the store interfaces, each a clear NotImplementedYet."""

    base_url: str

    def _gc_only(self, what: str) -> NotImplementedYet:
        return NotImplementedYet(
            f"{what} is not available through a tracking server ({self.base_url}): permanent "
            "deletion works on the server's database; run `mltrail gc --tracking-uri "
            "<database URI>` where that database is reachable"
        )

    def deleted_runs(self, older_than_ms: int | None = None) -> list[RunInfo]:
        raise self._gc_only("Listing deleted runs for garbage collection")

    def hard_delete_run(self, run_id: str) -> None:
        raise self._gc_only("Permanently deleting a run")

    def deleted_experiments(self, older_than_ms: int | None = None) -> list[Experiment]:
        raise self._gc_only("Listing deleted experiments for garbage collection")

    def hard_delete_experiment(self, experiment_id: str) -> None:
        raise self._gc_only("Permanently deleting an experiment")

    def deleted_logged_models(self, older_than_ms: int | None = None) -> list[LoggedModel]:
        raise self._gc_only("Listing deleted logged models for garbage collection")

    def hard_delete_logged_model(self, model_id: str) -> None:
        raise self._gc_only("Permanently deleting a logged model")
