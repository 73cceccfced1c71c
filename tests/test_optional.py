"""A missing optional package is one line naming the extra to install, at every seam.

Absence is simulated by putting ``None`` in ``sys.modules`` for the package and its submodules
(an import then fails with ``ModuleNotFoundError``, as when it is not installed).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import mltrail as mlflow
from mltrail import MlflowClient
from mltrail._exceptions import MissingDependency, MltrailError
from mltrail._optional import OPTIONAL, missing_dependency, require
from mltrail.cli import cli

pytestmark = pytest.mark.real_password_hasher  # a missing argon2 is among the cases


def _block(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    for name in names:
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            monkeypatch.setitem(sys.modules, key, None)
        monkeypatch.setitem(sys.modules, name, None)


def _model_dir(tmp_path: Path, loader: str, flavor: str, conf: str) -> str:
    """A model folder whose MLmodel names *flavor* (the files are never read: the framework
    is missing before that)."""
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "MLmodel").write_text(
        f"flavors:\n  python_function:\n    loader_module: {loader}\n    data: data\n"
        f"  {flavor}:\n{conf}"
    )
    (tmp_path / "model" / "data").write_bytes(b"not read")
    return str(tmp_path / "model")


def _postgres(tmp_path: Path) -> None:
    MlflowClient("postgresql://nobody@127.0.0.1:1/none").search_experiments()


def _mysql(tmp_path: Path) -> None:
    MlflowClient("mysql://nobody@127.0.0.1:1/none").search_experiments()


def _s3(tmp_path: Path) -> None:
    from mltrail.artifacts import get_artifact_repository

    # A fresh endpoint: S3 clients are cached per configuration.
    endpoint = f"http://127.0.0.1:1/{uuid.uuid4().hex}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLFLOW_S3_ENDPOINT_URL", endpoint)
        get_artifact_repository("s3://bucket/path").list_artifacts()


def _system_metrics(tmp_path: Path) -> None:
    mlflow.start_run(log_system_metrics=True)


def _log_image(tmp_path: Path) -> None:
    import numpy as np

    with mlflow.start_run():
        mlflow.log_image(np.zeros((2, 2, 3), dtype=np.uint8), "image.png")


def _load_image(tmp_path: Path) -> None:
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    mlflow.artifacts.load_image(str(tmp_path / "image.png"))


def _parquet(tmp_path: Path) -> None:
    from mltrail.serving import parse_parquet_input

    parse_parquet_input(b"PAR1")


def _skops(tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    import mltrail.sklearn

    estimator = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    # Asked for by name (the default falls back to cloudpickle: tests/models/test_sklearn.py).
    mltrail.sklearn.save_model(
        estimator, str(tmp_path / "m"), serialization_format="skops", pip_requirements=["sklearn"]
    )


def _skops_load(tmp_path: Path) -> None:
    import mltrail.pyfunc

    conf = "    pickled_model: data\n    serialization_format: skops\n"
    mltrail.pyfunc.load_model(_model_dir(tmp_path, "mlflow.sklearn", "sklearn", conf))


def _sklearn(tmp_path: Path) -> None:
    import mltrail.pyfunc

    conf = "    pickled_model: data\n    serialization_format: cloudpickle\n"
    mltrail.pyfunc.load_model(_model_dir(tmp_path, "mlflow.sklearn", "sklearn", conf))


def _xgboost(tmp_path: Path) -> None:
    import mltrail.xgboost

    conf = "    data: data\n    model_class: xgboost.core.Booster\n"
    mltrail.xgboost.load_model(_model_dir(tmp_path, "mlflow.xgboost", "xgboost", conf))


def _xgboost_pyfunc(tmp_path: Path) -> None:
    import mltrail.pyfunc

    conf = "    data: data\n    model_class: xgboost.core.Booster\n"
    mltrail.pyfunc.load_model(_model_dir(tmp_path, "mlflow.xgboost", "xgboost", conf))


def _lightgbm(tmp_path: Path) -> None:
    import mltrail.lightgbm

    conf = "    data: data\n    model_class: lightgbm.basic.Booster\n"
    mltrail.lightgbm.load_model(_model_dir(tmp_path, "mlflow.lightgbm", "lightgbm", conf))


def _catboost(tmp_path: Path) -> None:
    import mltrail.pyfunc

    conf = "    data: data\n    model_type: CatBoostClassifier\n    save_format: cbm\n"
    mltrail.pyfunc.load_model(_model_dir(tmp_path, "mlflow.catboost", "catboost", conf))


def _catboost_save(tmp_path: Path) -> None:
    import mltrail.catboost

    mltrail.catboost.save_model(object(), str(tmp_path / "m"), pip_requirements=[])


def _keras(tmp_path: Path) -> None:
    import mltrail.pyfunc

    conf = "    data: data\n    keras_backend: torch\n    save_exported_model: false\n"
    mltrail.pyfunc.load_model(_model_dir(tmp_path, "mlflow.keras", "keras", conf))


def _keras_save(tmp_path: Path) -> None:
    import mltrail.keras

    mltrail.keras.save_model(object(), str(tmp_path / "m"), pip_requirements=[])


def _transformers(tmp_path: Path) -> None:
    import mltrail.pyfunc

    conf = "    task: fill-mask\n    model_binary: model\n    pipeline_model_type: BertModel\n"
    mltrail.pyfunc.load_model(_model_dir(tmp_path, "mlflow.transformers", "transformers", conf))


def _transformers_save(tmp_path: Path) -> None:
    import mltrail.transformers

    mltrail.transformers.save_model(object(), str(tmp_path / "m"), pip_requirements=[])


def _onnx(tmp_path: Path) -> None:
    import mltrail.onnx

    mltrail.onnx.load_model(_model_dir(tmp_path, "mlflow.onnx", "onnx", "    data: data\n"))


def _onnxruntime(tmp_path: Path) -> None:
    import mltrail.pyfunc

    mltrail.pyfunc.load_model(_model_dir(tmp_path, "mlflow.onnx", "onnx", "    data: data\n"))


def _torch(tmp_path: Path) -> None:
    import mltrail.pyfunc

    conf = "    model_data: data\n    pytorch_version: 2.4.0\n"
    mltrail.pyfunc.load_model(_model_dir(tmp_path, "mlflow.pytorch", "pytorch", conf))


def _torch_state_dict(tmp_path: Path) -> None:
    import mltrail.pytorch

    (tmp_path / "state_dict.pth").write_bytes(b"not read")
    mltrail.pytorch.load_state_dict(str(tmp_path))


def _tensorboard(tmp_path: Path) -> None:
    from mltrail.importers._tensorboard import TensorBoardSource

    (tmp_path / "logs" / "run").mkdir(parents=True)
    (tmp_path / "logs" / "run" / "events.out.tfevents.1.host").write_bytes(b"")
    TensorBoardSource(tmp_path / "logs")


def _uv(tmp_path: Path) -> None:
    import shutil

    from mltrail._envs import EnvironmentManager

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shutil, "which", lambda name: None)
        EnvironmentManager.uv_binary()


def _argon2(tmp_path: Path) -> None:
    from mltrail.server.auth._secrets import hash_password

    hash_password("secret")


def _argon2_verify(tmp_path: Path) -> None:
    from mltrail.server.auth._secrets import verify_password

    verify_password("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "secret")


# (modules made missing, what uses them, the extra the message names)
SEAMS: list[tuple[tuple[str, ...], Callable[[Path], Any], str]] = [
    (("psycopg",), _postgres, "postgres"),
    (("pymysql",), _mysql, "mysql"),
    (("boto3", "botocore"), _s3, "s3"),
    (("psutil",), _system_metrics, "system-metrics"),
    (("PIL",), _log_image, "plots"),
    (("PIL",), _load_image, "plots"),
    (("pyarrow",), _parquet, "serving"),
    (("skops",), _skops, "sklearn"),
    (("skops",), _skops_load, "sklearn"),
    (("sklearn",), _sklearn, "sklearn"),
    (("xgboost",), _xgboost, "xgboost"),
    (("xgboost",), _xgboost_pyfunc, "xgboost"),
    (("lightgbm",), _lightgbm, "lightgbm"),
    (("catboost",), _catboost, "catboost"),
    (("catboost",), _catboost_save, "catboost"),
    (("keras",), _keras, "keras"),
    (("keras",), _keras_save, "keras"),
    (("transformers",), _transformers, "transformers"),
    (("transformers",), _transformers_save, "transformers"),
    (("onnx",), _onnx, "onnx"),
    (("onnxruntime",), _onnxruntime, "onnx"),
    (("torch",), _torch, "pytorch"),
    (("torch",), _torch_state_dict, "pytorch"),
    (("uv",), _uv, "serving"),
    (("tensorboard",), _tensorboard, "tensorboard"),
    (("argon2",), _argon2, "auth"),
    (("argon2",), _argon2_verify, "auth"),
]


@pytest.mark.parametrize(
    ("blocked", "use", "extra"), SEAMS, ids=[use.__name__.strip("_") for _, use, _ in SEAMS]
)
def test_a_missing_package_is_one_line_naming_the_extra(
    blocked: tuple[str, ...],
    use: Callable[[Path], Any],
    extra: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _block(monkeypatch, *blocked)
    with pytest.raises(MltrailError) as caught:
        use(tmp_path)
    message = caught.value.message
    assert f"pip install 'mltrail[{extra}]'" in message
    assert OPTIONAL[blocked[0]].package in message
    assert "\n" not in message
    assert "Traceback" not in message


def test_the_error_is_in_the_tree_and_an_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _block(monkeypatch, "psycopg")
    with pytest.raises(MissingDependency) as caught:
        require("psycopg")
    assert isinstance(caught.value, ImportError)
    assert isinstance(caught.value, MltrailError)
    assert str(caught.value) == "PostgreSQL support needs psycopg: pip install 'mltrail[postgres]'"
    assert caught.value.error_code == "INTERNAL_ERROR"


def test_a_missing_dependency_of_an_optional_package_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    error = missing_dependency(
        ModuleNotFoundError("No module named 'jmespath'", name="jmespath"), "boto3"
    )
    assert error.message == (
        "S3 artifact storage needs boto3: pip install 'mltrail[s3]' (its dependency jmespath is "
        "missing)"
    )


def test_an_unknown_missing_module_keeps_its_own_error() -> None:
    original = ModuleNotFoundError("No module named 'nosuchthing'", name="nosuchthing")
    with pytest.raises(ModuleNotFoundError) as caught:
        missing_dependency(original)
    assert caught.value is original


def test_every_extra_named_exists_in_pyproject() -> None:
    import tomllib

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    for entry in OPTIONAL.values():
        assert entry.extra in extras, entry
        assert any(req.startswith(entry.package) for req in extras[entry.extra]), entry


@pytest.mark.parametrize(
    ("blocked", "args", "extra"),
    [
        (
            "psycopg",
            ["experiments", "search", "--tracking-uri", "postgresql://x@127.0.0.1:1/y"],
            "postgres",
        ),
        (
            "pymysql",
            ["runs", "list", "--experiment-id", "0", "--tracking-uri", "mysql://x@127.0.0.1:1/y"],
            "mysql",
        ),
    ],
)
def test_the_cli_prints_one_line_and_exits_1(
    blocked: str, args: list[str], extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _block(monkeypatch, blocked)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {OPTIONAL[blocked].purpose} needs {blocked}: pip install 'mltrail[{extra}]'\n"
    )
