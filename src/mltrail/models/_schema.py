"""Model schemas: column specs, tensor specs and parameter specs, in MLflow's JSON shapes.

A :class:`Schema` is either a list of :class:`ColSpec` (tabular input: a pandas DataFrame, a
dict, a list of records) or a list of :class:`TensorSpec` (numpy arrays), never both.  The JSON
forms are MLflow's, so a signature written by either tool reads in the other::

    {"type": "double", "name": "a", "required": true}
    {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}, "name": "x"}
    {"name": "k", "type": "long", "default": 1, "shape": null}

Column types other than the eight scalar ones (MLflow's Array, Object, Map, AnyType) are kept
verbatim, round-trip unchanged and are not enforced.  Importing this module loads the standard
library only; numpy is imported when a dtype is asked for.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import enum
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument

__all__ = ["ColSpec", "DataType", "ParamSchema", "ParamSpec", "Schema", "TensorSpec"]


class DataType(enum.Enum):
    """MLflow's scalar column types, with their numpy and Python counterparts."""

    boolean = 1
    integer = 2
    long = 3
    float = 4
    double = 5
    string = 6
    binary = 7
    datetime = 8

    def __repr__(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name

    def to_numpy(self) -> Any:
        """The numpy dtype values of this type are held in."""
        import numpy as np

        return np.dtype(_NUMPY_NAMES[self])

    def to_pandas(self) -> Any:
        """The pandas dtype of a column of this type (strings and bytes are objects)."""
        import numpy as np

        if self in (DataType.string, DataType.binary):
            return np.dtype(object)
        return self.to_numpy()

    def to_python(self) -> type:
        return _PYTHON_TYPES[self]

    @classmethod
    def from_name(cls, name: str) -> DataType:
        try:
            return cls[name]
        except KeyError:
            known = ", ".join(m.name for m in cls)
            raise InvalidArgument(
                f"Unknown column type {name!r}: expected one of {known}"
            ) from None


_NUMPY_NAMES = {
    DataType.boolean: "bool",
    DataType.integer: "int32",
    DataType.long: "int64",
    DataType.float: "float32",
    DataType.double: "float64",
    DataType.string: "str",
    DataType.binary: "bytes",
    DataType.datetime: "datetime64[ns]",
}

_PYTHON_TYPES: dict[DataType, type] = {
    DataType.boolean: bool,
    DataType.integer: int,
    DataType.long: int,
    DataType.float: float,
    DataType.double: float,
    DataType.string: str,
    DataType.binary: bytes,
    DataType.datetime: _dt.datetime,
}


def _check_name(name: Any, what: str) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"Invalid {what} name {name!r}: expected a non-empty string")
    return name


class ColSpec:
    """One column: its type, an optional name and whether it must be present.

    ``type`` is a :class:`DataType` (or its name); a non-scalar MLflow type (Array, Object, Map,
    AnyType) is kept as its raw JSON dict and not enforced.
    """

    def __init__(
        self,
        type: DataType | str | dict[str, Any],
        name: str | None = None,
        required: bool = True,
    ) -> None:
        if isinstance(type, str):
            type = DataType.from_name(type)
        elif not isinstance(type, (DataType, dict)):
            raise InvalidArgument(
                f"Invalid type {type!r} for column {name!r}: expected a DataType or its name"
            )
        self.type: DataType | dict[str, Any] = type
        self.name = _check_name(name, "column")
        self.required = bool(required)

    @property
    def optional(self) -> bool:
        return not self.required

    @property
    def is_scalar(self) -> bool:
        return isinstance(self.type, DataType)

    def to_dict(self) -> dict[str, Any]:
        if isinstance(self.type, DataType):
            out: dict[str, Any] = {"type": self.type.name}
        else:
            out = dict(self.type)
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> ColSpec:
        kind = d.get("type")
        if not isinstance(kind, str):
            raise InvalidArgument(f"Invalid column spec {d!r}: 'type' must be a string")
        required = bool(d.get("required", not d.get("optional", False)))
        if kind in DataType.__members__:
            return cls(DataType[kind], d.get("name"), required)
        raw = {k: v for k, v in d.items() if k not in ("name", "required", "optional")}
        return cls(raw, d.get("name"), required)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColSpec) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def __repr__(self) -> str:
        kind = self.type.name if isinstance(self.type, DataType) else json.dumps(self.type)
        flag = "" if self.required else " (optional)"
        return f"{self.name!r}: {kind}{flag}" if self.name else f"{kind}{flag}"


