"""MLflow's error codes: their names, their numbers (MLflow's ``databricks_pb2.ErrorCode``) and
the HTTP status each maps to.

MLflow code raises ``MlflowException(message, error_code=INVALID_PARAMETER_VALUE)`` with the
number; errors carry and send the name (``"INVALID_PARAMETER_VALUE"``).  :class:`ErrorCode`
converts as protobuf's enum wrapper does (``ErrorCode.Name(1000)``, ``ErrorCode.Value(name)``).
This module imports nothing.
"""

from __future__ import annotations

__all__ = [
    "CODES",
    "ERROR_CODE_TO_HTTP_STATUS",
    "HTTP_STATUS_TO_ERROR_CODE",
    "ErrorCode",
    "code_name",
    "get_error_code",
]

#: Every code's number, as MLflow numbers them.
CODES: dict[str, int] = {
    "INTERNAL_ERROR": 1,
    "TEMPORARILY_UNAVAILABLE": 2,
    "BAD_REQUEST": 4,
    "DEADLINE_EXCEEDED": 7,
    "CANCELLED": 8,
    "RESOURCE_EXHAUSTED": 9,
    "ABORTED": 10,
    "NOT_FOUND": 11,
    "ALREADY_EXISTS": 12,
    "UNAUTHENTICATED": 13,
    "INVALID_PARAMETER_VALUE": 1000,
    "ENDPOINT_NOT_FOUND": 1001,
    "INVALID_STATE": 1003,
    "PERMISSION_DENIED": 1004,
    "FEATURE_DISABLED": 1005,
    "CUSTOMER_UNAUTHORIZED": 1006,
    "REQUEST_LIMIT_EXCEEDED": 1007,
    "RESOURCE_CONFLICT": 1008,
    "NOT_IMPLEMENTED": 1010,
    "DATA_LOSS": 1011,
    "RESOURCE_ALREADY_EXISTS": 3001,
    "RESOURCE_DOES_NOT_EXIST": 3002,
}
_NAMES = {number: name for name, number in CODES.items()}

#: The HTTP status of each code (MLflow's table).
ERROR_CODE_TO_HTTP_STATUS: dict[str, int] = {
    "INTERNAL_ERROR": 500,
    "INVALID_STATE": 500,
    "DATA_LOSS": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "CANCELLED": 499,
    "RESOURCE_EXHAUSTED": 429,
    "ABORTED": 409,
    "RESOURCE_CONFLICT": 409,
    "ALREADY_EXISTS": 409,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "PERMISSION_DENIED": 403,
    "CUSTOMER_UNAUTHORIZED": 401,
    "UNAUTHENTICATED": 401,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "INVALID_PARAMETER_VALUE": 400,
}
#: The code an HTTP status stands for (MLflow's choice among the codes of that status).
HTTP_STATUS_TO_ERROR_CODE: dict[int, str] = {
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    409: "ALREADY_EXISTS",
    404: "ENDPOINT_NOT_FOUND",
    403: "PERMISSION_DENIED",
    401: "UNAUTHENTICATED",
    400: "BAD_REQUEST",
}


class ErrorCode:
    """Names and numbers of the codes, with protobuf's enum-wrapper calls."""

    @staticmethod
    def Name(number: int) -> str:  # protobuf's names
        """The name of code *number* (ValueError for an unknown one)."""
        try:
            return _NAMES[number]
        except (KeyError, TypeError):
            raise ValueError(f"Unknown error code number {number!r}") from None

    @staticmethod
    def Value(name: str) -> int:  # protobuf's names
        """The number of code *name* (ValueError for an unknown one)."""
        try:
            return CODES[name]
        except (KeyError, TypeError):
            raise ValueError(f"Unknown error code name {name!r}") from None

    @staticmethod
    def keys() -> list[str]:
        return list(CODES)

    @staticmethod
    def values() -> list[int]:
        return list(CODES.values())

    @staticmethod
    def items() -> list[tuple[str, int]]:
        return list(CODES.items())


def code_name(code: str | int) -> str:
    """A code given by name or by number, as its name (INTERNAL_ERROR for an unknown number,
    as MLflow's exception does)."""
    if isinstance(code, int) and not isinstance(code, bool):
        return _NAMES.get(code, "INTERNAL_ERROR")
    return str(code)


def get_error_code(http_status: int) -> int:
    """The number of the code an HTTP status stands for (INTERNAL_ERROR's for others)."""
    return CODES[HTTP_STATUS_TO_ERROR_CODE.get(http_status, "INTERNAL_ERROR")]
