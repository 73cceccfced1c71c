"""Where each source experiment and registered model goes, and the conflicts that stop an
import before it writes anything.

An experiment of the source lands on the destination experiment with its id, unless the
ledger says an earlier import of this source put it elsewhere.  A destination experiment
with the same id *and* the same name (after ``--experiment-prefix``) is the same experiment
(every store's ``0``/``Default``, say): the import merges into it.  Anything else is a
conflict:

- the name is taken by another destination experiment: ``--experiment-prefix`` renames the
  imported experiments;
- the id is taken by an experiment of another name: ``--new-experiment-ids`` gives the
  imported experiments whose id is taken new ids (remembered in the ledger, so a repeated
  import finds them again);
- a registered model of the name exists in the destination and was not imported from this
  source: ``--model-prefix`` renames the imported registered models.

Runs and logged models need no plan: their ids are random and global, so a destination run
with a source run's id *is* that run, and the import brings it up to date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mltrail._exceptions import AlreadyExists, NotFound
from mltrail.entities import Experiment
from mltrail.store._imports_base import LedgerEntry

__all__ = [
    "Conflict",
    "ExperimentPlan",
    "ImportConflict",
    "plan_experiments",
    "plan_registered_model_names",
    "select_experiments",
]


@dataclass(frozen=True, slots=True)
class Conflict:
    """Why the import cannot go ahead as asked, and the option that resolves it."""

    kind: str  # "experiment name", "experiment id", "registered model"
    name: str
    message: str
    option: str

    def __str__(self) -> str:
        return f"{self.message} (resolve with {self.option})"


class ImportConflict(AlreadyExists):
    """An import that would overwrite another experiment or registered model: nothing was
    written.  ``conflicts`` lists each, with the option that resolves it."""

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        self.conflicts = list(conflicts)
        lines = "\n".join(f"  - {c}" for c in self.conflicts)
        super().__init__(
            f"The import would overwrite data already in the destination; nothing was "
            f"written:\n{lines}",
            details={
                "conflicts": [
                    {"kind": c.kind, "name": c.name, "option": c.option} for c in self.conflicts
                ]
            },
        )


@dataclass(frozen=True, slots=True)
class ExperimentPlan:
    """A source experiment and where it goes: its id and name in the destination, and
    whether a destination experiment of that id exists already."""

    source: Experiment
    target_id: str
    target_name: str
    exists: bool
    existing_location: str | None


def select_experiments(every: Sequence[Experiment], wanted: Sequence[str]) -> list[Experiment]:
    """The experiments named or numbered in *wanted* (all of them when empty); NotFound
    naming the ones the source does not have."""
    if not wanted:
        return list(every)
    by_id = {e.experiment_id: e for e in every}
    by_name = {e.name: e for e in every}
    chosen: dict[str, Experiment] = {}
    missing = []
    for item in wanted:
        found = by_name.get(item) or by_id.get(item)
        if found is None:
            missing.append(item)
        else:
            chosen[found.experiment_id] = found
    if missing:
        raise NotFound(
            "No experiment named or numbered "
            + ", ".join(repr(m) for m in missing)
            + " in the source (--experiment takes an experiment's name or id)"
        )
    return list(chosen.values())


def plan_experiments(
    sources: Sequence[Experiment],
    destination: Iterable[Experiment],
    ledger: dict[str, LedgerEntry],
    *,
    prefix: str,
    new_ids: bool,
) -> tuple[list[ExperimentPlan], list[Conflict]]:
    """Where each source experiment goes, and the conflicts (see the module doc)."""
    by_id = {e.experiment_id: e for e in destination}
    by_name = {e.name: e for e in by_id.values()}
    # New ids are above every id of either side, so they never meet a source id kept later.
    taken = {int(i) for i in [*by_id, *(e.experiment_id for e in sources)] if i.isdigit()}
    plans: list[ExperimentPlan] = []
    conflicts: list[Conflict] = []
    claimed: dict[str, str] = {}  # destination id -> source id, within this import
    for exp in sources:
        name = prefix + exp.name
        known = ledger.get(exp.experiment_id)
        target = known.target if known is not None and known.target else exp.experiment_id
        current = by_id.get(target)
        ours = known is not None and known.target == target
        if current is not None and current.name != name and not ours:
            if new_ids:
                target = str(_next_id(taken))
                current = None
            else:
                conflicts.append(
                    Conflict(
                        "experiment id",
                        exp.name,
                        f"Experiment id {target} ('{exp.name}' in the source) is taken in the "
                        f"destination by the experiment '{current.name}'",
                        "--new-experiment-ids",
                    )
                )
                continue
        holder = by_name.get(name)
        if holder is not None and holder.experiment_id != target:
            conflicts.append(
                Conflict(
                    "experiment name",
                    name,
                    f"An experiment named '{name}' already exists in the destination (id "
                    f"{holder.experiment_id}) and is not source experiment {exp.experiment_id}",
                    "--experiment-prefix",
                )
            )
            continue
        if target in claimed:
            conflicts.append(
                Conflict(
                    "experiment id",
                    exp.name,
                    f"Experiments {claimed[target]} and {exp.experiment_id} of the source would "
                    f"both become destination experiment {target}",
                    "--new-experiment-ids",
                )
            )
            continue
        claimed[target] = exp.experiment_id
        plans.append(
            ExperimentPlan(
                exp,
                target,
                name,
                current is not None,
                None if current is None else current.artifact_location,
            )
        )
    return plans, conflicts


def _next_id(taken: set[int]) -> int:
    value = max(taken, default=0) + 1
    taken.add(value)
    return value


def plan_registered_model_names(
    names: Sequence[str],
    existing: set[str],
    ledger: dict[str, LedgerEntry],
    *,
    prefix: str,
) -> tuple[dict[str, str], list[Conflict]]:
    """The destination name of each source registered model, and the conflicts: a name
    that exists in the destination and was not imported there from this source."""
    ours = {entry.target for entry in ledger.values() if entry.target}
    out: dict[str, str] = {}
    conflicts = []
    for name in names:
        target = prefix + name
        if target in existing and target not in ours:
            conflicts.append(
                Conflict(
                    "registered model",
                    target,
                    f"A registered model named '{target}' already exists in the destination "
                    "and was not imported from this source",
                    "--model-prefix",
                )
            )
        out[name] = target
    return out, conflicts
