"""Secrets of authentication: argon2id password hashes, random tokens and their SHA-256."""

from __future__ import annotations

import hashlib
import re

import pytest
from argon2 import PasswordHasher

from mltrail._exceptions import InvalidArgument
from mltrail.server.auth._secrets import (
    SECRET_BYTES,
    TOKEN_PREFIX,
    constant_time_equal,
    hash_password,
    is_access_token,
    needs_rehash,
    new_secret,
    secret_hash,
    verify_nobody,
    verify_password,
)

pytestmark = pytest.mark.real_password_hasher

_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def test_a_password_hash_is_argon2id_salted_and_verifies() -> None:
    first = hash_password("correct horse")
    second = hash_password("correct horse")
    assert first.startswith("$argon2id$v=19$")
    assert "correct horse" not in first
    assert first != second  # a fresh salt each time
    assert verify_password(first, "correct horse")
    assert verify_password(second, "correct horse")
    assert not verify_password(first, "correct horsE")
    assert not verify_password(first, "")
    assert verify_password(hash_password("zoë 山田 🔑"), "zoë 山田 🔑")


def test_an_empty_password_is_refused_naming_the_rule() -> None:
    with pytest.raises(InvalidArgument, match="Invalid password: must be a non-empty string"):
        hash_password("")


def test_hashes_that_are_not_argon2_never_verify() -> None:
    # MLflow's own (werkzeug) hashes, damaged hashes and plain text.
    for stored in ("scrypt:32768:8:1$salt$abcdef", "$argon2id$garbage", "secret", ""):
        assert not verify_password(stored, "secret")
        assert needs_rehash(stored)


def test_a_hash_with_weaker_parameters_needs_rehashing() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw")
    assert verify_password(weak, "pw")
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("pw"))


def test_an_unknown_user_costs_a_verification_and_is_refused() -> None:
    assert verify_nobody("anything") is False
    assert verify_nobody("") is False


def test_a_new_token_is_prefixed_random_and_stored_as_its_sha256() -> None:
    token, digest = new_secret(TOKEN_PREFIX)
    assert token.startswith("mlt_")
    body = token[len(TOKEN_PREFIX) :]
    assert _URL_SAFE.fullmatch(body)
    assert len(body) >= 43  # 32 bytes in URL-safe base64
    assert SECRET_BYTES >= 32
    assert digest == hashlib.sha256(token.encode()).hexdigest() == secret_hash(token)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest != token
    assert body not in digest
    assert is_access_token(token)
    assert not is_access_token("mlt_short")
    assert not is_access_token("ghp_" + body)

    others = {new_secret(TOKEN_PREFIX)[0] for _ in range(50)}
    assert len(others) == 50
    assert token not in others


def test_a_secret_without_prefix_and_invalid_prefixes() -> None:
    session, digest = new_secret()
    assert _URL_SAFE.fullmatch(session)
    assert len(session) >= 43
    assert digest == secret_hash(session)
    for prefix in ("has space", "ünï", "x" * 17, "a/b"):
        with pytest.raises(InvalidArgument, match=r"Invalid prefix .*at most 16 ASCII letters"):
            new_secret(prefix)


def test_constant_time_comparison() -> None:
    _, digest = new_secret()
    assert constant_time_equal(digest, str(digest))
    assert not constant_time_equal(digest, digest[:-1] + ("0" if digest[-1] != "0" else "1"))
    assert not constant_time_equal(digest, digest + "0")
    assert constant_time_equal("zoë", "zoë")
