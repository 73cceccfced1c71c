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
    assert len(set(public.__all__)) == len(public.__all__)  # ruff keeps it sorted
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


_CODE_NAMES = [
    "ABORTED", "ALREADY_EXISTS", "BAD_REQUEST", "CANCELLED", "CUSTOMER_UNAUTHORIZED",
    "DATA_LOSS", "DEADLINE_EXCEEDED", "ENDPOINT_NOT_FOUND", "INTERNAL_ERROR",
    "INVALID_PARAMETER_VALUE", "INVALID_STATE", "NOT_FOUND", "NOT_IMPLEMENTED",
    "PERMISSION_DENIED", "REQUEST_LIMIT_EXCEEDED", "RESOURCE_ALREADY_EXISTS",
    "RESOURCE_CONFLICT", "RESOURCE_DOES_NOT_EXIST", "RESOURCE_EXHAUSTED",
    "TEMPORARILY_UNAVAILABLE", "UNAUTHENTICATED",
]  # fmt: skip


def test_error_codes_numbers_and_statuses_are_mlflows() -> None:
    real = pytest.importorskip("mlflow.exceptions")
    assert {n: getattr(public, n) for n in _CODE_NAMES} == {
        n: getattr(real, n) for n in _CODE_NAMES
    }
    assert public.ERROR_CODE_TO_HTTP_STATUS == real.ERROR_CODE_TO_HTTP_STATUS
    assert public.HTTP_STATUS_TO_ERROR_CODE == real.HTTP_STATUS_TO_ERROR_CODE
    for status in (400, 401, 403, 404, 409, 418, 429, 499, 500, 501, 503, 504):
        assert public.get_error_code(status) == real.get_error_code(status)
    for name in _CODE_NAMES:
        number = real.ErrorCode.Value(name)
        assert (public.ErrorCode.Value(name), public.ErrorCode.Name(number)) == (number, name)
    with pytest.raises(ValueError, match="Unknown error code"):
        public.ErrorCode.Name(123456)


@pytest.mark.parametrize("code", ["INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "ABORTED"])
def test_an_exception_raised_with_a_code_number_is_mlflows(code: str) -> None:
    real = pytest.importorskip("mlflow.exceptions")
    number = getattr(real, code)
    theirs = real.MlflowException("went wrong", error_code=number)
    ours = public.MlflowException("went wrong", error_code=number)
    assert (ours.error_code, ours.message) == (theirs.error_code, theirs.message)
    assert ours.get_http_status_code() == theirs.get_http_status_code()
    unknown = public.MlflowException("x", error_code=987654)
    assert unknown.error_code == real.MlflowException("x", error_code=987654).error_code
    made = public.MlflowException.invalid_parameter_value("bad")
    assert (made.error_code, made.get_http_status_code()) == ("INVALID_PARAMETER_VALUE", 400)


def test_mlflows_other_classic_exception_classes() -> None:
    real = pytest.importorskip("mlflow.exceptions")
    for name in ("MlflowNotImplementedException", "InvalidUrlException", "MissingConfigException"):
        ours, theirs = getattr(public, name), getattr(real, name)
        assert issubclass(ours, public.MlflowException)
        assert ours("m").error_code == theirs("m").error_code, name
        assert ours("m").get_http_status_code() == theirs("m").get_http_status_code(), name
