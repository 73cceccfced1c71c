"""One training scenario under autologging, run by `mlflow` or `mltrail`; dumps what was logged.

Usage: python _gbm_script.py <mlflow|mltrail> <tracking_uri> <out.json> <scenario>...
Each scenario runs in its own experiment (named as the scenario); the same script runs under
both libraries and the differential tests compare the dumps.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import warnings
from typing import Any

import numpy as np
import sklearn.metrics


def data(rows: int = 500) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 5))
    y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] + rng.normal(scale=0.8, size=rows) > 0).astype(int)
    cut = rows * 4 // 5
    return x[:cut], x[cut:], y[:cut], y[cut:]


def xgb_native(lib: object) -> None:
    import xgboost as xgb

    lib.xgboost.autolog(log_input_examples=True)
    x_train, x_valid, y_train, y_valid = data()
    dtrain = xgb.DMatrix(x_train, label=y_train)
    dvalid = xgb.DMatrix(x_valid, label=y_valid)
    params = {
        "objective": "binary:logistic",
        "eval_metric": ["logloss", "error"],
        "max_depth": 2,
        "eta": 0.3,
        "nthread": 1,
        "seed": 0,
    }
    xgb.train(
        params,
        dtrain,
        num_boost_round=40,
        evals=[(dtrain, "train"), (dvalid, "validation")],
        early_stopping_rounds=3,
        verbose_eval=False,
    )


def xgb_sklearn(lib: object) -> None:
    import xgboost as xgb

    lib.xgboost.autolog()
    x_train, x_valid, y_train, y_valid = data()
    model = xgb.XGBClassifier(
        n_estimators=15, max_depth=2, n_jobs=1, random_state=0, eval_metric="logloss"
    )
    model.fit(x_train, y_train, eval_set=[(x_valid, y_valid)], verbose=False)
    # After training: the evaluation dataset and the score (MLflow's post-training logging)
    predictions = model.predict(x_valid)
    model.score(x_valid, y_valid)
    sklearn.metrics.accuracy_score(y_valid, predictions)  # post-training: accuracy_score_x_valid


def lgb_native(lib: object) -> None:
    import lightgbm as lgb

    lib.lightgbm.autolog(log_input_examples=True)
    x_train, x_valid, y_train, y_valid = data()
    train_set = lgb.Dataset(x_train, label=y_train)
    valid_set = lgb.Dataset(x_valid, label=y_valid, reference=train_set)
    params = {
        "objective": "binary",
        "metric": ["binary_logloss", "auc"],
        "num_leaves": 4,
        "learning_rate": 0.3,
        "num_threads": 1,
        "seed": 0,
        "verbose": -1,
        "deterministic": True,
    }
    lgb.train(
        params,
        train_set,
        num_boost_round=40,
        valid_sets=[train_set, valid_set],
        valid_names=["train", "valid"],
        callbacks=[lgb.early_stopping(3, verbose=False)],
    )


def lgb_sklearn(lib: object) -> None:
    import lightgbm as lgb

    lib.lightgbm.autolog()
    x_train, x_valid, y_train, y_valid = data()
    model = lgb.LGBMClassifier(
        n_estimators=15, num_leaves=4, n_jobs=1, random_state=0, verbose=-1, deterministic=True
    )
    model.fit(x_train, y_train, eval_set=[(x_valid, y_valid)])
    predictions = model.predict(x_valid)
    model.score(x_valid, y_valid)
    sklearn.metrics.accuracy_score(y_valid, predictions)  # post-training: accuracy_score_x_valid


SCENARIOS = {f.__name__: f for f in (xgb_native, xgb_sklearn, lgb_native, lgb_sklearn)}


def _files(client: Any, run_id: str, path: str | None) -> list[str]:
    files: list[str] = []
    for f in client.list_artifacts(run_id, path):
        files.extend(_files(client, run_id, f.path) if f.is_dir else [f.path])
    return files


def dump(lib: object, scenario: str) -> dict[str, object]:
    client = lib.MlflowClient()
    experiment = client.get_experiment_by_name(scenario)
    runs = client.search_runs([experiment.experiment_id])
    out = []
    for run in runs:
        run_id = run.info.run_id
        metrics = {
            key: [(m.step, m.value) for m in client.get_metric_history(run_id, key)]
            for key in run.data.metrics
        }
        artifacts = _files(client, run_id, None)
        inputs = [
            {
                "name": d.dataset.name,
                "digest": d.dataset.digest,
                "source_type": d.dataset.source_type,
                "schema": d.dataset.schema,
                "profile": d.dataset.profile,
                "context": {t.key: t.value for t in d.tags}.get("mlflow.data.context"),
            }
            for d in (run.inputs.dataset_inputs if run.inputs else [])
        ]
        out.append(
            {
                "status": run.info.status,
                "params": run.data.params,
                "tags": run.data.tags,
                "metrics": metrics,
                "artifacts": sorted(artifacts),
                "inputs": inputs,
            }
        )
    models = []
    for m in lib.search_logged_models([experiment.experiment_id], output_format="list"):
        model_artifacts = sorted(
            f.path for f in lib.artifacts.list_artifacts(artifact_uri=m.artifact_location)
        )
        models.append(
            {
                "name": m.name,
                "source_run_id": m.source_run_id is not None,
                "artifacts": model_artifacts,
                "params": m.params,
                "status": str(m.status)
                .replace("LoggedModelStatus.", "")
                .replace("LOGGED_MODEL_", ""),
                "tag_keys": sorted(k for k in m.tags if not k.startswith("mlflow.source.")),
                # The values linked to the model: (key, step, on a dataset), value.
                "metrics": sorted(
                    [[x.key, x.step, x.dataset_name is not None], x.value] for x in m.metrics or []
                ),
            }
        )
    mlmodel = None
    if models:
        location = next(
            iter(lib.search_logged_models([experiment.experiment_id], output_format="list"))
        ).artifact_location
        mlmodel = lib.artifacts.download_artifacts(artifact_uri=f"{location}/MLmodel")
    return {"runs": out, "models": models, "mlmodel": _mlmodel(mlmodel) if mlmodel else None}


def _mlmodel(path: str) -> dict[str, Any]:
    """What the model's MLmodel says about its flavors, signature and input example."""
    import yaml

    with open(path) as f:
        spec = yaml.safe_load(f)
    flavors = {
        name: {k: v for k, v in conf.items() if "version" not in k and k not in ("env", "code")}
        for name, conf in spec["flavors"].items()
    }
    return {
        "flavors": flavors,
        "signature": spec.get("signature"),
        "input_example": (spec.get("saved_input_example_info") or {}).get("type"),
    }


def main() -> None:
    which, uri, out, *scenarios = sys.argv[1:]
    warnings.simplefilter("ignore")
    lib = importlib.import_module(which)
    for sub in ("xgboost", "lightgbm", "artifacts"):
        importlib.import_module(f"{which}.{sub}")
    if which == "mlflow":
        from _mlflow_requirements import skip_requirement_inference

        skip_requirement_inference()
    lib.set_tracking_uri(uri)
    dumps = {}
    for scenario in scenarios:
        t0 = time.perf_counter()
        lib.set_experiment(scenario)
        SCENARIOS[scenario](lib)
        t1 = time.perf_counter()
        dumps[scenario] = dump(lib, scenario)
        print(scenario, round(t1 - t0, 2), round(time.perf_counter() - t1, 2), file=sys.stderr)
    with open(out, "w") as f:
        json.dump(dumps, f, indent=1, default=str)


if __name__ == "__main__":
    main()
