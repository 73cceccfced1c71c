"""``RunInfo.get_searchable_attributes()``/``get_orderable_attributes()`` (MLflow's names) list
the run attributes the search grammar takes: the entities keep their own copy, so that
``import mltrail`` does not load the grammar, and this test keeps the two the same."""

from __future__ import annotations

from mltrail.entities import RunInfo
from mltrail.search._fields import KINDS


def test_run_attributes_are_the_search_grammar_s() -> None:
    runs = KINDS["runs"]
    assert RunInfo.get_searchable_attributes() == sorted(runs.attributes)
    assert RunInfo.get_orderable_attributes() == sorted(runs.order_attributes)
    assert "run_name" in RunInfo.get_searchable_attributes()
