"""The REST backend: ``http://`` and ``https://`` tracking URIs.

Importing this package loads httpx; ``import mltrail`` does not (the backend is found by URI
scheme when a tracking URI names a server).
"""

from mltrail.store.rest._backend import RestBackend
from mltrail.store.rest._config import Credentials, HttpConfig
from mltrail.store.rest._http import RestClient

__all__ = ["Credentials", "HttpConfig", "RestBackend", "RestClient"]
