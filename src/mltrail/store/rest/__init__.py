"""The REST tracking store: ``http://`` and ``https://`` tracking URIs.

Importing this package loads httpx; ``import mltrail`` does not (the store is found by URI
scheme when a tracking URI names a server).
"""

from mltrail.store.rest._config import Credentials, HttpConfig
from mltrail.store.rest._http import RestClient
from mltrail.store.rest._store import RestStore

__all__ = ["Credentials", "HttpConfig", "RestClient", "RestStore"]
