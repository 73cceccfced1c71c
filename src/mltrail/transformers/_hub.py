"""Hugging Face Hub references (``save_pretrained=False``), resolved in the local cache only.

MLflow's ``save_pretrained=False`` records a model's Hub repository and commit
(``source_model_name``, ``source_model_revision``, and ``<component>_name`` /
``<component>_revision`` for the tokenizer and other components) instead of the weights; MLflow
asks the Hub for the latest commit and downloads the files when the model is loaded.  mltrail
never contacts the Hub: the commit is the one the local Hugging Face cache holds for the
repository (the model's own ``_commit_hash`` when transformers recorded it), and loading reads
that snapshot from the cache.  A repository that is not in the cache is an error naming the
``hf download`` command that would fetch it.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._optional import require

__all__ = [
    "cached_revision",
    "checkpoint_dir",
    "is_valid_repo_id",
    "snapshot_dir",
]

_log = logging.getLogger(__name__)
_COMMIT = re.compile(r"[0-9a-f]{40}")


def is_valid_repo_id(name: Any) -> bool:
    """Whether *name* is a Hub repository id (``org/name``) rather than a local directory."""
    if not isinstance(name, str) or not name or os.path.isdir(name):
        return False
    validators = require("huggingface_hub.utils")
    try:
        validators.validate_repo_id(name)
    except validators.HFValidationError:
        return False
    return True


def snapshot_dir(repo: str, revision: str | None) -> str | None:
    """The cached snapshot directory of *repo* at *revision* (the cache's ``main`` when None),
    or None when the local cache does not hold it."""
    hub = require("huggingface_hub")
    errors = require("huggingface_hub.errors")
    try:
        path = hub.snapshot_download(repo, revision=revision, local_files_only=True)
    except (errors.LocalEntryNotFoundError, FileNotFoundError, OSError):
        return None
    return str(path)


def cached_revision(repo: str, obj: Any = None) -> str | None:
    """The commit of *repo* that *obj* (a model or component) was loaded from, else the commit
    the local cache holds for the repository's ``main``; None when it holds none."""
    config = getattr(obj, "config", None)
    for holder in (config, getattr(obj, "init_kwargs", None)):
        recorded = (
            holder.get("_commit_hash")
            if isinstance(holder, dict)
            else getattr(holder, "_commit_hash", None)
        )
        exact = isinstance(recorded, str) and _COMMIT.fullmatch(recorded)
        if exact and snapshot_dir(repo, str(recorded)) is not None:
            return str(recorded)
    path = snapshot_dir(repo, None)
    if path is None:
        return None
    commit = os.path.basename(os.path.normpath(path))
    return commit if _COMMIT.fullmatch(commit) else None


def checkpoint_dir(repo: Any, revision: Any, what: str) -> str:
    """The local directory of *repo* at commit *revision*, from the Hugging Face cache."""
    if not isinstance(repo, str) or not repo:
        raise InvalidArgument(f"Invalid transformers flavor: {what} names no repository")
    if not isinstance(revision, str) or not revision:
        # MLflow's rule: loading another version than the one saved is refused
        raise InvalidArgument(
            f"Invalid transformers flavor: {what} {repo!r} is a Hugging Face Hub reference "
            "without a commit hash"
        )
    path = snapshot_dir(repo, revision)
    if path is None:
        raise InvalidArgument(
            f"The model was saved with save_pretrained=False: its {what} is the Hugging Face Hub "
            f"repository {repo!r} at commit {revision}, which the local Hugging Face cache does "
            f"not hold, and mltrail never downloads models: fetch it with "
            f"`hf download {repo} --revision {revision}`"
        )
    return path
