"""Error messages that say what is wrong and where, with an excerpt and a caret.

The position is also a field of the error (``details={"position": N}``, sent in the error
body), so that a program (the UI's filter box) never parses it out of the English.
"""

from __future__ import annotations

from typing import NoReturn

from mltrail._exceptions import InvalidArgument

__all__ = ["fail", "syntax_error"]

_MAX_QUOTED = 200  # characters of the source repeated in the first line of a message
_CONTEXT = 40  # characters of context either side of the caret


def _quote(source: str) -> str:
    if len(source) > _MAX_QUOTED:
        source = source[: _MAX_QUOTED - 3] + "..."
    return repr(source)


def _printable(text: str) -> str:
    # One column per character so that the caret lines up.
    return "".join(ch if ch.isprintable() else " " for ch in text)


def _excerpt(source: str, position: int) -> str:
    start = max(0, position - _CONTEXT)
    end = min(len(source), position + _CONTEXT)
    head = "..." if start > 0 else ""
    tail = "..." if end < len(source) else ""
    line = head + _printable(source[start:end]) + tail
    caret = " " * (len(head) + position - start) + "^"
    return f"    {line}\n    {caret}"


def syntax_error(
    what: str, source: str, message: str, position: int, **details: int
) -> InvalidArgument:
    """An InvalidArgument for ``source`` (a filter or an order_by clause) at ``position``.

    ``message`` says what is wrong; the result reads ``Invalid filter '...': <message> at
    position N`` followed by an excerpt of the source with a caret under the offending token.
    Its details hold the position and any further *details* (a limit that was passed).
    """
    return InvalidArgument(
        f"Invalid {what} {_quote(source)}: {message} at position {position}\n"
        + _excerpt(source, position),
        details={"position": position, **details},
    )


def fail(what: str, source: str, message: str, position: int) -> NoReturn:
    """Raise :func:`syntax_error`."""
    raise syntax_error(what, source, message, position)
