"""Artifact repositories: trees of files below a root URI, with paths that cannot escape it.

``get_artifact_repository(uri)`` picks the repository by URI scheme (``file:`` and local paths
built in, others through the ``mltrail.artifact_repository`` entry points: ``s3``, ``http``,
``https`` and ``mlflow-artifacts`` are registered there by mltrail itself).  Importing this
package loads none of its modules: each public name's module loads on first use (so the model
formats' use of ``mltrail.artifacts._paths`` loads no repository), and all of them load the
standard library only: ``boto3`` and ``httpx`` are imported by the S3 and HTTP repositories on
first use, the entry points are read on the first URI of a scheme that is not local, and the
object serialisers used by ``log_text``, ``log_dict``, ``log_figure`` and ``log_image`` live in
``mltrail.artifacts._serialize`` and import their heavy dependencies when called.

MLflow's module-level helpers (``mlflow.artifacts``) are here too, under MLflow's names:
``download_artifacts``, ``list_artifacts``, ``load_text``, ``load_dict`` and ``load_image``.
They resolve ``runs:/`` and ``models:/`` URIs with a tracking client, so they live in the
tracking layer (:mod:`mltrail.tracking._artifact_helpers`) and are re-exported here on first
use: the repositories below (which the tracking client uses) never import the tracking layer.
"""

import importlib
import typing

if typing.TYPE_CHECKING:
    from mltrail.artifacts._base import ArtifactRepository, FileInfo
    from mltrail.artifacts._multipart import (
        CreateMultipartUploadResponse,
        MultipartUploadCredential,
        MultipartUploadPart,
        MultipartUploadRepository,
    )
    from mltrail.artifacts._paths import validate_artifact_path
    from mltrail.artifacts._registry import get_artifact_repository
    from mltrail.artifacts.http import HttpArtifactRepository, MlflowArtifactsRepository
    from mltrail.artifacts.local import LocalArtifactRepository
    from mltrail.artifacts.s3 import S3ArtifactRepository
    from mltrail.tracking._artifact_helpers import (
        download_artifacts,
        list_artifacts,
        load_dict,
        load_image,
        load_text,
    )

# Where each public name lives: its module loads on first use, so that importing one of them
# (``mltrail.artifacts._paths`` for the model formats) does not load every repository.
_SUBMODULES = {
    "ArtifactRepository": "_base",
    "CreateMultipartUploadResponse": "_multipart",
    "FileInfo": "_base",
    "HttpArtifactRepository": "http",
    "LocalArtifactRepository": "local",
    "MlflowArtifactsRepository": "http",
    "MultipartUploadCredential": "_multipart",
    "MultipartUploadPart": "_multipart",
    "MultipartUploadRepository": "_multipart",
    "S3ArtifactRepository": "s3",
    "get_artifact_repository": "_registry",
    "validate_artifact_path": "_paths",
}
# MLflow's helpers, from the tracking layer above this package (loaded on first use).
_HELPERS = frozenset(
    {"download_artifacts", "list_artifacts", "load_dict", "load_image", "load_text"}
)

__all__ = [
    "ArtifactRepository",
    "CreateMultipartUploadResponse",
    "FileInfo",
    "HttpArtifactRepository",
    "LocalArtifactRepository",
    "MlflowArtifactsRepository",
    "MultipartUploadCredential",
    "MultipartUploadPart",
    "MultipartUploadRepository",
    "S3ArtifactRepository",
    "download_artifacts",
    "get_artifact_repository",
    "list_artifacts",
    "load_dict",
    "load_image",
    "load_text",
    "validate_artifact_path",
]


def __getattr__(name: str) -> typing.Any:
    if name in _HELPERS:
        from mltrail.tracking import _artifact_helpers

        value = getattr(_artifact_helpers, name)
    elif name in _SUBMODULES:
        value = getattr(importlib.import_module(f"{__name__}.{_SUBMODULES[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | _HELPERS | set(_SUBMODULES))
