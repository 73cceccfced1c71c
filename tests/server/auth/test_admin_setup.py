"""The admin of a first start is created on a thread of its own: the server answers ``/health``
while the admin's password is hashed, and every authentication waits until the admin exists."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.auth._apps import ADMIN, open_app

from mltrail.server.auth import _bootstrap
from mltrail.store import open_auth_store

WAIT_S = 30.0  # an upper bound for a busy machine; the tests never measure time


def test_health_answers_while_the_admin_is_hashed_and_sign_ins_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashing, release = threading.Event(), threading.Event()
    real_hash = _bootstrap.hash_password

    def held_hash(password: str) -> str:
        hashing.set()
        assert release.wait(WAIT_S)
        return real_hash(password)

    monkeypatch.setattr(_bootstrap, "hash_password", held_hash)
    served = open_app(tmp_path)
    try:
        assert hashing.wait(WAIT_S)  # create_app returned with the hash under way
        assert served.anonymous().get("/health").status_code == 200
        answers: list[httpx.Response] = []
        signing_in = threading.Thread(target=lambda: answers.append(served.admin.get("/version")))
        signing_in.start()
        signing_in.join(0.2)
        assert answers == []  # held until the admin exists (it cannot answer before release)
        release.set()
        signing_in.join(WAIT_S)
        assert [a.status_code for a in answers] == [200]
    finally:
        release.set()
        served.close()
    users = open_auth_store(f"sqlite:///{tmp_path / 'mltrail.db'}")
    try:
        assert [(u.username, u.is_admin) for u in users.list_users()] == [(ADMIN, True)]
    finally:
        users.close()


def test_a_failed_background_setup_is_retried_by_the_first_sign_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_hash = _bootstrap.hash_password
    calls: list[str] = []
    failed = threading.Event()

    def failing_once(password: str) -> str:
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            failed.set()
            raise OSError("no entropy today")
        return real_hash(password)

    monkeypatch.setattr(_bootstrap, "hash_password", failing_once)
    served = open_app(tmp_path)
    try:
        assert failed.wait(WAIT_S)
        assert served.admin.get("/version").status_code == 200
    finally:
        served.close()
    assert calls[0] == "mltrail-admin-setup"
    assert len(calls) == 2
    assert "Could not create the admin 'admin'" in caplog.text


def test_a_known_admin_starts_no_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    open_app(tmp_path).close()
    hashed: list[Any] = []
    monkeypatch.setattr(_bootstrap, "hash_password", hashed.append)
    again = open_app(tmp_path)
    try:
        assert again.admin.get("/version").status_code == 200
    finally:
        again.close()
    assert hashed == []
