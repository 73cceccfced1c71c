"""The grammar of ``models:/`` and ``runs:/`` URIs, and whether a location lies inside an
artifact root: pure parsing (no client, no I/O), so that the store checks a model version's
source with the same rules that :mod:`mltrail.registry` resolves URIs with.

``models:/`` URIs name a registered model version in four ways::

    models:/<name>/<version>      models:/<name>/<stage>
    models:/<name>/latest         models:/<name>@<alias>

and may carry a path below the version's files (``models:/churn/3/MLmodel``).
``models:/<model_id>`` (no second segment) names a logged model (MLflow 3).
"""

from __future__ import annotations

from dataclasses import dataclass

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts._paths import validate_artifact_path
from mltrail.validation import validate_run_id

__all__ = ["ModelsUri", "parse_models_uri", "parse_runs_uri", "path_below"]


@dataclass(frozen=True, slots=True)
class ModelsUri:
    """A parsed ``models:/`` URI; exactly one of version, stage, alias, latest or model_id."""

    name: str | None
    version: int | None = None
    stage: str | None = None
    alias: str | None = None
    latest: bool = False
    model_id: str | None = None
    path: str = ""


def _split_scheme(uri: str, scheme: str) -> str | None:
    prefix = scheme + ":"
    if not isinstance(uri, str) or not uri.lower().startswith(prefix):
        return None
    rest = uri[len(prefix) :]
    # models:/x, models:///x and models://x all appear in the wild; no host is allowed.
    return rest.lstrip("/")


def parse_models_uri(uri: str) -> ModelsUri | None:
    """The parts of a ``models:/`` URI; None for other URIs; InvalidArgument when malformed."""
    rest = _split_scheme(uri, "models")
    if rest is None:
        return None
    if not rest:
        raise InvalidArgument(f"Invalid model URI {uri!r}: no model named")
    if "?" in rest or "#" in rest:
        raise InvalidArgument(f"Invalid model URI {uri!r}: queries and fragments are not allowed")
    head, _, path = rest.partition("/")
    if "@" in head:
        name, _, alias = head.partition("@")
        if not name or not alias:
            raise InvalidArgument(f"Invalid model URI {uri!r}: expected models:/<name>@<alias>")
        return ModelsUri(name, alias=alias, path=validate_artifact_path(path))
    if not path:
        return ModelsUri(None, model_id=head)
    ref, _, sub = path.partition("/")
    sub = validate_artifact_path(sub)
    if ref.isdigit():
        return ModelsUri(head, version=int(ref), path=sub)
    if ref.lower() == "latest":
        return ModelsUri(head, latest=True, path=sub)
    if not ref:
        raise InvalidArgument(f"Invalid model URI {uri!r}: expected models:/<name>/<version>")
    return ModelsUri(head, stage=ref, path=sub)


def parse_runs_uri(uri: str) -> tuple[str, str] | None:
    """``runs:/<run_id>/<path>`` -> (run_id, checked path); None for other URIs."""
    rest = _split_scheme(uri, "runs")
    if rest is None:
        return None
    run_id, _, path = rest.partition("/")
    validate_run_id(run_id)
    return run_id, validate_artifact_path(path)


def _normalise_location(location: str) -> str:
    """Spellings of the same local location made equal; other URIs kept as they are."""
    text = location.rstrip("/") if len(location) > 1 else location
    if text.startswith("/") and not text.startswith("//"):
        return "file://" + text
    lower = text[:17].lower()
    if lower.startswith("file://localhost/"):
        return "file:///" + text[len("file://localhost/") :]
    if lower.startswith("file:/") and not lower.startswith("file://"):
        return "file:///" + text[len("file:/") :]
    return text


def path_below(root: str, location: str) -> str | None:
    """The artifact path of *location* below the artifact root *root*; None when it is not
    below it.  InvalidArgument when it is below it only by climbing (``..``, encoded dots,
    backslashes, ``;``, ``?``, ``#``, ...): the rest is checked like any artifact path."""
    base = _normalise_location(root)
    target = _normalise_location(location)
    if target == base:
        return ""
    if not target.startswith(base + "/"):
        return None
    return validate_artifact_path(target[len(base) + 1 :])
