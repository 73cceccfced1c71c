"""Model serving: the REST scoring server, batch prediction and isolated environments.

- :func:`create_scoring_app` builds the scoring server (an ASGI app) around a loaded model;
  :func:`serve` runs it with uvicorn, in one or several worker processes.
- :func:`parse_request`, :func:`predictions_to_json` are the scoring protocol's reading and
  writing, shared by the server and ``mltrail models predict``.
- :class:`EnvironmentManager` builds (and caches) a virtualenv or uv environment from a model's
  ``python_env.yaml`` and ``requirements.txt`` to serve or predict from.
- :func:`generate_dockerfile` writes a Docker build context that serves a model.
- :class:`PyFuncBackend` (MLflow's ``FlavorBackend`` of python_function models) predicts,
  serves, prepares environments and builds images; :func:`get_flavor_backend` picks it.

Command line: ``mltrail models serve|predict|generate-dockerfile``.
"""

from mltrail._exceptions import PayloadTooLarge, UnsupportedMediaType
from mltrail.serving._app import ScoringSettings, create_scoring_app, predict_body
from mltrail.serving._backend import PyFuncBackend, get_flavor_backend
from mltrail.serving._metrics import ScoringMetrics
from mltrail.serving._output import jsonable, predictions_to_csv, predictions_to_json
from mltrail.serving._parsing import (
    CONTENT_TYPE_CSV,
    CONTENT_TYPE_JSON,
    CONTENT_TYPE_PARQUET,
    CONTENT_TYPES,
    INPUT_KEYS,
    MAX_COLUMNS,
    ParsedInput,
    parse_content_type,
    parse_csv_input,
    parse_json_input,
    parse_parquet_input,
    parse_request,
)

__all__ = [
    "CONTENT_TYPES",
    "CONTENT_TYPE_CSV",
    "CONTENT_TYPE_JSON",
    "CONTENT_TYPE_PARQUET",
    "INPUT_KEYS",
    "MAX_COLUMNS",
    "ParsedInput",
    "PayloadTooLarge",
    "PyFuncBackend",
    "ScoringMetrics",
    "ScoringSettings",
    "UnsupportedMediaType",
    "create_scoring_app",
    "get_flavor_backend",
    "jsonable",
    "parse_content_type",
    "parse_csv_input",
    "parse_json_input",
    "parse_parquet_input",
    "parse_request",
    "predict_body",
    "predictions_to_csv",
    "predictions_to_json",
]
