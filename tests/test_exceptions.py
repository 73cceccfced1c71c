"""The one exception tree: every class public, with its code and status; details as fields."""

from __future__ import annotations

import inspect

import pytest

import mltrail._exceptions as tree
import mltrail.exceptions as public
from mltrail.exceptions import (
    BadRequest,
    InvalidArgument,
    MltrailError,
    PayloadTooLarge,
    UnsupportedMediaType,
)


def _classes() -> list[type[MltrailError]]:
    return [
        cls
        for _, cls in inspect.getmembers(tree, inspect.isclass)
        if issubclass(cls, MltrailError) and cls.__module__ == tree.__name__
    ]


def test_every_class_of_the_tree_is_public_and_drawn_in_its_docstring() -> None:
    assert public.__all__ == sorted(public.__all__)
    for cls in _classes():
        assert getattr(public, cls.__name__) is cls
        assert cls.__name__ in public.__all__
        assert f"{cls.__name__} ({cls.error_code}, {cls.http_status})" in (tree.__doc__ or "")


@pytest.mark.parametrize(("cls", "status"), [(PayloadTooLarge, 413), (UnsupportedMediaType, 415)])
def test_413_and_415_are_in_the_tree(cls: type[MltrailError], status: int) -> None:
    assert issubclass(cls, BadRequest)
    assert (cls.error_code, cls.http_status) == ("BAD_REQUEST", status)
    assert tree.error_class_for_code("BAD_REQUEST", status) is cls
    assert tree.error_class_for_code("BAD_REQUEST") is BadRequest


def test_details_are_a_field_of_the_body_beside_mlflows_two_keys() -> None:
    plain = InvalidArgument("no details")
    assert plain.details == {}
    assert plain.to_dict() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "no details"}
    error = InvalidArgument("Invalid filter 'x': ... at position 3", details={"position": 3})
    assert error.details == {"position": 3}
    assert error.to_dict() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Invalid filter 'x': ... at position 3",
        "details": {"position": 3},
    }
