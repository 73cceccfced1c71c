"""The auth store over SQLite, PostgreSQL and MariaDB: users, grants, tokens, sessions, audit.

Schema management (creation, upgrades, refusals, living beside the tracking schema) is in
``test_auth_schema.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

from mltrail._exceptions import AlreadyExists, InvalidArgument, NotFound
from mltrail.entities._auth import (
    AccessToken,
    AuditEvent,
    Permission,
    PermissionGrant,
    ResourceType,
    User,
)
from mltrail.store import AuthStore, open_auth_store
from mltrail.store.sql._auth import LAST_USE_INTERVAL_MS, SqlAuthStore
from mltrail.store.sql._auth_schema import sessions_table

EXP = ResourceType.EXPERIMENT
MODEL = ResourceType.REGISTERED_MODEL
LOGGED = ResourceType.LOGGED_MODEL
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
T0 = 1_700_000_000_000


def h(n: int) -> str:
    """A distinct SHA-256-shaped hex digest."""
    return f"{n:064x}"


@pytest.fixture
def auth(db_uri: str) -> Iterator[AuthStore]:
    store = open_auth_store(db_uri)
    try:
        yield store
    finally:
        store.close()


def _engine(store: AuthStore) -> Any:
    assert isinstance(store, SqlAuthStore)
    return store.engine


# -- users ----------------------------------------------------------------------------------------
def test_users_are_created_read_and_listed(auth: AuthStore) -> None:
    alice = auth.create_user("alice", HASH, is_admin=True)
    bob = auth.create_user("bob", HASH + "b")
    assert alice == User(alice.id, "alice", True)
    assert bob == User(bob.id, "bob", False)
    assert alice.id != bob.id
    assert auth.get_user("bob") == bob
    assert auth.user_by_id(alice.id) == alice
    assert auth.list_users() == [alice, bob]
    assert auth.credentials("bob") == (auth.get_user("bob"), HASH + "b")
    assert auth.credentials("nobody") is None


def test_usernames_are_case_sensitive_and_may_be_unicode(auth: AuthStore) -> None:
    auth.create_user("Alice", HASH)
    auth.create_user("alice", HASH)
    auth.create_user("zoë 山田", HASH)
    auth.create_user("x" * 255, HASH)
    assert {u.username for u in auth.list_users()} == {"Alice", "alice", "zoë 山田", "x" * 255}


def test_a_taken_username_is_already_exists_naming_it(auth: AuthStore) -> None:
    auth.create_user("alice", HASH)
    with pytest.raises(AlreadyExists, match="User 'alice' already exists"):
        auth.create_user("alice", HASH, is_admin=True)
    assert not auth.get_user("alice").is_admin


@pytest.mark.parametrize(
    ("username", "rule"),
    [
        ("", "non-empty"),
        ("x" * 256, "at most 255 characters"),
        ("al\nice", "control characters"),
        ("al\x00ice", "control characters"),
        ("al\x7fice", "control characters"),
        ("al\x85ice", "control characters"),
    ],
)
def test_username_rules(auth: AuthStore, username: str, rule: str) -> None:
    with pytest.raises(InvalidArgument, match=f"Invalid username .*{rule}"):
        auth.create_user(username, HASH)
    assert auth.list_users() == []


def test_a_password_hash_is_required(auth: AuthStore) -> None:
    with pytest.raises(InvalidArgument, match="password_hash: must be a non-empty"):
        auth.create_user("alice", "")
    auth.create_user("alice", HASH)
    with pytest.raises(InvalidArgument, match="password_hash: must be at most 512"):
        auth.update_password("alice", "x" * 513)


def test_unknown_users_are_not_found(auth: AuthStore) -> None:
    with pytest.raises(NotFound, match="User 'ghost' does not exist"):
        auth.get_user("ghost")
    with pytest.raises(NotFound, match="No user with id 12345"):
        auth.user_by_id(12345)
    for change in (
        lambda: auth.update_password("ghost", HASH),
        lambda: auth.update_admin("ghost", True),
        lambda: auth.delete_user("ghost"),
        lambda: auth.set_permission("ghost", EXP, "1", Permission.READ),
        lambda: auth.delete_permission("ghost", EXP, "1"),
        lambda: auth.create_token("ghost", "t", h(1), None),
        lambda: auth.create_session("ghost", h(2), h(3), T0),
    ):
        with pytest.raises(NotFound, match="User 'ghost' does not exist"):
            change()


def test_password_and_admin_updates(auth: AuthStore) -> None:
    user = auth.create_user("alice", HASH)
    auth.update_password("alice", HASH + "new")
    auth.update_admin("alice", True)
    assert auth.credentials("alice") == (auth.get_user("alice"), HASH + "new")
    assert auth.get_user("alice") == User(user.id, "alice", True)
    auth.update_admin("alice", False)
    assert not auth.get_user("alice").is_admin


def test_deleting_a_user_removes_its_grants_tokens_and_sessions(auth: AuthStore) -> None:
    old = auth.create_user("alice", HASH)
    auth.create_user("bob", HASH)
    auth.set_permission("alice", EXP, "1", Permission.MANAGE)
    auth.set_permission("bob", EXP, "1", Permission.READ)
    auth.create_token("alice", "laptop", h(1), None)
    auth.create_token("bob", "ci", h(2), None)
    auth.create_session("alice", h(3), h(4), T0 * 2)
    auth.record_audit(AuditEvent(T0, "alice", "10.0.0.1", "login"))

    auth.delete_user("alice")
    with pytest.raises(NotFound):
        auth.get_user("alice")
    assert auth.list_permissions() == [PermissionGrant("bob", EXP, "1", Permission.READ)]
    assert [t.username for t in auth.list_tokens()] == ["bob"]
    assert auth.user_for_token(h(1), T0) is None
    assert auth.session_user(h(3), T0) is None
    assert [e.username for e in auth.list_audit()] == ["alice"]  # the trail outlives the user

    again = auth.create_user("alice", HASH)  # a new user of the same name inherits nothing
    assert again.id != old.id
    assert auth.get_permission("alice", EXP, "1") is None
    assert auth.list_tokens("alice") == []
    assert auth.session_user(h(3), T0) is None


# -- explicit permissions -------------------------------------------------------------------------
def test_a_grant_is_inserted_then_updated(auth: AuthStore) -> None:
    auth.create_user("alice", HASH)
    assert auth.get_permission("alice", EXP, "1") is None
    grant = auth.set_permission("alice", EXP, "1", Permission.READ)
    assert grant == PermissionGrant("alice", EXP, "1", Permission.READ)
    assert auth.get_permission("alice", EXP, "1") is Permission.READ
    auth.set_permission("alice", EXP, "1", Permission.EDIT)
    assert auth.get_permission("alice", EXP, "1") is Permission.EDIT
    assert auth.list_permissions() == [PermissionGrant("alice", EXP, "1", Permission.EDIT)]
    # NO_PERMISSIONS is a grant of its own (it denies what a default would allow).
    auth.set_permission("alice", EXP, "1", Permission.NO_PERMISSIONS)
    assert auth.get_permission("alice", EXP, "1") is Permission.NO_PERMISSIONS
    assert auth.get_permission("nobody", EXP, "1") is None


def test_grants_are_per_user_type_and_resource(auth: AuthStore) -> None:
    auth.create_user("alice", HASH)
    auth.create_user("bob", HASH)
    auth.set_permission("alice", EXP, "1", Permission.MANAGE)
    auth.set_permission("alice", MODEL, "1", Permission.READ)
    auth.set_permission("alice", EXP, "2", Permission.USE)
    auth.set_permission("bob", EXP, "1", Permission.EDIT)
    auth.set_permission("bob", LOGGED, "m-abc", Permission.READ)

    assert auth.get_permission("alice", MODEL, "1") is Permission.READ
    assert auth.get_permission("bob", EXP, "2") is None
    assert auth.permissions_of("alice", EXP) == {"1": Permission.MANAGE, "2": Permission.USE}
    assert auth.permissions_of("alice", MODEL) == {"1": Permission.READ}
    assert auth.permissions_of("alice", LOGGED) == {}
    assert auth.permissions_of("nobody", EXP) == {}

    assert auth.list_permissions() == [
        PermissionGrant("alice", EXP, "1", Permission.MANAGE),
        PermissionGrant("alice", EXP, "2", Permission.USE),
        PermissionGrant("alice", MODEL, "1", Permission.READ),
        PermissionGrant("bob", EXP, "1", Permission.EDIT),
        PermissionGrant("bob", LOGGED, "m-abc", Permission.READ),
    ]
    assert [g.username for g in auth.list_permissions(resource_type=EXP, resource_id="1")] == [
        "alice",
        "bob",
    ]
    assert auth.list_permissions(username="bob", resource_type=LOGGED) == [
        PermissionGrant("bob", LOGGED, "m-abc", Permission.READ)
    ]
    assert auth.list_permissions(username="nobody") == []


def test_deleting_a_grant(auth: AuthStore) -> None:
    auth.create_user("alice", HASH)
    auth.set_permission("alice", MODEL, "m", Permission.EDIT)
    auth.delete_permission("alice", MODEL, "m")
    assert auth.get_permission("alice", MODEL, "m") is None
    with pytest.raises(NotFound, match="'alice' has no permission on registered_model 'm'"):
        auth.delete_permission("alice", MODEL, "m")


def test_invalid_grants_name_the_field(auth: AuthStore) -> None:
    auth.create_user("alice", HASH)
    with pytest.raises(InvalidArgument, match="Invalid resource_type 'experiment': must be one"):
        auth.set_permission("alice", "experiment", "1", Permission.READ)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="Invalid permission 'READ': must be one of"):
        auth.set_permission("alice", EXP, "1", "READ")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="Invalid resource_id '': must be a non-empty"):
        auth.set_permission("alice", EXP, "", Permission.READ)
    with pytest.raises(InvalidArgument, match=r"resource_id .*at most 500 characters"):
        auth.set_permission("alice", MODEL, "m" * 501, Permission.READ)
    auth.set_permission("alice", MODEL, "m" * 500, Permission.READ)
    assert auth.permissions_of("alice", MODEL) == {"m" * 500: Permission.READ}


def test_a_renamed_resource_keeps_its_grants(auth: AuthStore) -> None:
    auth.create_user("alice", HASH)
    auth.create_user("bob", HASH)
    auth.set_permission("alice", MODEL, "old", Permission.MANAGE)
    auth.set_permission("bob", MODEL, "old", Permission.READ)
    auth.set_permission("bob", MODEL, "new", Permission.MANAGE)  # left by a deleted model
    auth.set_permission("bob", EXP, "old", Permission.EDIT)  # another type, same id

    auth.rename_resource(MODEL, "old", "new")
    assert auth.list_permissions(resource_type=MODEL) == [
        PermissionGrant("alice", MODEL, "new", Permission.MANAGE),
        PermissionGrant("bob", MODEL, "new", Permission.READ),
    ]
    assert auth.get_permission("bob", EXP, "old") is Permission.EDIT
    auth.rename_resource(MODEL, "new", "new")  # no change
    assert len(auth.list_permissions(resource_type=MODEL)) == 2


def test_a_deleted_resource_loses_its_grants(auth: AuthStore) -> None:
    auth.create_user("alice", HASH)
    auth.set_permission("alice", EXP, "1", Permission.MANAGE)
    auth.set_permission("alice", EXP, "2", Permission.MANAGE)
    auth.delete_resource(EXP, "1")
    auth.delete_resource(EXP, "404")  # nothing to remove is fine
    assert auth.permissions_of("alice", EXP) == {"2": Permission.MANAGE}


# -- personal access tokens -----------------------------------------------------------------------
def test_a_token_authenticates_its_user_until_it_expires(auth: AuthStore) -> None:
    alice = auth.create_user("alice", HASH)
    token = auth.create_token("alice", "laptop", h(1), T0 + 1000)
    assert token == AccessToken(
        token.id, "alice", "laptop", token.created_at_ms, T0 + 1000, None, False
    )
    assert auth.user_for_token(h(1), T0) == alice
    assert auth.user_for_token(h(1), T0 + 999) == alice
    assert auth.user_for_token(h(1), T0 + 1000) is None  # expired
    assert auth.user_for_token(h(2), T0) is None  # unknown
    forever = auth.create_token("alice", "ci", h(3), None)
    assert forever.expires_at_ms is None
    assert auth.user_for_token(h(3), 2**62) == alice


def test_tokens_are_only_taken_as_hashes(auth: AuthStore) -> None:
    auth.create_user("alice", HASH)
    for clear in ("mlt_" + "A" * 43, h(0xABC).upper(), h(1)[:-1], ""):
        with pytest.raises(InvalidArgument, match="token_hash: must be the SHA-256 hex digest"):
            auth.create_token("alice", "t", clear, None)
    with pytest.raises(InvalidArgument, match="Invalid name '': must be a non-empty"):
        auth.create_token("alice", "", h(1), None)
    with pytest.raises(InvalidArgument, match="expires_at_ms -1: must be a non-negative"):
        auth.create_token("alice", "t", h(1), -1)
    auth.create_token("alice", "t", h(1), None)
    with pytest.raises(AlreadyExists, match="token_hash already exists"):
        auth.create_token("alice", "again", h(1), None)
    assert len(auth.list_tokens()) == 1


def test_tokens_are_listed_and_revoked_by_their_owner(auth: AuthStore) -> None:
    auth.create_user("alice", HASH)
    bob = auth.create_user("bob", HASH)
    a1 = auth.create_token("alice", "one", h(1), None)
    b1 = auth.create_token("bob", "two", h(2), T0)
    a2 = auth.create_token("alice", "three", h(3), None)
    assert [t.id for t in auth.list_tokens()] == [a1.id, b1.id, a2.id]
    assert auth.list_tokens("alice") == [a1, a2]
    assert auth.list_tokens("nobody") == []

    with pytest.raises(NotFound, match=f"No access token with id {b1.id} of user 'alice'"):
        auth.revoke_token(b1.id, username="alice")
    assert auth.user_for_token(h(2), T0 - 1) == bob
    with pytest.raises(NotFound, match="No access token with id 999999"):
        auth.revoke_token(999999)
    with pytest.raises(InvalidArgument, match="token_id '1': must be an integer"):
        auth.revoke_token("1")  # type: ignore[arg-type]

    auth.revoke_token(a1.id, username="alice")
    auth.revoke_token(a1.id, username="alice")  # again is fine
    auth.revoke_token(b1.id)  # an admin's revocation names no owner
    assert auth.user_for_token(h(1), T0) is None
    assert auth.user_for_token(h(2), T0 - 1) is None
    assert auth.user_for_token(h(3), T0) is not None
    assert [(t.name, t.revoked) for t in auth.list_tokens()] == [
        ("one", True),
        ("two", True),
        ("three", False),
    ]


def test_a_tokens_last_use_is_written_at_most_once_a_minute(auth: AuthStore) -> None:
    auth.create_user("alice", HASH)
    token = auth.create_token("alice", "busy", h(1), None)
    engine = _engine(auth)
    updates: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE AUTH_TOKENS"):
            updates.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for offset in (0, 1, 30_000, LAST_USE_INTERVAL_MS - 1):
            assert auth.user_for_token(h(1), T0 + offset) is not None
        assert len(updates) == 1
        assert auth.list_tokens()[0].last_used_at_ms == T0

        assert auth.user_for_token(h(1), T0 + LAST_USE_INTERVAL_MS) is not None
        assert auth.user_for_token(h(1), T0 + LAST_USE_INTERVAL_MS + 5) is not None
        assert len(updates) == 2
        assert auth.list_tokens()[0].last_used_at_ms == T0 + LAST_USE_INTERVAL_MS

        # A revoked or expired token records nothing.
        auth.revoke_token(token.id)
        updates.clear()
        assert auth.user_for_token(h(1), T0 + 10 * LAST_USE_INTERVAL_MS) is None
        assert updates == []
    finally:
        event.remove(engine, "before_cursor_execute", count)


# -- browser sessions -----------------------------------------------------------------------------
def _session_rows(store: AuthStore) -> int:
    with _engine(store).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(sessions_table)).scalar_one())


def test_a_session_gives_its_user_and_csrf_hash_until_it_expires(auth: AuthStore) -> None:
    alice = auth.create_user("alice", HASH)
    auth.create_session("alice", h(1), h(2), T0 + 1000)
    assert auth.session_user(h(1), T0) == (alice, h(2))
    assert auth.session_user(h(1), T0 + 1000) is None
    assert auth.session_user(h(9), T0) is None
    auth.delete_session(h(1))
    auth.delete_session(h(1))  # an unknown session is fine
    assert auth.session_user(h(1), T0) is None


def test_sessions_are_only_taken_as_hashes(auth: AuthStore) -> None:
    auth.create_user("alice", HASH)
    with pytest.raises(InvalidArgument, match="session_hash: must be the SHA-256 hex digest"):
        auth.create_session("alice", "cookie-in-clear", h(2), T0)
    with pytest.raises(InvalidArgument, match="csrf_hash: must be the SHA-256 hex digest"):
        auth.create_session("alice", h(1), "csrf-in-clear", T0)
    auth.create_session("alice", h(1), h(2), 2**50)
    with pytest.raises(AlreadyExists, match="session_hash already exists"):
        auth.create_session("alice", h(1), h(3), 2**50)


def test_a_password_change_ends_the_users_sessions(auth: AuthStore) -> None:
    alice = auth.create_user("alice", HASH)
    bob = auth.create_user("bob", HASH)
    auth.create_session("alice", h(1), h(2), 2**50)
    auth.create_session("alice", h(3), h(4), 2**50)
    auth.create_session("bob", h(5), h(6), 2**50)
    auth.create_token("alice", "kept", h(7), None)
    auth.update_password("alice", HASH + "2")
    assert auth.session_user(h(1), T0) is None
    assert auth.session_user(h(3), T0) is None
    assert auth.session_user(h(5), T0) == (bob, h(6))
    assert auth.user_for_token(h(7), T0) == alice  # tokens are revoked one by one


def test_a_new_session_removes_the_users_expired_ones(auth: AuthStore) -> None:
    auth.create_user("alice", HASH)
    auth.create_user("bob", HASH)
    auth.create_session("alice", h(1), h(2), 1)  # long expired
    auth.create_session("bob", h(3), h(4), 1)
    assert _session_rows(auth) == 2
    auth.create_session("alice", h(5), h(6), 2**50)
    assert _session_rows(auth) == 2  # alice's old one went; bob's waits for bob
    assert auth.session_user(h(5), T0) is not None


# -- audit trail ----------------------------------------------------------------------------------
def test_audit_events_round_trip_newest_first(auth: AuthStore) -> None:
    first = AuditEvent(T0, None, "10.0.0.9", "login.failed", details={"username": "mallory"})
    second = AuditEvent(
        T0 + 5,
        "alice",
        "2001:db8::1",
        "permission.set",
        "experiment",
        "1",
        {"permission": "EDIT", "for": "bob", "nested": [1, 2.5, None, True]},
    )
    auth.record_audit(first)
    auth.record_audit(second)
    page = auth.list_audit()
    assert list(page) == [second, first]
    assert page.token is None


def test_audit_pages_follow_each_other_without_repeats(auth: AuthStore) -> None:
    # Ties on time_ms are ordered by insertion, newest first.
    times = [T0, T0, T0 + 1, T0 + 2, T0 + 2, T0 + 2, T0 + 3]
    for i, t in enumerate(times):
        auth.record_audit(AuditEvent(t, "alice" if i % 2 else "bob", None, f"a{i}"))
    seen: list[str] = []
    token: str | None = None
    sizes = []
    while True:
        page = auth.list_audit(max_results=3, page_token=token)
        sizes.append(len(page))
        seen += [e.action for e in page]
        token = page.token
        if token is None:
            break
    assert sizes == [3, 3, 1]
    assert seen == ["a6", "a5", "a4", "a3", "a2", "a1", "a0"]

    alice = auth.list_audit(username="alice", max_results=2)
    assert [e.action for e in alice] == ["a5", "a3"]
    assert alice.token is not None
    assert [e.action for e in auth.list_audit(username="alice", page_token=alice.token)] == ["a1"]
    assert [e.action for e in auth.list_audit(since_ms=T0 + 2)] == ["a6", "a5", "a4", "a3"]


def test_audit_filters_by_action_kind_and_resource(auth: AuthStore) -> None:
    recorded = [
        ("run.delete", "experiment", "1"),
        ("run.restore", "experiment", "1"),
        ("registered_model.rename", "registered_model", "churn"),
        ("registered_model.set_alias", "registered_model", "churn_v2"),
        ("registeredXmodel.create", "registered_model", "other"),  # "_" must not be a wildcard
        ("permission.grant", "experiment", "2"),
        ("user.create", "user", "bob"),
    ]
    for i, (action, kind, rid) in enumerate(recorded):
        auth.record_audit(AuditEvent(T0 + i, "alice", None, action, kind, rid))

    def actions(**filters: str) -> list[str]:
        return [e.action for e in auth.list_audit(**filters)]

    assert actions(action="run.delete") == ["run.delete"]
    assert actions(action="run") == ["run.restore", "run.delete"]
    assert actions(action="registered_model") == [
        "registered_model.set_alias",
        "registered_model.rename",
    ]
    assert actions(action="permission%") == []
    assert actions(resource_type="experiment") == ["permission.grant", "run.restore", "run.delete"]
    assert actions(resource_type="registered_model", resource_id="churn") == [
        "registered_model.rename"
    ]
    assert actions(action="run", resource_id="2") == []
    page = auth.list_audit(action="registered_model", max_results=1)
    assert [e.action for e in page] == ["registered_model.set_alias"]
    later = auth.list_audit(action="registered_model", page_token=page.token)
    assert [e.action for e in later] == ["registered_model.rename"]


def test_invalid_audit_requests_name_the_field(auth: AuthStore) -> None:
    with pytest.raises(InvalidArgument, match="max_results 0: must be between 1 and 1000"):
        auth.list_audit(max_results=0)
    with pytest.raises(InvalidArgument, match="Invalid page_token"):
        auth.list_audit(page_token="not-a-token")
    with pytest.raises(InvalidArgument, match="details of an audit event: must be a JSON"):
        auth.record_audit(AuditEvent(T0, "a", None, "x", details={"s": {1, 2}}))
    with pytest.raises(InvalidArgument, match="Invalid action '': must be a non-empty"):
        auth.record_audit(AuditEvent(T0, "a", None, ""))
    with pytest.raises(InvalidArgument, match="time_ms -5: must be a non-negative"):
        auth.record_audit(AuditEvent(-5, "a", None, "x"))
    assert list(auth.list_audit()) == []


# -- several stores (server processes) on one database -------------------------------------------
def test_a_second_store_sees_every_change_at_once(auth: AuthStore, db_uri: str) -> None:
    other = open_auth_store(db_uri)
    try:
        auth.create_user("alice", HASH)
        token = auth.create_token("alice", "t", h(1), None)
        auth.set_permission("alice", EXP, "1", Permission.MANAGE)
        auth.create_session("alice", h(2), h(3), 2**50)
        assert other.user_for_token(h(1), T0) is not None
        assert other.get_permission("alice", EXP, "1") is Permission.MANAGE
        assert other.session_user(h(2), T0) is not None

        auth.revoke_token(token.id)
        auth.set_permission("alice", EXP, "1", Permission.READ)
        auth.delete_session(h(2))
        assert other.user_for_token(h(1), T0) is None
        assert other.get_permission("alice", EXP, "1") is Permission.READ
        assert other.session_user(h(2), T0) is None

        other.update_admin("alice", True)
        assert auth.get_user("alice").is_admin
        other.delete_user("alice")
        assert auth.permissions_of("alice", EXP) == {}
    finally:
        other.close()
