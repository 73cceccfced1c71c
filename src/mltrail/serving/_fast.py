"""The fast lane of ``POST /invocations``: numeric ``dataframe_split`` rows handed straight to a
scikit-learn estimator as one numpy array, with no DataFrame built.

Most of a small request's cost on the generic path is pandas (building the DataFrame and its
column index) and scikit-learn validating it (feature names, per-column dtypes).  For the
common case the result of all that is known in advance, so the lane skips it when every one
of these holds, and otherwise leaves the request to the generic path, which answers it (and
words its errors) as before:

- the model is a ``mlflow.sklearn`` pyfunc model whose estimator is one of the plain
  scikit-learn predictors in :data:`ESTIMATORS` (exact classes: their prediction methods only
  validate ``X`` and compute on its numbers), fitted on a DataFrame whose feature names are
  the signature's input names in order;
- the signature has only required scalar columns of one numeric type;
- the request is ``{"dataframe_split": {"columns": [...], "data": [[...], ...]}}`` (no index,
  no params or empty params) with exactly the signature's columns, in order, and rows of JSON
  numbers that read as the signature's type by the generic path's own rule.

The array is laid out as scikit-learn would receive it from the DataFrame (column-major), and
the estimator is called through a shallow copy without ``feature_names_in_`` (the names were
checked above, so scikit-learn has nothing to warn about).  Predictions, and errors raised by
the estimator, are the generic path's (tests compare both paths).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mltrail.models._schema import ColSpec, DataType
from mltrail.pyfunc._load import PyFuncModel
from mltrail.serving._parsing import _json_numbers, _numeric_rows

__all__ = ["ESTIMATORS", "FastPath", "fast_path_for"]

# Public scikit-learn packages and their predictors the lane calls with an array.
ESTIMATORS: dict[str, frozenset[str]] = {
    "sklearn.linear_model": frozenset(
        {
            "LogisticRegression",
            "LinearRegression",
            "Ridge",
            "RidgeClassifier",
            "Lasso",
            "ElasticNet",
            "SGDClassifier",
            "SGDRegressor",
        }
    ),
    "sklearn.tree": frozenset({"DecisionTreeClassifier", "DecisionTreeRegressor"}),
    "sklearn.ensemble": frozenset(
        {
            "RandomForestClassifier",
            "RandomForestRegressor",
            "ExtraTreesClassifier",
            "ExtraTreesRegressor",
            "GradientBoostingClassifier",
            "GradientBoostingRegressor",
        }
    ),
}
_METHODS = frozenset({"predict", "predict_proba", "predict_log_proba", "decision_function"})


def _whitelisted(cls: type) -> bool:
    for package, names in ESTIMATORS.items():
        if cls.__name__ in names:
            module = sys.modules.get(package)
            return module is not None and getattr(module, cls.__name__, None) is cls
    return False


@dataclass(frozen=True, slots=True)
class FastPath:
    """Scores the requests it takes (see the module's docstring) with *method*."""

    names: list[str]
    spec_type: Any  # the signature's one DataType
    target: Any  # its numpy dtype
    method: Callable[[Any], Any]

    def rows(self, obj: Any) -> Any:
        """The request's rows as the array the estimator receives; None when the request is
        not one this lane takes (the generic path then reads it)."""
        if type(obj) is not dict:
            return None
        split = obj.get("dataframe_split")
        if type(split) is not dict or len(split) != 2 or len(obj) != 1 + ("params" in obj):
            return None
        params = obj.get("params")
        if params is not None and (type(params) is not dict or params):
            return None  # params, or an invalid 'params', take the generic path
        if split.get("columns") != self.names or type(split.get("data")) is not list:
            return None
        import numpy as np

        array = _numeric_rows(split["data"], self.names)
        if array is None:
            return None
        array = _json_numbers(array, self.spec_type)
        if array.dtype != self.target:
            return None
        return np.asfortranarray(array)

    def predict(self, array: Any) -> Any:
        return self.method(array)


def fast_path_for(model: Any) -> FastPath | None:
    """The fast lane for *model*, or None when the model does not qualify."""
    if type(model) is not PyFuncModel or model.loader_module != "mlflow.sklearn":
        return None
    meta = model.metadata
    signature = meta.signature
    schema = signature.inputs if signature is not None else None
    if schema is None or not len(schema) or not schema.has_input_names():
        return None
    if schema.is_tensor_spec():
        return None

    numeric = (DataType.double, DataType.float, DataType.long, DataType.integer)
    specs = list(schema.inputs)
    if not all(
        isinstance(s, ColSpec) and s.is_scalar and s.required and s.type in numeric for s in specs
    ):
        return None
    if len({s.type for s in specs}) != 1:
        return None
    names = [str(s.name) for s in specs]
    if not all(isinstance(s.name, str) for s in specs) or len(set(names)) != len(names):
        return None
    conf = meta.flavors.get("python_function") or {}
    method_name = str(conf.get("predict_fn") or "predict")
    estimator = model.get_raw_model()
    if method_name not in _METHODS or not _whitelisted(type(estimator)):
        return None
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is None or [str(n) for n in fitted] != names:
        return None
    state = getattr(estimator, "__dict__", None)
    if not isinstance(state, Mapping):
        return None
    # A shallow copy (shared fitted arrays) that has no feature names to check against.
    stripped = object.__new__(type(estimator))
    stripped.__dict__.update(state)
    del stripped.__dict__["feature_names_in_"]
    method = getattr(stripped, method_name, None)
    if not callable(method):
        return None
    spec_type = specs[0].type
    assert isinstance(spec_type, DataType)
    return FastPath(names, spec_type, spec_type.to_numpy(), method)
