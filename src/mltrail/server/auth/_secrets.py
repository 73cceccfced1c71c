"""Secrets of authentication: password hashes, tokens and session ids, and comparing them.

- Passwords are hashed with argon2id (``argon2-cffi``, the optional extra ``auth``: a missing
  package is the one-line ``pip install 'mltrail[auth]'`` error), with the package's default
  parameters, RFC 9106's low-memory profile.  The hash is a PHC string (``$argon2id$v=19$...``)
  carrying its salt and parameters, so :func:`needs_rehash` tells when a stored hash was made
  with weaker parameters than today's and should be replaced at the next login.
- Personal access tokens, browser session ids and CSRF tokens are random, URL-safe strings
  with 256 bits from :mod:`secrets`; the store keeps only their SHA-256 hex digest (a token
  has all the entropy a slow hash would add, so a fast one suffices and lookups are by the
  digest).  Tokens start with :data:`TOKEN_PREFIX`, so that they are recognised (by a
  secret scanner, or in a ``Bearer`` header beside other kinds of credentials).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING

from mltrail._exceptions import InvalidArgument
from mltrail._optional import require

if TYPE_CHECKING:
    from argon2 import PasswordHasher

__all__ = [
    "SECRET_BYTES",
    "TOKEN_PREFIX",
    "constant_time_equal",
    "hash_password",
    "is_access_token",
    "needs_rehash",
    "new_secret",
    "secret_hash",
    "verify_nobody",
    "verify_password",
]

#: How personal access tokens start: ``mlt_`` and 43 URL-safe characters.
TOKEN_PREFIX = "mlt_"
#: The random bytes behind every secret (256 bits).
SECRET_BYTES = 32
_PREFIX = re.compile(r"[A-Za-z0-9_]{0,16}")


def _hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's defaults (RFC 9106, low memory: t=3, m=64 MiB, p=4)."""
    argon2 = require("argon2")
    hasher: PasswordHasher = argon2.PasswordHasher()
    return hasher


def _password(password: object) -> str:
    if not isinstance(password, str) or not password:
        raise InvalidArgument("Invalid password: must be a non-empty string")
    return password


def hash_password(password: str) -> str:
    """The argon2id hash of *password* (InvalidArgument for an empty one), a PHC string with
    a fresh random salt: hashing the same password twice gives two different hashes."""
    return _hasher().hash(_password(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether *password* is the one *password_hash* was made from.  False for a wrong or
    empty password, and for a hash that is not an argon2 hash (none of ours)."""
    if not isinstance(password, str) or not password:
        return False
    exceptions = require("argon2.exceptions")
    try:
        return bool(_hasher().verify(password_hash, password))
    except (exceptions.VerificationError, exceptions.InvalidHashError):
        return False


@functools.cache
def _nobody_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(SECRET_BYTES))


def verify_nobody(password: str) -> bool:
    """Spend the time :func:`verify_password` spends, for a username that does not exist, so
    that a login's timing does not tell which usernames exist.  Always False."""
    verify_password(_nobody_hash(), password or "-")
    return False


def needs_rehash(password_hash: str) -> bool:
    """Whether *password_hash* was made with other parameters than :func:`hash_password`
    uses now (hash the password again after a successful login)."""
    exceptions = require("argon2.exceptions")
    try:
        return bool(_hasher().check_needs_rehash(password_hash))
    except exceptions.InvalidHashError:
        return True


def secret_hash(secret: str) -> str:
    """The SHA-256 hex digest of a token, session id or CSRF token (what the store keeps)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret(prefix: str = "") -> tuple[str, str]:
    """A new random URL-safe secret starting with *prefix* (at most 16 letters, digits or
    underscores; :data:`TOKEN_PREFIX` for tokens), and its :func:`secret_hash`."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise InvalidArgument(
            f"Invalid prefix {prefix!r}: must be at most 16 ASCII letters, digits or underscores"
        )
    secret = prefix + secrets.token_urlsafe(SECRET_BYTES)
    return secret, secret_hash(secret)


def is_access_token(value: str) -> bool:
    """Whether *value* has the shape of a personal access token (its prefix and length)."""
    return value.startswith(TOKEN_PREFIX) and len(value) >= len(TOKEN_PREFIX) + 43


def constant_time_equal(a: str, b: str) -> bool:
    """Compare two secrets (or their hashes) in time that does not depend on where they
    differ."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
