"""``models:/`` and ``runs:/`` URIs, and whether a location lies inside an artifact root.

``models:/`` URIs name a registered model version in four ways::

    models:/<name>/<version>      models:/<name>/<stage>
    models:/<name>/latest         models:/<name>@<alias>

and may carry a path below the version's files (``models:/churn/3/MLmodel``).
``models:/<model_id>`` (no second segment) names a logged model (MLflow 3), and so does
``runs:/<run_id>/<name>`` when *name* is a logged model the run produced: MLflow 3 clients keep
those files below the model, not the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.artifacts._model_uris import ModelsUri, parse_models_uri, parse_runs_uri, path_below
from mltrail.entities._registry import canonical_stage

__all__ = [
    "ModelUriReader",
    "ModelsUri",
    "RegistryReader",
    "RunReader",
    "parse_models_uri",
    "parse_runs_uri",
    "path_below",
    "resolve_model_uri",
    "resolve_model_version",
    "resolve_runs_uri",
]


class RegistryReader(Protocol):
    """What :func:`resolve_model_version` needs from a client (``MlflowClient`` has it all)."""

    def get_model_version(self, name: str, version: int | str) -> Any: ...

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> Any: ...

    def get_model_version_by_alias(self, name: str, alias: str) -> Any: ...

    def get_model_version_download_uri(self, name: str, version: int | str) -> str: ...


class ModelUriReader(RegistryReader, Protocol):
    """What :func:`resolve_model_uri` needs: the registry, and logged models."""

    def get_logged_model(self, model_id: str) -> Any: ...


class RunReader(Protocol):
    """What :func:`resolve_runs_uri` needs from a client (``MlflowClient`` has it)."""

    def get_run(self, run_id: str) -> Any: ...

    def get_logged_model(self, model_id: str) -> Any: ...


def resolve_runs_uri(uri: str, client: RunReader) -> tuple[str, str, str | None]:
    """(root, checked path below it, logged model id or None) of a ``runs:/`` URI.

    The root is the run's artifact root, or, when the path's first segment is the name of a
    logged model among the run's outputs (the newest of that name), that model's artifact
    location, with the rest of the path below it.
    """
    parsed = parse_runs_uri(uri)
    if parsed is None:
        raise InvalidArgument(f"Invalid run URI {uri!r}: expected runs:/<run_id>/<path>")
    run_id, path = parsed
    run = client.get_run(run_id)
    outputs = run.outputs.model_outputs
    if path and outputs:
        head, _, rest = path.partition("/")
        for output in reversed(outputs):
            try:
                model = client.get_logged_model(output.model_id)
            except NotFound:  # deleted since
                continue
            if model.name == head:
                return str(model.artifact_location), rest, str(model.model_id)
    return str(run.info.artifact_uri), path, None


def resolve_model_version(uri: ModelsUri, client: RegistryReader) -> tuple[str, int]:
    """The (model name, version number) a parsed ``models:/`` URI names.

    ``<stage>`` and ``latest`` pick the highest version in that stage (in any stage for
    ``latest``); NotFound when there is none.
    """
    if uri.name is None:
        raise InvalidArgument(
            f"Invalid model URI 'models:/{uri.model_id}': logged models (models:/<model_id>) "
            "are not registered versions; use models:/<name>/<version>"
        )
    if uri.version is not None:
        mv = client.get_model_version(uri.name, uri.version)
    elif uri.alias is not None:
        mv = client.get_model_version_by_alias(uri.name, uri.alias)
    else:
        stage = None if uri.latest else canonical_stage(uri.stage)
        found = list(client.get_latest_versions(uri.name, None if stage is None else [stage]))
        if not found:
            where = "in any stage" if stage is None else f"in stage '{stage}'"
            raise NotFound(f"No versions of registered model '{uri.name}' {where}")
        mv = max(found, key=lambda v: int(v.version))
    return str(mv.name), int(mv.version)


def resolve_model_uri(uri: str, client: ModelUriReader) -> str:
    """Where the files of a ``models:/`` URI are: the version's download URI, plus the path
    the URI names below it.  Other URIs (``runs:/``, ``s3://``, paths) are returned as given.

    ``models:/churn/3``, ``models:/churn/Production``, ``models:/churn/latest`` and
    ``models:/churn@champion`` are understood, and ``models:/<model_id>`` (a logged model's
    artifact location); a missing model, version, stage, alias or logged model is NotFound, a
    malformed URI InvalidArgument.
    """
    parsed = parse_models_uri(uri)
    if parsed is None:
        return uri
    if parsed.model_id is not None:
        return str(client.get_logged_model(parsed.model_id).artifact_location)
    name, version = resolve_model_version(parsed, client)
    location = client.get_model_version_download_uri(name, version)
    if not parsed.path:
        return location
    return location.rstrip("/") + "/" + parsed.path
