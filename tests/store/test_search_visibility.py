"""Conformance: searches narrowed to what a caller may read (``visible=``), inside the query.

Experiments, runs and logged models on every SQL backend: allow-lists, deny-lists, both, an
empty allow-list, pages that stay full across the constraint, filters and sort orders with it,
and lists of 20,000 ids (one statement whatever their length).  The REST backend refuses
``visible=``: the tracking server applies its callers' permissions itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from tests._visibility import BIG, counted_statements, pages, refused_over_rest

from mltrail._exceptions import InvalidArgument
from mltrail.entities import ExperimentTag, Metric, RunTag, ViewType
from mltrail.store import Backend, LoggedModelVisibility, Visibility


def _allow(*ids: str) -> Visibility:
    return Visibility(allowed=frozenset(ids))


def _deny(*ids: str) -> Visibility:
    return Visibility(denied=frozenset(ids))


# -- experiments ---------------------------------------------------------------------------


@pytest.fixture
def experiments(store: Backend) -> dict[str, str]:
    """Nine experiments ``x0`` ... ``x8`` (team ``a`` for even numbers, ``b`` for odd); their
    ids by name, with ``Default`` (id 0)."""
    ids = {"Default": "0"}
    for n in range(9):
        team = ExperimentTag("team", "a" if n % 2 == 0 else "b")
        ids[f"x{n}"] = store.experiments.create_experiment(f"x{n}", tags=[team])
    return ids


def _experiment_names(store: Backend, visible: Visibility | None, **kwargs: object) -> list[str]:
    page = store.experiments.search_experiments(visible=visible, **kwargs)  # type: ignore[arg-type]
    return sorted(e.name for e in page)


def test_experiments_allow_deny_both_and_empty(store: Backend, experiments: dict[str, str]) -> None:
    ids = experiments
    if refused_over_rest(store, lambda: _experiment_names(store, _deny(ids["x1"]))):
        return
    everyone = sorted(ids)
    assert _experiment_names(store, None) == everyone
    assert _experiment_names(store, Visibility.everything()) == everyone
    # Ids that match nothing (unknown, not numbers, too long) are no error.
    allowed = _allow(ids["x1"], ids["x3"], "987654", "not-an-id", "9" * 40, "")
    assert _experiment_names(store, allowed) == ["x1", "x3"]
    assert _experiment_names(store, _deny(ids["x1"], "0", "junk")) == [
        n for n in everyone if n not in ("x1", "Default")
    ]
    both = Visibility(allowed=frozenset({ids["x1"], ids["x2"], ids["x3"]}), denied={ids["x2"]})  # type: ignore[arg-type]
    assert _experiment_names(store, both) == ["x1", "x3"]
    empty = store.experiments.search_experiments(visible=_allow())
    assert list(empty) == []
    assert empty.token is None
    # Deleted experiments obey it too.
    store.experiments.delete_experiment(ids["x3"])
    assert _experiment_names(store, allowed, view_type=ViewType.ALL) == ["x1", "x3"]
    assert _experiment_names(store, allowed) == ["x1"]


@pytest.mark.parametrize("shape", ["allow", "deny"])
def test_experiment_pages_stay_full_under_visibility(
    store: Backend, experiments: dict[str, str], shape: str
) -> None:
    ids = experiments
    hidden = {ids[n] for n in ("Default", "x0", "x4", "x5", "x8")}
    shown = (i for i in ids.values() if i not in hidden)
    visible = _allow(*shown) if shape == "allow" else _deny(*hidden)
    if refused_over_rest(store, lambda: store.experiments.search_experiments(visible=visible)):
        return
    found = pages(
        lambda token: store.experiments.search_experiments(
            max_results=2, order_by=["name"], page_token=token, visible=visible
        ),
        2,
    )
    assert [e.name for e in found] == ["x1", "x2", "x3", "x6", "x7"]


def test_experiments_filter_and_order_with_visibility(
    store: Backend, experiments: dict[str, str]
) -> None:
    ids = experiments
    visible = _deny(ids["x2"], ids["x5"])
    if refused_over_rest(store, lambda: store.experiments.search_experiments(visible=visible)):
        return
    found = pages(
        lambda token: store.experiments.search_experiments(
            max_results=1,
            filter_string="tags.team = 'a'",
            order_by=["name DESC"],
            page_token=token,
            visible=visible,
        ),
        1,
    )
    assert [e.name for e in found] == ["x8", "x6", "x4", "x0"]


def test_experiments_with_20000_ids_in_one_statement(
    store: Backend, experiments: dict[str, str]
) -> None:
    ids = experiments
    many = {str(100_000 + n) for n in range(BIG - 2)} | {ids["x1"], ids["x7"]}
    if refused_over_rest(store, lambda: store.experiments.search_experiments(visible=_deny())):
        return
    with counted_statements(store) as few_statements:
        assert _experiment_names(store, _allow(ids["x1"], ids["x7"])) == ["x1", "x7"]
    with counted_statements(store) as allow_statements:
        assert _experiment_names(store, _allow(*many)) == ["x1", "x7"]
    with counted_statements(store) as deny_statements:
        expected = sorted(n for n in ids if n not in ("x1", "x7"))
        assert _experiment_names(store, _deny(*many)) == expected
    assert len(allow_statements) == len(deny_statements) == len(few_statements) <= 2


# -- runs ----------------------------------------------------------------------------------


@dataclass
class _Runs:
    experiments: list[str]
    #: run name -> run id; runs ``r<e><n>``: experiment e (0-2), n (0-3)
    runs: dict[str, str]


@pytest.fixture
def runs(store: Backend) -> _Runs:
    eids = [store.experiments.create_experiment(f"runs-{e}") for e in range(3)]
    out: dict[str, str] = {}
    for e, eid in enumerate(eids):
        for n in range(4):
            name = f"r{e}{n}"
            run = store.runs.create_run(eid, "u", 1_000 + 10 * e + n, [], name)
            metrics = [Metric("loss", float(10 * n + e), 1)] if n != 3 else []
            store.runs.log_batch(run.info.run_id, metrics=metrics, tags=[RunTag("n", str(n))])
            out[name] = run.info.run_id
    return _Runs(eids, out)


def _run_names(found: list[object]) -> list[str]:
    return [r.info.run_name for r in found]  # type: ignore[attr-defined]


def test_runs_allow_deny_both_and_empty(store: Backend, runs: _Runs) -> None:
    e0, e1, e2 = runs.experiments
    if refused_over_rest(store, lambda: store.runs.search_runs(None, visible=_allow(e0))):
        return

    def names(experiment_ids: list[str] | None, visible: Visibility) -> list[str]:
        return sorted(_run_names(store.runs.search_runs(experiment_ids, visible=visible)))

    everything = sorted(runs.runs)
    assert names(None, Visibility.everything()) == everything
    assert names(None, _allow(e1)) == ["r10", "r11", "r12", "r13"]
    assert names([e0, e1], _deny(e1)) == ["r00", "r01", "r02", "r03"]
    assert names([e0], _allow(e1)) == []  # asked for e0, may read e1 only
    both = Visibility(allowed=frozenset({e0, e2}), denied=frozenset({e0}))
    assert names(None, both) == ["r20", "r21", "r22", "r23"]
    empty = store.runs.search_runs(None, visible=_allow())
    assert list(empty) == []
    assert empty.token is None


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        # newest first: start time 1000 + 10e + n
        (None, ["r23", "r22", "r21", "r20", "r03", "r02", "r01", "r00"]),
        (["attributes.run_name DESC"], ["r23", "r22", "r21", "r20", "r03", "r02", "r01", "r00"]),
        # loss = 10n + e; the runs without it (n = 3) last, newest first
        (["metrics.loss"], ["r00", "r20", "r01", "r21", "r02", "r22", "r23", "r03"]),
    ],
)
def test_run_pages_stay_full_under_visibility(
    store: Backend, runs: _Runs, order_by: list[str] | None, expected: list[str]
) -> None:
    _e0, e1, _e2 = runs.experiments
    visible = _deny(e1)
    if refused_over_rest(store, lambda: store.runs.search_runs(None, visible=visible)):
        return
    found = pages(
        lambda token: store.runs.search_runs(
            None, max_results=3, order_by=order_by, page_token=token, visible=visible
        ),
        3,
    )
    assert _run_names(found) == expected


def test_runs_filter_with_visibility(store: Backend, runs: _Runs) -> None:
    e0, _e1, e2 = runs.experiments
    visible = _allow(e0, e2)
    if refused_over_rest(store, lambda: store.runs.search_runs(None, visible=visible)):
        return
    found = pages(
        lambda token: store.runs.search_runs(
            None,
            filter_string="metrics.loss >= 10 AND tags.n != '2'",
            max_results=1,
            order_by=["metrics.loss DESC"],
            page_token=token,
            visible=visible,
        ),
        1,
    )
    assert _run_names(found) == ["r21", "r01"]


def test_runs_with_20000_ids_in_one_statement(store: Backend, runs: _Runs) -> None:
    _e0, _e1, e2 = runs.experiments
    many = {str(500_000 + n) for n in range(BIG - 1)} | {e2}
    if refused_over_rest(store, lambda: store.runs.search_runs(None, visible=_allow(*many))):
        return
    with counted_statements(store) as few:
        store.runs.search_runs(None, visible=_allow(e2))
    with counted_statements(store) as allowed:
        found = store.runs.search_runs(None, visible=_allow(*many))
    assert sorted(_run_names(found)) == ["r20", "r21", "r22", "r23"]
    with counted_statements(store) as denied:
        found = store.runs.search_runs(None, visible=_deny(*many))
    assert sorted(_run_names(found)) == sorted(n for n in runs.runs if not n.startswith("r2"))
    assert len(allowed) == len(denied) == len(few) <= 2


# -- logged models -------------------------------------------------------------------------


@dataclass
class _Models:
    experiments: list[str]
    #: model name -> model id; ``m<e><n>``: experiment e (0-2), n (0-2), param k = n
    models: dict[str, str]


@pytest.fixture
def logged_models(store: Backend) -> _Models:
    eids = [store.experiments.create_experiment(f"models-{e}") for e in range(3)]
    out = {}
    for e, eid in enumerate(eids):
        for n in range(3):
            name = f"m{e}{n}"
            model = store.logged_models.create_logged_model(eid, name, params={"k": str(n)})
            out[name] = model.model_id
    return _Models(eids, out)


def _model_names(found: list[object]) -> list[str]:
    return sorted(m.name for m in found)  # type: ignore[attr-defined]


def test_logged_models_follow_their_experiment_unless_granted_or_denied(
    store: Backend, logged_models: _Models
) -> None:
    eids, ids = logged_models.experiments, logged_models.models
    lm = store.logged_models
    if refused_over_rest(
        store, lambda: lm.search_logged_models(eids, visible=LoggedModelVisibility())
    ):
        return

    def names(visible: LoggedModelVisibility, experiment_ids: list[str] = eids) -> list[str]:
        return _model_names(lm.search_logged_models(experiment_ids, visible=visible))

    everything = sorted(ids)
    assert names(LoggedModelVisibility.everything()) == everything
    assert names(LoggedModelVisibility(_allow(eids[0]))) == ["m00", "m01", "m02"]
    assert names(LoggedModelVisibility(_deny(eids[0]))) == [n for n in everything if n[1] != "0"]
    # A model's own grant decides for it: readable in a hidden experiment, hidden in a
    # readable one; a model both granted and denied is hidden.
    mixed = LoggedModelVisibility(
        _allow(eids[0]),
        granted=frozenset({ids["m21"], ids["m12"], "m-unknown"}),
        denied=frozenset({ids["m01"], ids["m12"]}),
    )
    assert names(mixed) == ["m00", "m02", "m21"]
    assert names(mixed, [eids[1]]) == []  # m12 is denied
    denied_only = LoggedModelVisibility(denied=frozenset({ids["m11"]}))
    assert names(denied_only) == [n for n in everything if n != "m11"]
    nothing = lm.search_logged_models(eids, visible=LoggedModelVisibility(_allow()))
    assert list(nothing) == []
    assert nothing.token is None
    granted_only = LoggedModelVisibility(_allow(), granted=frozenset({ids["m22"]}))
    assert names(granted_only) == ["m22"]


def test_logged_model_pages_filter_and_order_under_visibility(
    store: Backend, logged_models: _Models
) -> None:
    eids, ids = logged_models.experiments, logged_models.models
    visible = LoggedModelVisibility(
        _deny(eids[1]), granted=frozenset({ids["m11"]}), denied=frozenset({ids["m00"]})
    )
    lm = store.logged_models
    if refused_over_rest(store, lambda: lm.search_logged_models(eids, visible=visible)):
        return
    found = pages(
        lambda token: lm.search_logged_models(
            eids, max_results=2, order_by=["name DESC"], page_token=token, visible=visible
        ),
        2,
    )
    assert [m.name for m in found] == ["m22", "m21", "m20", "m11", "m02", "m01"]
    filtered = pages(
        lambda token: lm.search_logged_models(
            eids,
            filter_string="params.k != '2'",
            max_results=1,
            order_by=[{"field_name": "name", "ascending": True}],
            page_token=token,
            visible=visible,
        ),
        1,
    )
    assert [m.name for m in filtered] == ["m01", "m11", "m20", "m21"]
    with pytest.raises(InvalidArgument):
        lm.search_logged_models([], visible=visible)


def test_logged_models_with_20000_ids_in_one_statement(
    store: Backend, logged_models: _Models
) -> None:
    eids, ids = logged_models.experiments, logged_models.models
    lm = store.logged_models
    unknown = {f"m-{n:032x}" for n in range(BIG)}
    big = LoggedModelVisibility(
        Visibility(allowed=frozenset({str(10**6 + n) for n in range(BIG)} | {eids[2]})),
        granted=frozenset(unknown | {ids["m00"]}),
        denied=frozenset(unknown | {ids["m21"]}),
    )
    small = LoggedModelVisibility(
        _allow(eids[2]), granted=frozenset({ids["m00"]}), denied=frozenset({ids["m21"]})
    )
    if refused_over_rest(store, lambda: lm.search_logged_models(eids, visible=big)):
        return
    with counted_statements(store) as few:
        assert _model_names(lm.search_logged_models(eids, visible=small)) == ["m00", "m20", "m22"]
    with counted_statements(store) as many:
        assert _model_names(lm.search_logged_models(eids, visible=big)) == ["m00", "m20", "m22"]
    # the search, then the page's tags, params and metrics
    assert len(many) == len(few) <= 4


def test_visibility_values() -> None:
    v = Visibility(allowed=frozenset({"1", "2"}), denied=frozenset({"2"}))
    assert v.admits("1")
    assert not v.admits("2")
    assert not v.admits("3")
    assert v.restrict(["3", "2", "1", "1"]) == ["1", "1"]
    assert v.only == {"1"}
    assert not v.is_everything
    assert Visibility.everything().is_everything
    assert Visibility.everything().admits("x")
    assert Visibility(denied=frozenset({"x"})).restrict(["y", "x"]) == ["y"]
    assert Visibility(allowed={"1"}).allowed == frozenset({"1"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="set of ids"):
        Visibility(allowed="123")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="as strings"):
        Visibility(denied=frozenset({1}))  # type: ignore[arg-type]
    lm = LoggedModelVisibility(_allow("1"), granted=frozenset({"a"}), denied=frozenset({"b"}))
    assert lm.admits("a", "2")
    assert lm.admits("c", "1")
    assert not lm.admits("b", "1")
    assert not lm.admits("c", "2")
    with pytest.raises(TypeError, match="must be a Visibility"):
        LoggedModelVisibility(experiments=frozenset())  # type: ignore[arg-type]
