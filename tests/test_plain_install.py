"""A plain install runs the seeds: ``pip install mltrail`` plus the user's own framework
(``pip install scikit-learn``), no extra, in a fresh virtual environment.

The environment is built once per set of inputs (pyproject.toml, this Python, the packages
the user adds) and kept under ``~/.cache/mltrail-tests`` (``MLTRAIL_TEST_CACHE`` moves it);
mltrail itself is reinstalled from this checkout, without dependencies, on every run, so the
test runs the current code against the dependencies a plain install of it brings.  The
installs go through ``uv pip`` (the dev extra brings uv): the same requirements resolved from
the same metadata as pip's, in a second or two where pip takes half a minute.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail._envs import EnvironmentManager, env_lock

ROOT = Path(__file__).resolve().parents[1]
USER_PACKAGES = ("scikit-learn",)  # what the user installs beside mltrail

SEEDS_SNIPPET = textwrap.dedent(
    """
    import json

    import numpy as np
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    import mltrail as mlflow
    from mltrail.models.signature import infer_signature

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.random(80), "b": rng.random(80)})
    y = (X["a"] + X["b"] > 1).astype(int).to_numpy()

    mlflow.set_experiment("seeds")
    with mlflow.start_run() as run:
        mlflow.log_param("n_estimators", 5)
        model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
        y_pred = model.predict(X)
        mlflow.log_metric("accuracy", float((y_pred == y).mean()))
        signature = infer_signature(X, y_pred)
        mlflow.sklearn.log_model(model, "model", signature=signature)

    client = mlflow.tracking.MlflowClient()
    experiment = mlflow.get_experiment_by_name("seeds")
    best = client.search_runs(
        [experiment.experiment_id], order_by=["metrics.accuracy DESC"], max_results=1
    )[0]
    loaded = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    predictions = loaded.predict(X)
    meta = mlflow.models.Model.load(f"runs:/{run.info.run_id}/model")
    print(json.dumps({
        "best_run": best.info.run_id == run.info.run_id,
        "params": best.data.params,
        "predictions_match": bool((np.asarray(predictions) == y_pred).all()),
        "format": meta.flavors["sklearn"]["serialization_format"],
        "signature_inputs": [c["name"] for c in meta.signature.inputs.to_dict()],
    }))
    """
)


def _cache_root() -> Path:
    configured = os.environ.get("MLTRAIL_TEST_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "mltrail-tests"


def _inputs_key() -> str:
    """A digest of what decides the environment's packages."""
    digest = hashlib.sha256()
    digest.update((ROOT / "pyproject.toml").read_bytes())
    digest.update(f"\0{sys.version}\0{sys.platform}\0{' '.join(USER_PACKAGES)}".encode())
    return digest.hexdigest()[:16]


def _python(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def _pip(env_dir: Path, *args: str) -> None:
    env = {**os.environ, "MLTRAIL_SKIP_UI_BUILD": "1"}
    uv = EnvironmentManager.uv_binary()
    command = [uv, "pip", "install", "--quiet", "--python", str(_python(env_dir)), *args]
    proc = subprocess.run(
        ["nice", "-n", "19", *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
        check=False,
    )
    assert proc.returncode == 0, f"uv pip install {' '.join(args)}:\n{proc.stderr[-5000:]}"


def _build(env_dir: Path) -> None:
    """A fresh environment: a plain install of mltrail and the user's packages."""
    if env_dir.exists():
        shutil.rmtree(env_dir)
    uv = EnvironmentManager.uv_binary()
    subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(env_dir)], check=True, timeout=300
    )
    _pip(env_dir, str(ROOT))
    _pip(env_dir, *USER_PACKAGES)
    (env_dir / ".complete").write_text(_inputs_key())


@pytest.fixture
def plain_env() -> Iterator[Path]:
    """The cached environment with this checkout's mltrail installed, locked while used."""
    env_dir = _cache_root() / f"plain-install-{_inputs_key()}"
    with env_lock(env_dir.with_suffix(".lock")):
        if not (env_dir / ".complete").exists():
            _build(env_dir)
        else:
            _pip(env_dir, "--no-deps", "--reinstall", str(ROOT))
        yield env_dir


def _run(env_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(cwd)}
    return subprocess.run(
        [str(_python(env_dir)), "-I", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.timeout(3000)
def test_a_plain_install_runs_the_seeds_snippet(plain_env: Path, tmp_path: Path) -> None:
    installed = _run(
        plain_env,
        tmp_path,
        "-c",
        "import importlib.util as u, mltrail, sklearn; "
        "print(mltrail.__file__); "
        "print([m for m in ('skops', 'tensorboard', 'boto3', 'psycopg') if u.find_spec(m)])",
    )
    assert installed.returncode == 0, installed.stderr
    where, extras = installed.stdout.splitlines()
    assert where.startswith(str(plain_env))  # the environment's copy, not this checkout
    assert extras == "[]"  # no extra came with the plain install

    (tmp_path / "seeds.py").write_text(SEEDS_SNIPPET)
    proc = _run(plain_env, tmp_path, "seeds.py")
    assert proc.returncode == 0, proc.stderr[-5000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {
        "best_run": True,
        "params": {"n_estimators": "5"},
        "predictions_match": True,
        "format": "cloudpickle",
        "signature_inputs": ["a", "b"],
    }
    # One line says what was done and what to install for the safe format.
    hints = [line for line in proc.stderr.splitlines() if "mltrail[sklearn]" in line]
    assert hints == [
        "skops is not installed: saving the scikit-learn model with cloudpickle (loading it "
        "runs pickle); for the safe skops format: pip install 'mltrail[sklearn]'"
    ], proc.stderr


EVALUATE_SNIPPET = textwrap.dedent(
    """
    import json

    import numpy as np
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    import mltrail as mlflow

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.random(80), "b": rng.random(80)})
    y = (X["a"] + X["b"] > 1).astype(int)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(RandomForestClassifier(n_estimators=5).fit(X, y), "model")
        result = mlflow.evaluate(info.model_uri, X.assign(y=y), targets="y",
                                 model_type="classifier")
    print(json.dumps({"metrics": sorted(result.metrics), "artifacts": sorted(result.artifacts)}))
    """
)


@pytest.mark.slow
@pytest.mark.timeout(3000)
def test_a_plain_install_evaluates_and_names_the_plots_extra(
    plain_env: Path, tmp_path: Path
) -> None:
    (tmp_path / "evaluate.py").write_text(EVALUATE_SNIPPET)
    proc = _run(plain_env, tmp_path, "evaluate.py")
    assert proc.returncode == 0, proc.stderr[-5000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "roc_auc" in result["metrics"]
    assert "accuracy_score" in result["metrics"]
    assert result["artifacts"] == []  # no Pillow: no plots
    hints = [line for line in proc.stderr.splitlines() if "mltrail[plots]" in line]
    assert hints == [
        "The evaluation plots are not logged: they need pillow: pip install 'mltrail[plots]'"
    ], proc.stderr
