"""Artifact repositories: trees of files below a root URI, with paths that cannot escape it.

``get_artifact_repository(uri)`` picks the repository by URI scheme (``file:`` and local paths
built in, others through the ``mltrail.artifact_repository`` entry points).  Importing this
package loads the standard library only; the object serialisers used by ``log_text``,
``log_dict``, ``log_figure`` and ``log_image`` live in ``mltrail.artifacts._serialize`` and
import their heavy dependencies when called.
"""

from mltrail.artifacts._base import ArtifactRepository, FileInfo
from mltrail.artifacts._paths import validate_artifact_path
from mltrail.artifacts._registry import get_artifact_repository
from mltrail.artifacts.local import LocalArtifactRepository

__all__ = [
    "ArtifactRepository",
    "FileInfo",
    "LocalArtifactRepository",
    "get_artifact_repository",
    "validate_artifact_path",
]
