"""Datasets of NumPy arrays: ``mltrail.data.from_numpy``."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from mltrail._exceptions import InvalidArgument
from mltrail.data._dataset import Dataset
from mltrail.data._digest import numpy_digest
from mltrail.data._sources import DatasetSource, resolve_source

if TYPE_CHECKING:
    import numpy.typing as npt

    Arrays: TypeAlias = npt.NDArray[Any] | dict[str, npt.NDArray[Any]]

__all__ = ["NumpyDataset", "from_numpy"]


class NumpyDataset(Dataset):
    """Features (an array, or a dict of named arrays) and optional targets of the same form."""

    def __init__(
        self,
        features: Arrays,
        source: DatasetSource,
        targets: Arrays | None = None,
        name: str | None = None,
        digest: str | None = None,
    ) -> None:
        self._features = _check_arrays(features, "features")
        self._targets = None if targets is None else _check_arrays(targets, "targets")
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        named: list[tuple[str | None, npt.NDArray[Any]]] = []
        for role, arrays in (("features", self._features), ("targets", self._targets)):
            if arrays is None:
                continue
            if isinstance(arrays, dict):
                named.extend((f"{role}.{key}", value) for key, value in arrays.items())
            else:
                named.append((role, arrays))
        return numpy_digest(named)

    @property
    def features(self) -> Arrays:
        return self._features

    @property
    def targets(self) -> Arrays | None:
        return self._targets

    @property
    def profile(self) -> dict[str, Any]:
        """Shapes, sizes and byte counts of features and targets (per name for dicts)."""
        profile = _array_profile("features", self._features)
        if self._targets is not None:
            profile.update(_array_profile("targets", self._targets))
        return profile

    def _compute_schema(self) -> dict[str, Any] | None:
        """``{"mlflow_tensorspec": {"features": <JSON>, "targets": <JSON> or None}}``."""
        targets = None if self._targets is None else json.dumps(_tensor_specs(self._targets))
        return {
            "mlflow_tensorspec": {
                "features": json.dumps(_tensor_specs(self._features)),
                "targets": targets,
            }
        }


def _tensor_specs(arrays: Arrays) -> list[dict[str, Any]]:
    if isinstance(arrays, dict):
        return [{"name": key, **_tensor_spec(value)} for key, value in arrays.items()]
    return [_tensor_spec(arrays)]


def _tensor_spec(array: npt.NDArray[Any]) -> dict[str, Any]:
    """A tensor spec: the dtype name and the shape with a variable first dimension."""
    kind = array.dtype.kind
    dtype = "str" if kind == "U" else "bytes" if kind == "S" else array.dtype.name
    return {"type": "tensor", "tensor-spec": {"dtype": dtype, "shape": [-1, *array.shape[1:]]}}


def _array_profile(role: str, arrays: Arrays) -> dict[str, Any]:
    if isinstance(arrays, dict):
        return {
            f"{role}_shape": {k: list(v.shape) for k, v in arrays.items()},
            f"{role}_size": {k: int(v.size) for k, v in arrays.items()},
            f"{role}_nbytes": {k: int(v.nbytes) for k, v in arrays.items()},
        }
    return {
        f"{role}_shape": list(arrays.shape),
        f"{role}_size": int(arrays.size),
        f"{role}_nbytes": int(arrays.nbytes),
    }


def _check_arrays(value: Any, argument: str) -> Arrays:
    """*value* if it is an array with at least one dimension or a dict of such arrays by name."""
    numpy = sys.modules.get("numpy")  # an ndarray exists only if numpy is imported
    expected = "a NumPy array or a dict of NumPy arrays by name"
    if numpy is not None and isinstance(value, numpy.ndarray):
        if value.ndim == 0:
            raise InvalidArgument(
                f"Invalid {argument}: a 0-dimensional array; expected at least one dimension"
            )
        array: npt.NDArray[Any] = value
        return array
    if not isinstance(value, Mapping):
        raise InvalidArgument(
            f"Invalid {argument} of type {type(value).__name__}: expected {expected}"
        )
    if not value:
        raise InvalidArgument(f"Invalid {argument}: an empty dict; expected {expected}")
    checked: dict[str, npt.NDArray[Any]] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidArgument(f"Invalid {argument} key {key!r}: expected a string")
        if numpy is None or not isinstance(item, numpy.ndarray):
            raise InvalidArgument(
                f"Invalid {argument}['{key}'] of type {type(item).__name__}: expected a NumPy array"
            )
        if item.ndim == 0:
            raise InvalidArgument(
                f"Invalid {argument}['{key}']: a 0-dimensional array; "
                "expected at least one dimension"
            )
        checked[key] = item
    return checked


def from_numpy(
    features: Arrays,
    source: str | DatasetSource | None = None,
    targets: Arrays | None = None,
    name: str | None = None,
    digest: str | None = None,
) -> NumpyDataset:
    """A dataset of *features* (and *targets*) to record with ``log_input``.

    *features* and *targets* are NumPy arrays, or dicts of named arrays. *source* is where the
    data came from: a local path, a ``file:``/``http(s)``/``s3``/... URI or a DatasetSource;
    without one, the running code (script path and git commit) is the source. *name* defaults
    to ``"dataset"`` and *digest* to a short hash of the data.
    """
    features = _check_arrays(features, "features")
    if targets is not None:
        targets = _check_arrays(targets, "targets")
    return NumpyDataset(
        features=features, source=resolve_source(source), targets=targets, name=name, digest=digest
    )
