"""The public surface of mltrail.artifacts: __all__, the interface, and a light import."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import mltrail.artifacts as artifacts
from mltrail.artifacts import ArtifactRepository

HEAVY = [
    "PIL",
    "alembic",
    "boto3",
    "botocore",
    "httpx",
    "matplotlib",
    "numpy",
    "pandas",
    "plotly",
    "sqlalchemy",
    "yaml",
]


def test_all_is_sorted_and_complete() -> None:
    # dir(), not vars(): MLflow's helpers are re-exported from the tracking layer on first use.
    public = {
        name
        for name in dir(artifacts)
        if not name.startswith("_") and not isinstance(getattr(artifacts, name), types.ModuleType)
    }
    assert artifacts.__all__ == sorted(artifacts.__all__)
    assert set(artifacts.__all__) == public
    assert artifacts.__all__ == [
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


def test_the_interface_is_enforced() -> None:
    assert ArtifactRepository.__abstractmethods__ == {
        "delete_artifacts",
        "download_artifacts",
        "file_info",
        "list_artifacts",
        "log_artifact",
        "log_artifacts",
        "open_read",
        "write_stream",
    }
    with pytest.raises(TypeError):
        ArtifactRepository("x")  # type: ignore[abstract]

    class Partial(ArtifactRepository):
        def list_artifacts(self, path: str | None = None) -> list[artifacts.FileInfo]:
            return []

    with pytest.raises(TypeError, match="abstract"):
        Partial("x")  # type: ignore[abstract]


@pytest.mark.parametrize(
    "cls",
    [
        artifacts.LocalArtifactRepository,
        artifacts.S3ArtifactRepository,
        artifacts.HttpArtifactRepository,
        artifacts.MlflowArtifactsRepository,
    ],
)
def test_repositories_keep_the_interface_signatures(cls: type[ArtifactRepository]) -> None:
    interfaces = [ArtifactRepository]
    if issubclass(cls, artifacts.MultipartUploadRepository):
        interfaces.append(artifacts.MultipartUploadRepository)  # type: ignore[arg-type]
    for interface in interfaces:
        for name in interface.__abstractmethods__:
            base = inspect.signature(getattr(interface, name))
            own = inspect.signature(getattr(cls, name))
            assert list(own.parameters) == list(base.parameters), name
            for param in base.parameters.values():
                assert own.parameters[param.name].default == param.default, name


def _run_isolated(code: str) -> str:
    src = Path(artifacts.__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout.strip()


def test_import_is_light() -> None:
    code = f"import sys, mltrail.artifacts\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    assert _run_isolated(code) == "[]"


def test_text_and_json_writers_stay_light(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from mltrail.artifacts._serialize import write_dict, write_text\n"
        f"write_text('hi', {str(tmp_path / 'a.txt')!r})\n"
        f"write_dict({{'a': 1}}, {str(tmp_path / 'a.json')!r})\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    assert _run_isolated(code) == "[]"
    assert (tmp_path / "a.json").read_text() == '{\n  "a": 1\n}'


def test_mlflow_helpers_come_from_the_tracking_layer_on_first_use() -> None:
    code = (
        "import sys, mltrail.artifacts\n"
        "print('mltrail.tracking._artifact_helpers' in sys.modules)\n"
        "from mltrail.artifacts import download_artifacts\n"
        "print(download_artifacts.__module__, mltrail.artifacts.load_text.__module__)"
    )
    assert _run_isolated(code).splitlines() == [
        "False",
        "mltrail.tracking._artifact_helpers mltrail.tracking._artifact_helpers",
    ]
