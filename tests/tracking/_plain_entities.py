"""``plain``: an entity dictionary with the entities inside it (a run's model inputs, a logged
model's metrics) as dictionaries too, for comparing mltrail's with MLflow's.  Imported by
tests/tracking/test_entity_dictionaries.py and by its scenario script (run under either
library, so it imports neither)."""

from __future__ import annotations

from typing import Any

__all__ = ["plain"]


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if callable(getattr(value, "to_dictionary", None)):
        return plain(value.to_dictionary())
    if hasattr(value, "_properties"):  # MLflow's entity without to_dictionary: its pairs
        return plain(dict(value))
    return value
