"""A saved model's requirements, after the fact: ``infer_pip_requirements`` and
``update_model_requirements`` (MLflow's ``mlflow.models`` names)."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.models._model import Model
from mltrail.models._uri import download_model, download_model_file, upload_model_file
from mltrail.models._uv import export_uv_requirements, uv_source_dir

__all__ = ["infer_pip_requirements", "update_model_requirements"]

_log = logging.getLogger(__name__)
# A requirement line: a distribution name, optional extras, then a version spec or marker.
_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,\s-]*\])?\s*([<>=!~;@].*)?$")


def infer_pip_requirements(
    model_uri: str,
    flavor: str,
    fallback: Sequence[str] | None = None,
    timeout: float | None = None,
    extra_env_vars: Mapping[str, str] | None = None,
    uv_project_dir: str | None = None,
    uv_groups: Sequence[str] | None = None,
    uv_extras: Sequence[str] | None = None,
) -> list[str]:
    """The pinned pip requirements of the model *model_uri* names, found by loading it in a
    fresh interpreter and pinning the installed versions of what it imported.  *flavor* must
    be one of the model's flavors.  When loading fails or takes longer than *timeout* seconds,
    *fallback* is returned (with a warning).

    As in MLflow, a uv project (``uv.lock`` and ``pyproject.toml``) in *uv_project_dir*, else
    in the current directory unless ``MLTRAIL_UV_AUTO_DETECT``/``MLFLOW_UV_AUTO_DETECT`` is
    false, gives the requirements instead: ``uv export`` of its lock file with *uv_groups*
    and *uv_extras* (loading the model when the export fails)."""
    from mltrail.models._env import infer_requirements

    uv_dir = uv_source_dir(uv_project_dir, uv_groups, uv_extras)
    if uv_dir is not None:
        exported = export_uv_requirements(uv_dir, uv_groups, uv_extras)
        if exported is not None:
            return exported
    if timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
        raise InvalidArgument(f"Invalid timeout {timeout!r}: expected a positive number")
    local = download_model(model_uri)
    flavors = Model.load(local).flavors
    if flavor not in flavors:
        raise InvalidArgument(
            f"Invalid flavor {flavor!r}: the model {model_uri!r} has {sorted(flavors)}"
        )
    env = {str(k): str(v) for k, v in (extra_env_vars or {}).items()}
    return infer_requirements(local, list(fallback or []), timeout=timeout, extra_env=env)


def _name(requirement: str) -> str:
    for sep in ("==", ">=", "<=", "~=", "!=", "===", ">", "<", "[", ";", "@", " "):
        requirement = requirement.split(sep, 1)[0]
    return requirement.strip().lower().replace("_", "-").replace(".", "-")


def _checked(requirement_list: Any) -> list[str]:
    if isinstance(requirement_list, str) or not isinstance(requirement_list, (list, tuple)):
        raise InvalidArgument(
            "Invalid requirement_list: expected a list of requirement strings, "
            "e.g. ['pandas>=2', 'scikit-learn']"
        )
    bad = [r for r in requirement_list if not isinstance(r, str) or not _REQUIREMENT.match(r)]
    if bad:
        raise InvalidArgument(f"Invalid requirement_list: not pip requirements: {bad!r}")
    return [r.strip() for r in requirement_list]


def _updated(old: list[str], changes: list[str], operation: str) -> list[str]:
    by_name = {_name(r): r for r in old}
    if operation == "add":
        by_name.update({_name(r): r for r in changes})
        return list(by_name.values())
    for requirement in changes:
        if by_name.pop(_name(requirement), None) is None:
            _log.warning("%r is not a requirement of the model; nothing removed", requirement)
    return list(by_name.values())


def update_model_requirements(model_uri: str, operation: str, requirement_list: list[str]) -> None:
    """Add requirements to, or remove them from, the model's ``requirements.txt`` and the pip
    section of its ``conda.yaml``, and write both back where the model is (a local directory
    or a run's model; a registered version's files cannot change).

    ``add`` replaces a requirement of the same distribution (``pandas==2.1`` replaces
    ``pandas==2.0``); ``remove`` matches by distribution name, whatever the version."""
    import yaml

    if operation not in ("add", "remove"):
        raise InvalidArgument(f"Invalid operation {operation!r}: expected 'add' or 'remove'")
    changes = _checked(requirement_list)
    work = tempfile.mkdtemp(prefix="mltrail-requirements-")
    files = {}
    for name in ("requirements.txt", "conda.yaml"):
        try:
            files[name] = download_model_file(model_uri, name)
        except NotFound:
            continue
        if not os.path.isfile(files[name]):
            del files[name]
    if not files:
        raise NotFound(f"The model {model_uri!r} has neither requirements.txt nor conda.yaml")
    if "requirements.txt" in files:
        with open(files["requirements.txt"], encoding="utf-8") as f:
            lines = [line.strip() for line in f if line.strip()]
        keep = [line for line in lines if line.startswith(("#", "-"))]
        old = [line for line in lines if not line.startswith(("#", "-"))]
        new = _updated(old, changes, operation)
        target = os.path.join(work, "requirements.txt")
        with open(target, "w", encoding="utf-8") as f:
            f.write("".join(f"{line}\n" for line in keep + new))
        upload_model_file(model_uri, target)
        _log.info("requirements.txt: %s -> %s", old, new)
    if "conda.yaml" in files:
        with open(files["conda.yaml"], encoding="utf-8") as f:
            conda = yaml.safe_load(f) or {}
        for dep in conda.get("dependencies") or []:
            if isinstance(dep, dict) and isinstance(dep.get("pip"), list):
                dep["pip"] = _updated([str(p) for p in dep["pip"]], changes, operation)
                break
        else:
            if operation == "add":
                conda.setdefault("dependencies", []).append({"pip": changes})
        target = os.path.join(work, "conda.yaml")
        with open(target, "w", encoding="utf-8") as f:
            yaml.safe_dump(conda, f, sort_keys=False)
        upload_model_file(model_uri, target)
