"""Whether a Docker engine answers here: what model images (``build_docker``) and
``docker_env`` projects need before they run ``docker``."""

from __future__ import annotations

import shutil
import subprocess

__all__ = ["ENGINE_TIMEOUT_S", "docker_engine_problem"]

ENGINE_TIMEOUT_S = 30.0


def docker_engine_problem() -> str | None:
    """Why Docker cannot run here (no ``docker`` on PATH, or no engine answering ``docker
    info``), or None when an engine is there."""
    docker = shutil.which("docker")
    if docker is None:
        return "there is no `docker` executable on PATH"
    try:
        done = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=ENGINE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"the Docker engine did not answer `docker info` within {ENGINE_TIMEOUT_S:.0f} s"
    if done.returncode != 0 or not done.stdout.strip():
        detail = (done.stderr or done.stdout).strip().splitlines()
        answer = detail[-1] if detail else "no answer"
        return f"no Docker engine is running here (`docker info`: {answer})"
    return None
