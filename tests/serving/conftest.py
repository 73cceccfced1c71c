"""Fixtures of the serving tests: real saved models, a tracking store with a registry, and
``mltrail models serve`` run as a real uvicorn subprocess on a free 127.0.0.1 port (started
and stopped by tests/_live_server.py)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests._live_server import ServerProcess, find_free_port, mltrail_command, start_process

# A custom pyfunc model, saved with its code (code_paths) so that a server process loads it.
MODEL_CODE = '''
import time

import pandas as pd

from mltrail.pyfunc import PythonModel


class ScoringTestModel(PythonModel):
    """total = x * factor + y; params choose the output's shape, a delay or a failure."""

    def predict(self, context, model_input, params=None):
        params = params or {}
        if params.get("sleep"):
            time.sleep(params["sleep"])
        if params.get("fail"):
            raise ValueError("the model refused this input")
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        total = frame["x"] * params.get("factor", 1.0) + frame["y"]
        kind = params.get("output", "series")
        if kind == "frame":
            return pd.DataFrame({"total": total, "twice": total * 2})
        if kind == "array":
            return total.to_numpy()
        if kind == "dict":
            return {"total": total.to_numpy(), "count": len(total)}
        if kind == "list":
            return total.tolist()
        return total
'''

STARTUP_TIMEOUT = 120.0  # the machine is shared: a loaded model can take a while to start


# A served model is a ServerProcess of tests/_live_server.py (url, process, log, output()).
Server = ServerProcess


def cli_command(*args: str) -> list[str]:
    """``mltrail ARGS`` run by this interpreter."""
    return mltrail_command(*args)


def child_env(tracking_uri: str | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MLTRAIL_TRACKING_URI", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    if tracking_uri:
        env["MLTRAIL_TRACKING_URI"] = tracking_uri
    env.update(extra)
    return env


@contextlib.contextmanager
def run_server(
    args: list[str], log_dir: Path, env: dict[str, str], timeout: float = STARTUP_TIMEOUT
) -> Iterator[Server]:
    """Start ``mltrail models serve ARGS -p <free port>``; wait for /ping; stop it at the end."""
    port = find_free_port()
    command = cli_command("models", "serve", *args, "-h", "127.0.0.1", "-p", str(port))
    server = start_process(
        command, f"http://127.0.0.1:{port}", ready="/ping", cwd=log_dir, env=env, timeout=timeout
    )
    try:
        yield server
    finally:
        server.stop()


def _import_model_module(folder: Path) -> Any:
    path = folder / "scoring_test_models.py"
    path.write_text(MODEL_CODE, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("scoring_test_models", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["scoring_test_models"] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Models:
    """Saved models and the tracking store holding their logged and registered copies."""

    root: Path
    tracking_uri: str
    pyfunc_dir: Path
    sklearn_dir: Path
    sklearn_run_uri: str
    registered_name: str
    features: list[str]


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Models]:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import mltrail
    import mltrail.pyfunc
    import mltrail.sklearn
    from mltrail.models import (
        ColSpec,
        ModelSignature,
        ParamSchema,
        ParamSpec,
        Schema,
        infer_signature,
    )
    from mltrail.models._env import pinned

    root = tmp_path_factory.mktemp("serving-models")
    module = _import_model_module(root)
    signature = ModelSignature(
        inputs=Schema([ColSpec("double", "x"), ColSpec("long", "y")]),
        params=ParamSchema(
            [
                ParamSpec("factor", "double", 1.0),
                ParamSpec("sleep", "double", 0.0),
                ParamSpec("fail", "boolean", False),
                ParamSpec("output", "string", "series"),
            ]
        ),
    )
    pyfunc_dir = root / "pyfunc-model"
    mltrail.pyfunc.save_model(
        pyfunc_dir,
        python_model=module.ScoringTestModel(),
        code_paths=[str(root / "scoring_test_models.py")],
        signature=signature,
        pip_requirements=[pinned("cloudpickle"), pinned("pandas"), pinned("numpy")],
    )

    rng = np.random.default_rng(0)
    features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    X = pd.DataFrame(rng.normal(size=(60, 4)), columns=features)
    y = (X["petal_length"] + X["petal_width"] > 0).astype(int)
    classifier = LogisticRegression().fit(X, y)
    sk_requirements = [pinned(d) for d in ("scikit-learn", "skops", "numpy", "scipy", "pandas")]
    sklearn_dir = root / "sklearn-model"
    mltrail.sklearn.save_model(
        classifier,
        sklearn_dir,
        signature=infer_signature(X, classifier.predict(X)),
        input_example=X.head(2),
        pip_requirements=sk_requirements,
    )

    tracking_uri = f"sqlite:///{root / 'store.db'}"
    mltrail.set_tracking_uri(tracking_uri)
    try:
        # An explicit experiment: the fixture must not depend on what the process inherited.
        experiment_id = mltrail.MlflowClient().create_experiment("serving-tests")
        with mltrail.start_run(experiment_id=experiment_id) as run:
            mltrail.sklearn.log_model(
                classifier,
                name="model",
                signature=infer_signature(X, classifier.predict(X)),
                pip_requirements=sk_requirements,
            )
        run_uri = f"runs:/{run.info.run_id}/model"
        name = "iris-classifier"
        mltrail.register_model(run_uri, name)
        mltrail.register_model(run_uri, name)
        mltrail.MlflowClient().set_registered_model_alias(name, "champion", 1)
    finally:
        mltrail.set_tracking_uri(None)
    yield Models(root, tracking_uri, pyfunc_dir, sklearn_dir, run_uri, name, features)
    sys.modules.pop("scoring_test_models", None)


@pytest.fixture(scope="session")
def pyfunc_server(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The custom pyfunc model served with a 3 s timeout and a 50,000-byte body limit."""
    log_dir = tmp_path_factory.mktemp("pyfunc-server")
    args = ["-m", str(models.pyfunc_dir), "--timeout", "3", "--max-body-size", "50000"]
    with run_server(args, log_dir, child_env()) as server:
        yield server
