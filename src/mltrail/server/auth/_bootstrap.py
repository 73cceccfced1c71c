"""Opening an authenticating server's auth state: the store, and the admin at the first start.

The auth tables live in the tracking database unless ``database_uri`` names another one.  At
the first start (no user named ``admin_username``) the admin is created with the configured
password.  A server listening beyond loopback refuses to start while the admin's password is
the default one, whether it is about to be created with it or still has it.
"""

from __future__ import annotations

import logging

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.server.auth._config import DEFAULT_ADMIN_PASSWORD, AuthSettings
from mltrail.server.auth._secrets import hash_password, verify_password
from mltrail.store import AuthStore, open_auth_store

__all__ = ["open_auth"]

logger = logging.getLogger("mltrail.server")

_DEFAULT_REFUSED = (
    "Refusing to start: the admin {user!r} {has} the default password while the server "
    "listens beyond loopback; set admin_password in the auth config file (or "
    "MLTRAIL_AUTH_ADMIN_PASSWORD), or change it with 'mltrail auth update-password' first"
)


def open_auth(settings: AuthSettings, tracking_uri: str) -> AuthStore:
    """The auth store for *settings*, with its admin (see the module doc)."""
    store = open_auth_store(settings.database_uri or tracking_uri)
    try:
        _ensure_admin(store, settings)
    except BaseException:
        store.close()
        raise
    return store


def _ensure_admin(store: AuthStore, settings: AuthSettings) -> None:
    name = settings.admin_username
    try:
        store.get_user(name)
    except NotFound:
        if settings.public_listener and settings.uses_default_password:
            raise InvalidArgument(_DEFAULT_REFUSED.format(user=name, has="would get")) from None
        store.create_user(name, hash_password(settings.effective_admin_password), is_admin=True)
        if settings.uses_default_password:
            logger.warning(
                "Created the admin %r with the default password; change it before anyone "
                "else can reach this server",
                name,
            )
        return
    if settings.public_listener:
        found = store.credentials(name)
        if found is not None and verify_password(found[1], DEFAULT_ADMIN_PASSWORD):
            raise InvalidArgument(_DEFAULT_REFUSED.format(user=name, has="still has"))