class TensorSpec:
    """One tensor: a numpy dtype, a shape (``-1`` for a free dimension) and an optional name."""

    def __init__(self, type: Any, shape: Sequence[int], name: str | None = None) -> None:
        import numpy as np

        dtype = np.dtype(type)
        if dtype.char in ("U", "S"):  # str and bytes tensors carry no fixed width in a schema
            dtype = np.dtype(dtype.char)
        self.type = dtype
        if not isinstance(shape, (list, tuple)) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= -1 for d in shape
        ):
            raise InvalidArgument(
                f"Invalid shape {shape!r} for tensor {name!r}: expected a list of integers "
                "(-1 for a free dimension)"
            )
        self.shape = tuple(shape)
        self.name = _check_name(name, "tensor")

    @property
    def required(self) -> bool:
        return True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {} if self.name is None else {"name": self.name}
        out["type"] = "tensor"
        out["tensor-spec"] = {"dtype": _dtype_name(self.type), "shape": list(self.shape)}
        return out

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> TensorSpec:
        spec = d.get("tensor-spec")
        if not isinstance(spec, dict) or "dtype" not in spec or "shape" not in spec:
            raise InvalidArgument(
                f"Invalid tensor spec {d!r}: expected 'tensor-spec' with 'dtype' and 'shape'"
            )
        return cls(spec["dtype"], spec["shape"], d.get("name"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def __repr__(self) -> str:
        shape = tuple(self.shape)
        text = f"Tensor({_dtype_name(self.type)!r}, {shape})"
        return f"{self.name!r}: {text}" if self.name else text


def _dtype_name(dtype: Any) -> str:
    name = str(dtype)
    return {"<U": "str", "|S": "bytes", "|O": "object"}.get(dtype.str[:2], name)


class Schema:
    """An ordered list of column specs or of tensor specs (not a mix)."""

    def __init__(self, inputs: Iterable[ColSpec | TensorSpec]) -> None:
        specs = list(inputs)
        if not all(isinstance(s, (ColSpec, TensorSpec)) for s in specs):
            raise InvalidArgument("A schema holds ColSpec or TensorSpec objects only")
        if specs and not (
            all(isinstance(s, ColSpec) for s in specs)
            or all(isinstance(s, TensorSpec) for s in specs)
        ):
            raise InvalidArgument("A schema holds either column specs or tensor specs, not both")
        named = [s.name is not None for s in specs]
        if any(named) and not all(named):
            raise InvalidArgument("Either every input of a schema is named or none is")
        names = [s.name for s in specs if s.name is not None]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise InvalidArgument(f"Duplicate names in schema: {dup}")
        self.inputs: list[ColSpec | TensorSpec] = specs

    def __iter__(self) -> Iterator[ColSpec | TensorSpec]:
        return iter(self.inputs)

    def __len__(self) -> int:
        return len(self.inputs)

    def is_tensor_spec(self) -> bool:
        return bool(self.inputs) and isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        return bool(self.inputs) and self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        return [s.name if s.name is not None else i for i, s in enumerate(self.inputs)]

    def required_input_names(self) -> list[str | int]:
        return [
            s.name if s.name is not None else i for i, s in enumerate(self.inputs) if s.required
        ]

    def optional_input_names(self) -> list[str | int]:
        return [
            s.name if s.name is not None else i for i, s in enumerate(self.inputs) if not s.required
        ]

    def input_types(self) -> list[Any]:
        return [s.type for s in self.inputs]

    def numpy_types(self) -> list[Any]:
        return [s.type if isinstance(s, TensorSpec) else _colspec_numpy(s) for s in self.inputs]

    def to_dict(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.inputs]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | list[dict[str, Any]]) -> Schema:
        items = json.loads(text) if isinstance(text, str) else text
        if not isinstance(items, list):
            raise InvalidArgument(f"Invalid schema {text!r}: expected a JSON list")
        specs: list[ColSpec | TensorSpec] = []
        for item in items:
            if not isinstance(item, dict):
                raise InvalidArgument(f"Invalid schema entry {item!r}: expected an object")
            if item.get("type") == "tensor":
                specs.append(TensorSpec.from_json_dict(item))
            else:
                specs.append(ColSpec.from_json_dict(item))
        return cls(specs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        return "[" + ", ".join(repr(s) for s in self.inputs) + "]"


def _colspec_numpy(spec: ColSpec) -> Any:
    import numpy as np

    return spec.type.to_numpy() if isinstance(spec.type, DataType) else np.dtype(object)


class ParamSpec:
    """An inference parameter: name, type, default and shape (``None`` scalar, ``(-1,)`` list)."""

    def __init__(
        self,
        name: str,
        dtype: DataType | str,
        default: Any,
        shape: Sequence[int] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise InvalidArgument(f"Invalid param name {name!r}: expected a non-empty string")
        self.name = name
        self.dtype = DataType.from_name(dtype) if isinstance(dtype, str) else dtype
        if shape is not None and tuple(shape) != (-1,):
            raise InvalidArgument(
                f"Invalid shape {shape!r} for param {name!r}: only None (a scalar) or (-1,) "
                "(a list) is supported"
            )
        self.shape = None if shape is None else (-1,)
        self.default = validate_param_value(name, default, self.dtype, self.shape)

    @property
    def type(self) -> DataType:
        return self.dtype

    def to_dict(self) -> dict[str, Any]:
        default = self.default
        if isinstance(default, _dt.datetime):
            default = default.isoformat()
        elif isinstance(default, list):
            default = [v.isoformat() if isinstance(v, _dt.datetime) else v for v in default]
        return {
            "name": self.name,
            "default": default,
            "shape": None if self.shape is None else list(self.shape),
            "type": self.dtype.name,
        }

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> ParamSpec:
        for key in ("name", "type", "default"):
            if key not in d:
                raise InvalidArgument(f"Invalid param spec {d!r}: missing {key!r}")
        return cls(d["name"], d["type"], d["default"], d.get("shape"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSpec) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True, default=str))

    def __repr__(self) -> str:
        shape = "" if self.shape is None else " (shape: (-1,))"
        return f"{self.name!r}: {self.dtype.name} (default: {self.default!r}){shape}"


def _coerce_scalar(name: str, value: Any, dtype: DataType) -> Any:
    """*value* as a Python value of *dtype*; InvalidArgument naming the param otherwise."""

    def fail() -> InvalidArgument:
        return InvalidArgument(
            f"Invalid value {value!r} for param {name!r}: expected type {dtype.name}, "
            f"got {type(value).__name__}"
        )

    if value is None:
        return None
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, (list, dict)):
        with contextlib.suppress(TypeError, ValueError):
            value = value.item()  # numpy scalars
    if dtype is DataType.boolean:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise fail()
    if dtype in (DataType.integer, DataType.long):
        if isinstance(value, bool):
            raise fail()
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                raise fail() from None
        raise fail()
    if dtype in (DataType.float, DataType.double):
        if isinstance(value, bool):
            raise fail()
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise fail() from None
        raise fail()
    if dtype is DataType.string:
        if isinstance(value, str):
            return value
        raise fail()
    if dtype is DataType.binary:
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        raise fail()
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return _dt.datetime.fromisoformat(value)
        except ValueError:
            raise fail() from None
    raise fail()


def validate_param_value(
    name: str, value: Any, dtype: DataType, shape: tuple[int, ...] | None
) -> Any:
    """A param value converted to its declared type and shape, or a clear InvalidArgument."""
    if shape is None:
        if isinstance(value, (list, tuple)):
            raise InvalidArgument(
                f"Invalid value {value!r} for param {name!r}: expected a scalar {dtype.name}, "
                "got a list"
            )
        return _coerce_scalar(name, value, dtype)
    if value is None:
        return None
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise InvalidArgument(
            f"Invalid value {value!r} for param {name!r}: expected a list of {dtype.name} "
            f"(shape (-1,)), got {type(value).__name__}"
        )
    return [_coerce_scalar(name, v, dtype) for v in value]


class ParamSchema:
    """The inference parameters a model accepts at predict time."""

    def __init__(self, params: Iterable[ParamSpec]) -> None:
        specs = list(params)
        if not all(isinstance(p, ParamSpec) for p in specs):
            raise InvalidArgument("A param schema holds ParamSpec objects only")
        names = [p.name for p in specs]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise InvalidArgument(f"Duplicate param names in param schema: {dup}")
        self.params = specs

    def __iter__(self) -> Iterator[ParamSpec]:
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | list[dict[str, Any]]) -> ParamSchema:
        items = json.loads(text) if isinstance(text, str) else text
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise InvalidArgument(f"Invalid param schema {text!r}: expected a list of objects")
        return cls(ParamSpec.from_json_dict(i) for i in items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSchema) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True, default=str))

    def __repr__(self) -> str:
        return "[" + ", ".join(repr(p) for p in self.params) + "]"
