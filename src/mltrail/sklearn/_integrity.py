"""Bounds checks on the index arrays inside a scikit-learn model loaded from skops.

Decision trees (``sklearn.tree._tree.Tree``, in every tree and forest, gradient boosting,
bagging, AdaBoost and isolation forests), histogram gradient boosting's ``TreePredictor`` and
the neighbour searches' ``KDTree``/``BallTree`` keep node and sample indices that their compiled
code follows without bounds checks: a crafted file that sets them out of range loads fine, then
crashes the process or reads memory outside the model at ``predict``.  That is why skops (0.16)
no longer trusts these types by default, and why MLflow 3.17 refuses to reload a plain
RandomForestClassifier.  mltrail loads them, and first checks here what those compiled loops
assume, so a model that passes cannot index outside its own arrays or its input:

* every split node's children come after it and inside the node array (a walk from the root
  always ends at a leaf), and leaves have no children;
* every split reads a feature inside the input the tree is given: below the tree's own
  ``n_features`` and the ``n_features_in_`` of the estimators above it that pass their input
  down unchecked (forests, boosting and bagging; a bagged tree's own feature subset);
* a categorical split's bitset index is inside the predictor's bitset arrays;
* a neighbour tree's sample indices are inside its data, its node ranges inside the index
  array, and its inner nodes' children inside its node array.

Whatever fails is refused with :class:`~mltrail.exceptions.PermissionDenied` naming the part of
the model and the rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mltrail._exceptions import PermissionDenied

__all__ = ["check_index_bounds"]

_TREE = "sklearn.tree._tree.Tree"
_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
_NEIGHBOR_TREES = ("sklearn.neighbors._kd_tree.", "sklearn.neighbors._ball_tree.")
#: Attributes through which an estimator hands its (already checked) input to what they hold
#: without checking it again: the input width carries down through them.
_PASS_DOWN = ("tree_", "estimators_", "_predictors")


def _qualname(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _refuse(file: str, where: str, rule: str) -> PermissionDenied:
    return PermissionDenied(
        f"Refusing to load {file!r}: {where} {rule}; the file is damaged or was crafted to "
        "read or write outside the model's memory"
    )


def _min_width(*widths: int | None) -> int | None:
    known = [w for w in widths if w is not None]
    return min(known) if known else None


def _check_children(file: str, where: str, left: Any, right: Any, split: Any) -> None:
    """Split nodes' children lie after them and inside the array; leaves have none."""
    import numpy as np

    count = len(left)
    index = np.arange(count)
    for side, children in (("left", left), ("right", right)):
        inner = children[split]
        if np.any(inner <= index[split]) or np.any(inner >= count):
            raise _refuse(file, where, f"has a {side} child outside nodes after its parent")


def _check_tree(file: str, where: str, tree: Any, width: int | None) -> None:
    import numpy as np

    nodes = tree.__getstate__()["nodes"]
    left, right, feature = nodes["left_child"], nodes["right_child"], nodes["feature"]
    leaf = left == -1
    if not np.array_equal(leaf, right == -1):
        raise _refuse(file, where, "has a node with exactly one child")
    split = ~leaf
    _check_children(file, where, left, right, split)
    bound = _min_width(int(tree.n_features), width)
    assert bound is not None
    features = feature[split]
    if np.any(features < 0) or np.any(features >= bound):
        raise _refuse(file, where, f"splits on a feature outside its {bound} input features")


def _check_predictor(file: str, where: str, predictor: Any, width: int | None) -> None:
    import numpy as np

    nodes = predictor.nodes
    split = nodes["is_leaf"] == 0
    _check_children(file, where, nodes["left"], nodes["right"], split)
    features = nodes["feature_idx"][split]
    if width is not None and (np.any(features < 0) or np.any(features >= width)):
        raise _refuse(file, where, f"splits on a feature outside its {width} input features")
    categorical = split & (nodes["is_categorical"] != 0)
    bitsets = nodes["bitset_idx"][categorical]
    rows = min(len(predictor.raw_left_cat_bitsets), len(predictor.binned_left_cat_bitsets))
    if np.any(bitsets < 0) or np.any(bitsets >= rows):
        raise _refuse(file, where, f"has a categorical split outside its {rows} bitsets")


def _check_neighbor_tree(file: str, where: str, tree: Any) -> None:
    import numpy as np

    data, indices, node_data, bounds = tree.get_arrays()
    samples, nodes = len(data), len(node_data)
    if len(indices) != samples or np.any(indices < 0) or np.any(indices >= samples):
        raise _refuse(file, where, f"has sample indices outside its {samples} samples")
    start, end = node_data["idx_start"], node_data["idx_end"]
    if np.any(start < 0) or np.any(end > samples) or np.any(start > end):
        raise _refuse(file, where, f"has a node whose samples lie outside its {samples}")
    inner = np.flatnonzero(node_data["is_leaf"] == 0)
    if np.any(2 * inner + 2 >= nodes):
        raise _refuse(file, where, f"has an inner node whose children lie outside its {nodes}")
    if bounds.ndim != 3 or bounds.shape[1] != nodes or bounds.shape[2] != data.shape[1]:
        raise _refuse(file, where, "has node bounds that do not match its nodes and features")


def _items(value: Any) -> Iterator[tuple[str, Any]]:
    """What a container holds (lists, tuples, sets, dicts, numpy object arrays), each with its
    place (``[2]``, ``['key']``); nothing for other values."""
    import numpy as np

    if isinstance(value, dict):
        yield from ((f"[{key!r}]", item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        yield from ((f"[{i}]", item) for i, item in enumerate(value))
    elif isinstance(value, set | frozenset):
        yield from (("[...]", item) for item in value)
    elif isinstance(value, np.ndarray) and value.dtype == object:
        for index in np.ndindex(value.shape):
            yield "[" + ", ".join(map(str, index)) + "]", value[index]


def check_index_bounds(model: Any, file: str) -> None:
    """Refuse *model* (loaded from *file*) when an index inside it is out of bounds."""
    stack: list[tuple[Any, int | None, str]] = [(model, None, type(model).__name__)]
    seen: set[tuple[int, int | None]] = set()
    while stack:
        obj, width, where = stack.pop()
        if (id(obj), width) in seen or isinstance(obj, str | bytes | int | float):
            continue
        seen.add((id(obj), width))
        name = _qualname(obj)
        if name == _TREE:
            _check_tree(file, where, obj, width)
        elif name == _PREDICTOR:
            _check_predictor(file, where, obj, width)
        elif name.startswith(_NEIGHBOR_TREES) and hasattr(obj, "get_arrays"):
            _check_neighbor_tree(file, where, obj)
        elif name.startswith("sklearn.") and hasattr(obj, "__dict__"):
            own = obj.__dict__.get("n_features_in_")
            mine = _min_width(width, own if isinstance(own, int) else None)
            subsets = obj.__dict__.get("estimators_features_")
            for key, value in obj.__dict__.items():
                label = f"{where}.{key}"
                if key == "estimators_" and isinstance(subsets, list | tuple):
                    for (place, sub), features in zip(_items(value), subsets, strict=False):
                        stack.append((sub, _min_width(mine, len(features)), label + place))
                else:
                    stack.append((value, mine if key in _PASS_DOWN else None, label))
        else:
            stack.extend((item, width, where + place) for place, item in _items(obj))
