"""The model registry's rules that need no database: names, aliases, model URIs, sources.

The stores (``mltrail.store``) keep registered models and versions; the client
(``mltrail.MlflowClient``) exposes them with MLflow's method names.  Webhooks live in
:mod:`mltrail.registry.webhooks`.
"""

from mltrail.registry._uris import (
    ModelsUri,
    ModelUriReader,
    RegistryReader,
    RunReader,
    parse_models_uri,
    parse_runs_uri,
    path_below,
    resolve_model_uri,
    resolve_model_version,
    resolve_runs_uri,
)
from mltrail.validation import (
    MAX_ALIAS_LENGTH,
    MAX_MODEL_NAME_LENGTH,
    MAX_REGISTRY_TAG_VALUE_LENGTH,
    model_name_key,
    parse_version,
    validate_alias,
    validate_model_name,
)

__all__ = [
    "MAX_ALIAS_LENGTH",
    "MAX_MODEL_NAME_LENGTH",
    "MAX_REGISTRY_TAG_VALUE_LENGTH",
    "ModelUriReader",
    "ModelsUri",
    "RegistryReader",
    "RunReader",
    "model_name_key",
    "parse_models_uri",
    "parse_runs_uri",
    "parse_version",
    "path_below",
    "resolve_model_uri",
    "resolve_model_version",
    "resolve_runs_uri",
    "validate_alias",
    "validate_model_name",
]
