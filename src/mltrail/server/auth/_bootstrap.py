"""Opening an authenticating server's auth state: the store, and the admin at the first start.

The auth tables live in the tracking database unless ``database_uri`` names another one.  At
the first start (no user named ``admin_username``) the admin is created with the configured
password.  A server listening beyond loopback refuses to start while the admin's password is
the default one, whether it is about to be created with it or still has it.

Hashing the new admin's password (argon2id, about 0.1 s) was most of what authentication
added to a server's start, so :class:`AdminSetup` does it on a thread of its own: the server
answers ``/health`` meanwhile, and every authentication waits until the admin exists.
"""

from __future__ import annotations

import logging
import threading

from mltrail._exceptions import AlreadyExists, InvalidArgument, NotFound
from mltrail.server.auth._config import DEFAULT_ADMIN_PASSWORD, AuthSettings
from mltrail.server.auth._secrets import hash_password, verify_password
from mltrail.store import AuthStore, open_auth_store

__all__ = ["AdminSetup", "open_auth"]

logger = logging.getLogger("mltrail.server")

_DEFAULT_REFUSED = (
    "Refusing to start: the admin {user!r} {has} the default password while the server "
    "listens beyond loopback; set admin_password in the auth config file (or "
    "MLTRAIL_AUTH_ADMIN_PASSWORD), or change it with 'mltrail auth update-password' first"
)


class AdminSetup:
    """The creation of the admin at a first start: :meth:`start` begins it on a thread,
    :meth:`ensure` returns once it is done (doing it itself if the thread failed)."""

    def __init__(self, store: AuthStore, settings: AuthSettings, missing: bool) -> None:
        self._store = store
        self._settings = settings
        self._done = threading.Event()
        if not missing:
            self._done.set()
        self._lock = threading.Lock()

    def start(self) -> None:
        if not self._done.is_set():
            threading.Thread(
                target=self._in_background, name="mltrail-admin-setup", daemon=True
            ).start()

    def ensure(self) -> None:
        if self._done.is_set():  # the common case, without the lock
            return
        with self._lock:
            if self._done.is_set():
                return
            name = self._settings.admin_username
            secret = hash_password(self._settings.effective_admin_password)
            try:
                self._store.create_user(name, secret, is_admin=True)
            except AlreadyExists:  # another process of this server created it meanwhile
                pass
            else:
                if self._settings.uses_default_password:
                    logger.warning(
                        "Created the admin %r with the default password; change it before "
                        "anyone else can reach this server",
                        name,
                    )
            self._done.set()

    def _in_background(self) -> None:
        try:
            self.ensure()
        except Exception:  # the first authentication tries again and answers the error
            logger.exception("Could not create the admin %r", self._settings.admin_username)


def open_auth(settings: AuthSettings, tracking_uri: str) -> tuple[AuthStore, AdminSetup]:
    """The auth store for *settings* and its admin's setup (see the module doc); a refusal to
    start is raised here, before the server listens."""
    store = open_auth_store(settings.database_uri or tracking_uri)
    try:
        missing = _admin_missing(store, settings)
    except BaseException:
        store.close()
        raise
    return store, AdminSetup(store, settings, missing)


def _admin_missing(store: AuthStore, settings: AuthSettings) -> bool:
    name = settings.admin_username
    try:
        store.get_user(name)
    except NotFound:
        if settings.public_listener and settings.uses_default_password:
            raise InvalidArgument(_DEFAULT_REFUSED.format(user=name, has="would get")) from None
        return True
    if settings.public_listener:
        found = store.credentials(name)
        if found is not None and verify_password(found[1], DEFAULT_ADMIN_PASSWORD):
            raise InvalidArgument(_DEFAULT_REFUSED.format(user=name, has="still has"))
    return False
