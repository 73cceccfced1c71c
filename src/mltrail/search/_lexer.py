"""Split a filter or order_by clause into tokens.

One compiled regular expression recognises numbers, words, operators and punctuation; quoted
strings and quoted keys are scanned by small body patterns that cannot backtrack, so that the
lexer stays linear in the length of its input and an unterminated quote is reported where it
starts.  Tokens are produced on demand, so a parser that refuses an over-long filter stops
reading it there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from mltrail.search._errors import fail

__all__ = ["Token", "tokenize"]

# Token kinds.
WORD = "word"  # keyword, bare attribute or prefix.key (unquoted key), e.g. metrics.val/loss
IDENT = "ident"  # prefix with a quoted key: metrics.`f1 score`, params."my param"
STRING = "string"  # 'text' or "text"
NUMBER = "number"  # 12, -1.5, 3e-4, .5
OP = "op"  # = != < <= > >= (and == <> so that they can be refused with a hint)
SIGN = "sign"  # + or - before a word: -Infinity
LPAREN = "("
RPAREN = ")"
COMMA = ","
END = "end"


class Token(NamedTuple):
    kind: str
    text: str  # the token's source text
    pos: int  # 0-based offset in the source
    value: str  # the unescaped string body or quoted key; the text for other kinds
    prefix: str = ""  # for IDENT tokens: the prefix before the dot


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    |(?P<word>[A-Za-z_][A-Za-z0-9_\-./:]*)
    |(?P<op><=|>=|!=|<>|==|=|<|>)
    |(?P<punct>[(),])
    |(?P<sign>[+-])
    """,
    re.VERBOSE,
)
# String and key bodies: a run of ordinary characters, an escape, or a doubled quote.
_BODY = {
    "'": re.compile(r"(?:[^'\\]+|\\.|'')*", re.DOTALL),
    '"': re.compile(r'(?:[^"\\]+|\\.|"")*', re.DOTALL),
    "`": re.compile(r"(?:[^`]+|``)*", re.DOTALL),
}
_UNESCAPE = {
    "'": re.compile(r"\\(.)|''", re.DOTALL),
    '"': re.compile(r'\\(.)|""', re.DOTALL),
}
_ESCAPABLE = frozenset("'\"\\")


def _unescape(body: str, quote: str) -> str:
    if "\\" not in body and quote * 2 not in body:
        return body

    def replace(match: re.Match[str]) -> str:
        escaped = match.group(1)
        if escaped is None:  # a doubled quote
            return quote
        # \' \" and \\ stand for the character; any other backslash stays, so that LIKE
        # patterns such as '100\%' keep their escape.
        return escaped if escaped in _ESCAPABLE else "\\" + escaped

    return _UNESCAPE[quote].sub(replace, body)


def _scan_quoted(what: str, text: str, start: int, description: str) -> tuple[str, int]:
    """The unescaped body of the quoted text at ``start`` and the offset just past it."""
    quote = text[start]
    end = _BODY[quote].match(text, start + 1).end()  # type: ignore[union-attr]
    if end >= len(text) or text[end] != quote:
        fail(what, text, f"unterminated {description} (missing closing {quote})", start)
    body = text[start + 1 : end]
    if quote == "`":
        return body.replace("``", "`"), end + 1
    return _unescape(body, quote), end + 1


def tokenize(what: str, text: str) -> Iterator[Token]:
    """The tokens of ``text``, one at a time, ending with an END token at ``len(text)``.

    ``what`` names the source in error messages ("filter", "order_by clause").
    """
    pos = 0
    size = len(text)
    match = _TOKEN.match
    while pos < size:
        m = match(text, pos)
        if m is None:
            ch = text[pos]
            if ch in "'\"":
                value, end = _scan_quoted(what, text, pos, "string")
                yield Token(STRING, text[pos:end], pos, value)
                pos = end
                continue
            if ch == "`":
                fail(
                    what,
                    text,
                    "back-quotes are for keys after a prefix, as in metrics.`f1 score`",
                    pos,
                )
            fail(what, text, f"unexpected character {ch!r}", pos)
        kind = m.lastgroup
        end = m.end()
        if kind == "word":
            word = m.group()
            if word.endswith(".") and end < size and text[end] in '`"':
                key, end = _scan_quoted(what, text, end, "quoted key")
                yield Token(IDENT, text[pos:end], pos, key, word[:-1])
            else:
                yield Token(WORD, word, pos, word)
        elif kind == "punct":
            yield Token(m.group(), m.group(), pos, m.group())
        elif kind != "ws":
            yield Token(kind or "", m.group(), pos, m.group())
        pos = end
    yield Token(END, "", size, "")
