"""Conformance: registry searches narrowed to the models a caller may read (``visible=``).

Registered models and model versions, by model name, on every SQL backend: allow-lists,
deny-lists, both, an empty allow-list, full pages across the constraint, filters and sort
orders with it, names SQL would need to escape, and lists of 20,000 names.  The REST backend
refuses ``visible=``: the tracking server applies its callers' permissions itself.
"""

from __future__ import annotations

import pytest
from tests._visibility import BIG, counted_statements, pages, refused_over_rest

from mltrail.entities import RegisteredModelTag
from mltrail.store import Backend, Visibility

#: Names with quotes, a backslash, percent signs and non-ASCII letters: they travel inside a
#: JSON value or an array literal, never as SQL text of their own.
ODD = ["it's", 'say "hi"', "back\\slash", "50% off", "ünïcødé", "{braces}", "a,b"]
NAMES = ["alpha", "beta", "gamma", "delta", *ODD]


@pytest.fixture
def registry(store: Backend, run_id: str) -> Backend:
    """Models of :data:`NAMES` (tag ``odd`` = ``yes`` on those of :data:`ODD`), each with as
    many versions as its position in the list plus one (at most 3)."""
    for n, name in enumerate(NAMES):
        tags = [RegisteredModelTag("odd", "yes")] if name in ODD else []
        store.registry.create_registered_model(name, tags)
        for _ in range(min(n, 2) + 1):
            store.registry.create_model_version(name, f"runs:/{run_id}/model")
    return store


def _allow(*names: str) -> Visibility:
    return Visibility(allowed=frozenset(names))


def _deny(*names: str) -> Visibility:
    return Visibility(denied=frozenset(names))


def _model_names(store: Backend, visible: Visibility, **kwargs: object) -> list[str]:
    found = store.registry.search_registered_models(visible=visible, **kwargs)  # type: ignore[arg-type]
    return sorted(m.name for m in found)


def _version_keys(store: Backend, visible: Visibility, **kwargs: object) -> list[tuple[str, int]]:
    found = store.registry.search_model_versions(visible=visible, **kwargs)  # type: ignore[arg-type]
    return sorted((v.name, int(v.version)) for v in found)


def _versions_of(*names: str) -> list[tuple[str, int]]:
    return sorted(
        (name, number)
        for position, name in enumerate(NAMES)
        if name in names
        for number in range(1, min(position, 2) + 2)
    )


def test_registry_allow_deny_both_and_empty(registry: Backend) -> None:
    s = registry
    if refused_over_rest(s, lambda: s.registry.search_registered_models(visible=_deny("beta"))):
        refused_over_rest(s, lambda: s.registry.search_model_versions(visible=_deny("beta")))
        return
    everyone = sorted(NAMES)
    assert _model_names(s, Visibility.everything()) == everyone
    picked = ["beta", "it's", 'say "hi"', "back\\slash", "50% off", "ünïcødé", "{braces}"]
    assert _model_names(s, _allow(*picked, "missing", "x" * 300)) == sorted(picked)
    assert _version_keys(s, _allow(*picked, "missing")) == _versions_of(*picked)
    hidden = ["alpha", "a,b", "50% off"]
    rest = [n for n in everyone if n not in hidden]
    assert _model_names(s, _deny(*hidden, "x" * 300)) == rest
    assert _version_keys(s, _deny(*hidden)) == _versions_of(*rest)
    both = Visibility(allowed=frozenset({"alpha", "beta", "it's"}), denied=frozenset({"beta"}))
    assert _model_names(s, both) == ["alpha", "it's"]
    assert _version_keys(s, both) == _versions_of("alpha", "it's")
    for search in (s.registry.search_registered_models, s.registry.search_model_versions):
        empty = search(visible=_allow())
        assert list(empty) == []
        assert empty.token is None


@pytest.mark.parametrize("shape", ["allow", "deny"])
def test_registry_pages_stay_full_under_visibility(registry: Backend, shape: str) -> None:
    s = registry
    hidden = {"alpha", "delta", "it's", "a,b"}
    shown = [n for n in NAMES if n not in hidden]
    visible = _allow(*shown) if shape == "allow" else _deny(*hidden)
    if refused_over_rest(s, lambda: s.registry.search_registered_models(visible=visible)):
        return
    models = pages(
        lambda token: s.registry.search_registered_models(
            max_results=2, page_token=token, visible=visible
        ),
        2,
    )
    assert [m.name for m in models] == sorted(shown)
    versions = pages(
        lambda token: s.registry.search_model_versions(
            max_results=2, order_by=["name", "version_number"], page_token=token, visible=visible
        ),
        2,
    )
    assert [(v.name, int(v.version)) for v in versions] == _versions_of(*shown)


def test_registry_filter_and_order_with_visibility(registry: Backend) -> None:
    s = registry
    visible = _deny("50% off", "gamma")
    if refused_over_rest(s, lambda: s.registry.search_model_versions(visible=visible)):
        return
    models = pages(
        lambda token: s.registry.search_registered_models(
            filter_string="tags.odd = 'yes'",
            max_results=3,
            order_by=["name DESC"],
            page_token=token,
            visible=visible,
        ),
        3,
    )
    assert [m.name for m in models] == sorted(set(ODD) - {"50% off"}, reverse=True)
    versions = pages(
        lambda token: s.registry.search_model_versions(
            filter_string="version_number >= 2 AND name != 'beta'",
            max_results=1,
            order_by=["version_number DESC", "name"],
            page_token=token,
            visible=visible,
        ),
        1,
    )
    expected = [(n, 3) for n in sorted(set(NAMES[2:]) - {"gamma", "50% off"})]
    expected += [(n, 2) for n in sorted(set(NAMES[1:]) - {"beta", "gamma", "50% off"})]
    assert [(v.name, int(v.version)) for v in versions] == expected


def test_registry_with_20000_names_in_one_statement(registry: Backend) -> None:
    s = registry
    many = {f"model-{n:05d}" for n in range(BIG - 2)} | {"gamma", "it's"}
    if refused_over_rest(s, lambda: s.registry.search_registered_models(visible=_allow(*many))):
        return
    with counted_statements(s) as few:
        assert _model_names(s, _allow("gamma", "it's")) == ["gamma", "it's"]
    with counted_statements(s) as allowed:
        assert _model_names(s, _allow(*many)) == ["gamma", "it's"]
    with counted_statements(s) as denied:
        assert _model_names(s, _deny(*many)) == sorted(set(NAMES) - {"gamma", "it's"})
    assert len(allowed) == len(denied) == len(few)
    with counted_statements(s) as version_statements:
        assert _version_keys(s, _allow(*many)) == _versions_of("gamma", "it's")
    # the search, then the page's tags, latest versions and their tags and aliases: a fixed
    # number, none of them per name in the list
    assert len(allowed) <= 6
    assert len(version_statements) <= 6
