"""Small projects in MLflow's example shapes, git repositories made in the test, and a
tracking store for the runs (the embedded SQLite store unless a test says otherwise)."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

import mltrail
from mltrail.tracking import MlflowClient

# The MLflow tutorial's shape: typed parameters with defaults, one required, a python_env.
MLPROJECT = """\
name: tutorial
python_env: python_env.yaml
entry_points:
  main:
    parameters:
      alpha: {type: float, default: 0.5}
      l1_ratio: {type: float, default: 0.1}
      epochs: {type: int, default: 3}
      label: string
    command: >-
      python train.py --alpha {alpha} --l1-ratio {l1_ratio} --epochs {epochs}
      --label {label}
  fail:
    parameters:
      code: {type: int, default: 3}
    command: "python -c 'import sys; sys.exit({code})'"
"""

PYTHON_ENV = """\
python: "3.11"
build_dependencies:
  - pip
dependencies:
  - -r requirements.txt
"""

# Logs into the run `mltrail run` made (start_run resumes MLTRAIL_RUN_ID) and prints argv.
TRAIN = """\
import argparse, sys
import mltrail as mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float)
parser.add_argument("--l1-ratio", type=float)
parser.add_argument("--epochs", type=int)
parser.add_argument("--label")
args, extra = parser.parse_known_args()
with mlflow.start_run() as run:
    mlflow.log_metric("alpha_seen", args.alpha)
    mlflow.set_tag("label_seen", args.label)
    mlflow.set_tag("extra_seen", " ".join(extra))
print("trained in", run.info.run_id)
"""


def write_files(folder: Path, files: Mapping[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if name.endswith(".py") else text)
    return folder


def tutorial_project(folder: Path, train: str = TRAIN) -> Path:
    return write_files(
        folder,
        {
            "MLproject": MLPROJECT,
            "python_env.yaml": PYTHON_ENV,
            "requirements.txt": "# nothing to install\n",
            "train.py": train,
        },
    )


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


def git_init(repo: Path, remote: str | None = None) -> str:
    """Make *repo* a git repository with one commit of everything in it; its sha."""
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "user.name", "Test")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "commit.gpgsign", "false")
    if remote:
        git(repo, "remote", "add", "origin", remote)
    return git_commit(repo, "first")


def git_commit(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def client(sqlite_uri: str) -> MlflowClient:
    """The embedded SQLite store, as this process's tracking URI."""
    mltrail.set_tracking_uri(sqlite_uri)
    return MlflowClient(sqlite_uri)
