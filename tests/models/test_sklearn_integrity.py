"""Trees and neighbour searches whose indices point outside their arrays are refused at load.

Each test fits a real model, damages one index the way a crafted file would, saves it with
mltrail's sklearn flavor (skops) and checks that loading names the part and the rule, while
the undamaged model loads and predicts as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import (
    BaggingClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    IsolationForest,
    RandomForestClassifier,
)
from sklearn.neighbors import KDTree, KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures
from sklearn.tree import DecisionTreeClassifier
from sklearn.tree._tree import Tree

import mltrail
from mltrail.exceptions import PermissionDenied
from mltrail.sklearn._integrity import check_index_bounds

X, Y = load_iris(return_X_y=True)


def _with_nodes(tree: Any, change: Any, n_features: int | None = None) -> Tree:
    """A copy of *tree* whose node array went through *change* (and, optionally, another
    feature count)."""
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    change(nodes)
    copy = Tree(n_features or tree.n_features, tree.n_classes, tree.n_outputs)
    copy.__setstate__({**state, "nodes": nodes})
    return copy


def _first_split(tree: Any) -> int:
    return int(np.flatnonzero(tree.children_left != -1)[0])


def _round_trip(model: Any, tmp_path: Path) -> Any:
    path = tmp_path / "model"
    mltrail.sklearn.save_model(model, str(path), pip_requirements=["scikit-learn"])
    return mltrail.sklearn.load_model(str(path))


@pytest.mark.parametrize(
    "model",
    [
        RandomForestClassifier(n_estimators=5, random_state=0),
        GradientBoostingClassifier(n_estimators=5, random_state=0),
        HistGradientBoostingClassifier(max_iter=5),
        IsolationForest(n_estimators=5, random_state=0),
        BaggingClassifier(n_estimators=5, max_features=0.5, random_state=0),
        KNeighborsClassifier(algorithm="kd_tree"),
        KNeighborsClassifier(algorithm="ball_tree"),
        make_pipeline(PolynomialFeatures(2), DecisionTreeClassifier(random_state=0)),
    ],
    ids=lambda m: type(m).__name__,
)
def test_undamaged_models_load_and_predict_the_same(model: Any, tmp_path: Path) -> None:
    model.fit(X, Y)
    loaded = _round_trip(model, tmp_path)
    assert np.array_equal(loaded.predict(X), model.predict(X))


def test_a_split_on_a_feature_outside_the_input_is_refused(tmp_path: Path) -> None:
    model = DecisionTreeClassifier(random_state=0).fit(X, Y)
    root = _first_split(model.tree_)
    model.tree_ = _with_nodes(model.tree_, lambda n: n["feature"].__setitem__(root, 10**6))
    with pytest.raises(PermissionDenied, match="splits on a feature outside its 4 input"):
        _round_trip(model, tmp_path)


@pytest.mark.parametrize(
    ("damage", "rule"),
    [
        (lambda n, i: n["left_child"].__setitem__(i, i), "left child outside nodes after"),
        (lambda n, i: n["right_child"].__setitem__(i, 10**9), "right child outside nodes"),
        (lambda n, i: n["right_child"].__setitem__(i, -1), "exactly one child"),
        (lambda n, i: n["feature"].__setitem__(i, -7), "feature outside its 4 input"),
    ],
    ids=["loop", "past-the-end", "one-child", "negative-feature"],
)
def test_a_damaged_tree_inside_a_forest_is_refused(damage: Any, rule: str) -> None:
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, Y)
    inner = forest.estimators_[2]
    split = _first_split(inner.tree_)
    inner.tree_ = _with_nodes(inner.tree_, lambda n: damage(n, split))
    with pytest.raises(PermissionDenied, match=rule) as raised:
        check_index_bounds(forest, "model.skops")
    assert "RandomForestClassifier.estimators_[2].tree_ " in str(raised.value)


def test_a_tree_wider_than_the_ensemble_that_feeds_it_is_refused() -> None:
    """A forest hands its checked input to its trees unchecked: a tree that claims more
    features than the forest was fitted on must not split on them."""
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(X, Y)
    inner = forest.estimators_[0]
    split = _first_split(inner.tree_)
    inner.tree_ = _with_nodes(inner.tree_, lambda n: n["feature"].__setitem__(split, 50), 100)
    inner.n_features_in_ = 100
    with pytest.raises(PermissionDenied, match="outside its 4 input features"):
        check_index_bounds(forest, "model.skops")
    bagged = BaggingClassifier(DecisionTreeClassifier(), n_estimators=2, max_features=2)
    bagged.fit(X, Y)
    tree = bagged.estimators_[0]
    split = _first_split(tree.tree_)
    tree.tree_ = _with_nodes(tree.tree_, lambda n: n["feature"].__setitem__(split, 3), 4)
    with pytest.raises(PermissionDenied, match="outside its 2 input features"):
        check_index_bounds(bagged, "model.skops")


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("left", 10**6, "left child outside nodes"),
        ("feature_idx", 99, "feature outside its 4 input"),
        ("bitset_idx", 5, "categorical split outside its 0 bitsets"),
    ],
)
def test_a_damaged_histogram_boosting_predictor_is_refused(
    field: str, value: int, rule: str, tmp_path: Path
) -> None:
    model = HistGradientBoostingClassifier(max_iter=3).fit(X, Y)
    nodes = model._predictors[1][0].nodes
    split = int(np.flatnonzero(nodes["is_leaf"] == 0)[0])
    nodes[field][split] = value
    if field == "bitset_idx":
        nodes["is_categorical"][split] = 1
    with pytest.raises(PermissionDenied, match=rule):
        _round_trip(model, tmp_path)


def _damaged_kd_tree(index: int, value: Any) -> KDTree:
    tree = KDTree(X, leaf_size=5)
    state = list(tree.__getstate__())
    state[index] = state[index].copy()
    if index == 1:
        state[1][0] = value
    else:
        state[2]["is_leaf"][:] = 0
    copy = KDTree.__new__(KDTree)
    copy.__setstate__(tuple(state))
    return copy


def test_a_damaged_neighbour_tree_is_refused(tmp_path: Path) -> None:
    model = KNeighborsClassifier(algorithm="kd_tree").fit(X, Y)
    model._tree = _damaged_kd_tree(1, 10**6)
    with pytest.raises(PermissionDenied, match="sample indices outside its 150 samples"):
        _round_trip(model, tmp_path)
    with pytest.raises(PermissionDenied, match="inner node whose children lie outside"):
        check_index_bounds(_damaged_kd_tree(2, None), "model.skops")


def test_pyfunc_refuses_the_damaged_model_too(tmp_path: Path) -> None:
    model = DecisionTreeClassifier(random_state=0).fit(X, Y)
    root = _first_split(model.tree_)
    model.tree_ = _with_nodes(model.tree_, lambda n: n["left_child"].__setitem__(root, root))
    path = tmp_path / "model"
    mltrail.sklearn.save_model(model, str(path), pip_requirements=["scikit-learn"])
    with pytest.raises(PermissionDenied, match="left child outside nodes after its parent"):
        mltrail.pyfunc.load_model(str(path))
