"""Differential recordings of XGBoost and LightGBM autologging: MLflow's and mltrail's.

:func:`recordings` runs ``_gbm_script.py`` (every scenario, each in its own experiment) once
under the real ``mlflow`` and once under ``mltrail``, in two subprocesses at the same time
(the two cannot patch one framework in one process), each on its own SQLite store, and keeps
the dumps for the session: the XGBoost and LightGBM test modules share them (pytest-xdist
workers too, through a file in the session's shared temporary folder).
:func:`assert_same_recording` compares one scenario's dumps.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import importlib.util
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sklearn.metrics

import mltrail

SCRIPT = Path(__file__).with_name("_gbm_script.py")
SCENARIOS = ("xgb_native", "xgb_sklearn", "lgb_native", "lgb_sklearn")
SRC = str(Path(mltrail.__file__).resolve().parent.parent)

#: Tags of the run context (who, where from), not of autologging.
_CONTEXT_TAG_PREFIXES = ("mlflow.source.", "mltrail.source.", "mlflow.user")


def _run(which: str, directory: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, env.get("PYTHONPATH")]))
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", PYTHONWARNINGS="ignore")
    # MLflow's pip-requirements probe is skipped by the script (_mlflow_requirements.py)
    for var in ("MLFLOW_TRACKING_URI", "MLTRAIL_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME"):
        env.pop(var, None)
    work = directory / which
    work.mkdir(exist_ok=True)
    uri = f"sqlite:///{work / 'store.db'}"
    command = [sys.executable, str(SCRIPT), which, uri, str(work / "dump.json"), *SCENARIOS]
    return subprocess.Popen(
        command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


@functools.cache
def recordings(shared: Path | None = None) -> dict[str, dict[str, Any]]:
    """{"mlflow": {scenario: dump}, "mltrail": {scenario: dump}}, made once per process, or
    once per test session when pytest-xdist workers pass their *shared* directory."""
    if importlib.util.find_spec("mlflow") is None:
        pytest.skip("the differential tests need mlflow (a test dependency)")
    if shared is None:
        directory = Path(tempfile.mkdtemp(prefix="mltrail-gbm-autolog-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        return _record(directory)
    directory = shared / "gbm-autolog"
    directory.mkdir(exist_ok=True)
    with open(directory / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker records, the others read
        done = directory / "recordings.json"
        if not done.exists():
            done.write_text(json.dumps(_record(directory)))
        result: dict[str, dict[str, Any]] = json.loads(done.read_text())
    return result


def _record(directory: Path) -> dict[str, dict[str, Any]]:
    processes = {which: _run(which, directory) for which in ("mlflow", "mltrail")}
    result: dict[str, dict[str, Any]] = {}
    for which, process in processes.items():
        output, _ = process.communicate(timeout=280)
        if process.returncode != 0:
            pytest.fail(f"the {which} side failed:\n{output.decode(errors='replace')[-4000:]}")
        result[which] = json.loads((directory / which / "dump.json").read_text())
    return result


def _tag_keys(tags: dict[str, str]) -> set[str]:
    return {k for k in tags if not k.startswith(_CONTEXT_TAG_PREFIXES)}


def _inputs(run: dict[str, Any]) -> list[tuple[Any, ...]]:
    keys = ("context", "name", "source_type", "schema", "profile")
    return sorted(tuple(i[k] for k in keys) for i in run["inputs"])


def _digest_groups(run: dict[str, Any]) -> list[list[tuple[Any, ...]]]:
    """Which inputs share a digest (mltrail's digests are its own: see mltrail.data)."""
    groups: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for i in run["inputs"]:
        groups[i["digest"]].append((i["context"], i["name"], i["profile"]))
    return sorted(sorted(g) for g in groups.values())


def model_files(dump: dict[str, Any]) -> list[str]:
    """The files of the run's logged model "model" (none when no model was logged)."""
    for model in dump["models"]:
        if model["name"] == "model":
            return sorted(p.removeprefix("artifacts/") for p in model["artifacts"])
    return []


def _logged_models(dump: dict[str, Any]) -> list[dict[str, Any]]:
    """The logged models, their linked metric values rounded for comparison."""
    models = json.loads(json.dumps(dump["models"]))
    for model in models:
        model.pop("artifacts")
        model["metrics"] = [[key, round(value, 6)] for key, value in model["metrics"]]
    return sorted(models, key=lambda m: str(m["name"]))


def _mlmodel(dump: dict[str, Any]) -> Any:
    """The model's flavors, signature and input example.  ``skops_trusted_types`` is the
    LightGBM flavor's own list (a matter of that flavor's save, not of autologging)."""
    spec = dump["mlmodel"]
    if spec is None:
        return None
    for conf in spec["flavors"].values():
        conf.pop("skops_trusted_types", None)
    return spec


def assert_same_recording(recorded: dict[str, dict[str, Any]], scenario: str) -> dict[str, Any]:
    """Assert that mltrail recorded what MLflow did in *scenario*; returns mltrail's run."""
    expected, actual = (recorded[which][scenario] for which in ("mlflow", "mltrail"))
    assert len(actual["runs"]) == len(expected["runs"]) == 1
    ref, run = expected["runs"][0], actual["runs"][0]
    assert run["status"] == ref["status"] == "FINISHED"
    assert run["params"] == ref["params"]
    assert sorted(run["metrics"]) == sorted(ref["metrics"])
    for key, history in ref["metrics"].items():
        steps = [step for step, _ in history]
        assert [step for step, _ in run["metrics"][key]] == steps, key
        values = [value for _, value in run["metrics"][key]]
        assert values == pytest.approx([value for _, value in history], rel=1e-6), key
    assert _tag_keys(run["tags"]) == _tag_keys(ref["tags"])
    assert run["tags"]["mlflow.autologging"] == ref["tags"]["mlflow.autologging"]
    assert run["artifacts"] == ref["artifacts"]
    assert model_files(actual) == model_files(expected)
    # MLflow 3 makes the model before training: no params, each iteration's values linked.
    assert _logged_models(actual) == _logged_models(expected)
    assert _mlmodel(actual) == _mlmodel(expected)
    assert _inputs(run) == _inputs(ref)
    assert _digest_groups(run) == _digest_groups(ref)
    return dict(run)


#: What the integrations patch on a boosting library: training, its data class (the input
#: example), the scikit-learn API's fit and what is logged after it.
PATCHED = ("train", "__init__", "fit", "predict", "predict_proba", "score")


def patchable_attributes(
    framework: ModuleType, data_class: type, model_base: type
) -> dict[str, Any]:
    """Every attribute autologging may replace for *framework*, looked at raw: the library,
    its scikit-learn module, its data class, its estimators and scikit-learn's metrics."""
    owners: dict[str, Any] = {
        framework.__name__: framework,
        f"{framework.__name__}.sklearn": framework.sklearn,
        data_class.__name__: data_class,
    }
    owners.update({cls.__name__: cls for cls in (model_base, *model_base.__subclasses__())})
    found = {
        f"{name}.{attr}": inspect.getattr_static(owner, attr, None)
        for name, owner in owners.items()
        for attr in PATCHED
    }
    found.update(
        {f"sklearn.metrics.{n}": vars(sklearn.metrics)[n] for n in sklearn.metrics.__all__}
    )
    return found
