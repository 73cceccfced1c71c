"""Authentication and permissions of the tracking server (``--app-name basic-auth``).

Users, their permissions, personal access tokens, browser sessions and the audit trail are
kept by an :class:`~mltrail.store.AuthStore` (:func:`mltrail.store.open_auth_store`);
passwords are hashed with argon2id and tokens and session ids are stored as their SHA-256
(:mod:`mltrail.server.auth._secrets`).
"""

from mltrail.server.auth._config import AuthSettings, read_auth_settings

__all__ = ["AuthSettings", "read_auth_settings"]
