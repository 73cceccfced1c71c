"""``mltrail.doctor()`` / ``mltrail doctor``: what a bug report needs to know about this setup.

MLflow's ``doctor`` lines, for mltrail: the system, Python, mltrail's version and location, the
tracking and registry URIs, the active run, the ``MLFLOW_*``/``MLTRAIL_*`` environment and the
installed versions of mltrail's dependencies (extras too, when installed).  With
``mask_envs=True`` the variables' values are ``***`` and passwords in the URIs are removed.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re

from mltrail._run_context import strip_url_credentials
from mltrail._version import __version__
from mltrail.tracking._active import run_stack
from mltrail.tracking._fluent_registry import get_registry_uri
from mltrail.tracking._uri import get_tracking_uri

__all__ = ["doctor", "doctor_report"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")
_DEV = re.compile(r"""extra\s*==\s*["']dev["']""")


def _dependencies() -> list[tuple[str, str]]:
    """(name, installed version or "not installed") of each requirement, extras' included
    only when installed (not the ``dev`` extra's test tools)."""
    try:
        requires = importlib.metadata.requires("mltrail") or []
    except importlib.metadata.PackageNotFoundError:
        return []
    found: dict[str, str] = {}
    for requirement in requires:
        if _DEV.search(requirement):  # the test tools
            continue
        match = _NAME.match(requirement)
        if match is None or match.group(0) in found:
            continue
        name = match.group(0)
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            if "extra ==" not in requirement:
                found[name] = "not installed"
    return sorted(found.items(), key=lambda item: item[0].lower())


def doctor_report(mask_envs: bool = False) -> str:
    """The text :func:`doctor` prints."""
    hide = strip_url_credentials if mask_envs else str
    items = [
        ("System information", f"{platform.system()} {platform.version()}"),
        ("Python version", platform.python_version()),
        ("mltrail version", __version__),
        ("mltrail module location", os.path.dirname(os.path.abspath(__file__))),
        ("Tracking URI", hide(get_tracking_uri())),
        ("Registry URI", hide(get_registry_uri())),
    ]
    stack = run_stack()
    if stack:
        info = stack[-1].info
        items += [
            ("Active experiment ID", info.experiment_id),
            ("Active run ID", info.run_id),
            ("Active run artifact URI", hide(info.artifact_uri)),
        ]
    lines = [f"{label}: {value}" for label, value in items]
    variables = sorted(k for k in os.environ if k.startswith(("MLFLOW_", "MLTRAIL_")))
    if variables:
        lines.append("Environment variables:")
        lines += [f"  {k}: {'***' if mask_envs else os.environ[k]}" for k in variables]
    dependencies = _dependencies()
    if dependencies:
        lines.append("mltrail dependencies:")
        lines += [f"  {name}: {version}" for name, version in dependencies]
    return "\n".join(lines)


def doctor(mask_envs: bool = False) -> None:
    """Print what a bug report needs: system, versions, URIs, active run, environment,
    dependencies.  *mask_envs*: hide the environment's values and the URIs' passwords."""
    print(doctor_report(mask_envs))
