"""Which resources a search may return: the caller's permissions, as sets of ids.

A search over experiments, runs, registered models, model versions or logged models takes
``visible=`` to return only what the caller may read; the store applies it inside its query,
so that ``max_results``, page tokens and the pages themselves stay right (MLflow filters a
page after fetching it, so its pages come back short and its tokens skip or repeat).  ``None``
means no constraint (an admin, or a server without authentication).

A :class:`Visibility` has one of two shapes, after the server's default permission:

- ``Visibility(denied=...)``: the default permission allows ``READ``; every id is visible but
  the caller's explicit ``NO_PERMISSIONS`` grants;
- ``Visibility(allowed=..., denied=...)``: the default denies ``READ``; only the ids of the
  caller's explicit readable grants are visible (an id in both sets is not).

Logged models follow their experiment unless a grant of their own says otherwise: see
:class:`LoggedModelVisibility`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["LoggedModelVisibility", "Visibility"]


def _ids(value: Iterable[str], what: str) -> frozenset[str]:
    if isinstance(value, str):
        raise TypeError(f"Visibility.{what} must be a set of ids, not the string {value!r}")
    ids = frozenset(value)
    for item in ids:
        if not isinstance(item, str):
            raise TypeError(f"Visibility.{what} holds ids as strings, not {item!r}")
    return ids


@dataclass(frozen=True, slots=True)
class Visibility:
    """The ids of one kind of resource a caller may see (experiment ids, model names)."""

    #: None: every id but the denied ones; a set: only these ids (but the denied ones)
    allowed: frozenset[str] | None = None
    denied: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.allowed is not None:
            object.__setattr__(self, "allowed", _ids(self.allowed, "allowed"))
        object.__setattr__(self, "denied", _ids(self.denied, "denied"))

    @classmethod
    def everything(cls) -> Visibility:
        """Every id visible (no constraint; a query may still carry it)."""
        return cls()

    @property
    def is_everything(self) -> bool:
        return self.allowed is None and not self.denied

    @property
    def only(self) -> frozenset[str] | None:
        """The visible ids when they are a finite set (``allowed - denied``), else None."""
        return None if self.allowed is None else self.allowed - self.denied

    def admits(self, resource_id: str) -> bool:
        if resource_id in self.denied:
            return False
        return self.allowed is None or resource_id in self.allowed

    def restrict(self, ids: Iterable[str]) -> list[str]:
        """The visible ones among *ids*, in their order."""
        return [i for i in ids if self.admits(i)]


@dataclass(frozen=True, slots=True)
class LoggedModelVisibility:
    """Which logged models a caller may see.

    A logged model with no grant of its own follows its experiment (MLflow's rule: a logged
    model's permission is its experiment's).  mltrail also grants permissions on single
    logged models; such a grant decides for that model: ``granted`` are the models whose own
    grant allows ``READ`` (visible even where their experiment is not), ``denied`` those
    whose own grant is ``NO_PERMISSIONS`` (hidden even where their experiment is visible; a
    model in both sets is hidden).  A server that wants MLflow's stricter reading (a model's
    own grant may narrow its experiment's permission, never widen it) leaves ``granted``
    empty.
    """

    experiments: Visibility = field(default_factory=Visibility)
    granted: frozenset[str] = frozenset()
    denied: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.experiments, Visibility):
            raise TypeError(
                f"LoggedModelVisibility.experiments must be a Visibility, not {self.experiments!r}"
            )
        object.__setattr__(self, "granted", _ids(self.granted, "granted"))
        object.__setattr__(self, "denied", _ids(self.denied, "denied"))

    @classmethod
    def everything(cls) -> LoggedModelVisibility:
        return cls()

    @property
    def is_everything(self) -> bool:
        return self.experiments.is_everything and not self.denied

    def admits(self, model_id: str, experiment_id: str) -> bool:
        if model_id in self.denied:
            return False
        return model_id in self.granted or self.experiments.admits(experiment_id)
