"""Artifact repositories: trees of files below a root URI, with paths that cannot escape it.

``get_artifact_repository(uri)`` picks the repository by URI scheme (``file:`` and local paths
built in, others through the ``mltrail.artifact_repository`` entry points: ``s3``, ``http``,
``https`` and ``mlflow-artifacts`` are registered there by mltrail itself).  Importing this
package loads the standard library only: ``boto3`` and ``httpx`` are imported by the S3 and
HTTP repositories on first use, and the object serialisers used by ``log_text``, ``log_dict``,
``log_figure`` and ``log_image`` live in ``mltrail.artifacts._serialize`` and import their heavy
dependencies when called.

MLflow's module-level helpers (``mlflow.artifacts``) are here too: ``download_artifacts``,
``list_artifacts``, ``load_text``, ``load_dict`` and ``load_image``
(``mltrail.artifacts._fluent``); they import the tracking client, the registry, YAML and
Pillow when called.
"""

from mltrail.artifacts._base import ArtifactRepository, FileInfo
from mltrail.artifacts._fluent import (
    download_artifacts,
    list_artifacts,
    load_dict,
    load_image,
    load_text,
)
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
