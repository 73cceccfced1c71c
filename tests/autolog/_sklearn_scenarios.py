"""The scikit-learn scenarios the differential tests record, under MLflow or mltrail.

    python _sklearn_scenarios.py {mlflow|mltrail} TRACKING_URI SUMMARY_JSON

Each scenario runs in its own experiment (named after it); afterwards every run is summarised
with the library's own client (params, metrics, tags, artifact paths, dataset inputs, logged
models) into SUMMARY_JSON, so that the two libraries' records can be compared.
"""

from __future__ import annotations

import importlib
import json
import sys
import warnings
from typing import Any

LIBRARY, TRACKING_URI, SUMMARY = sys.argv[1:4]
warnings.simplefilter("ignore")
mlflow: Any = importlib.import_module(LIBRARY)
importlib.import_module(f"{LIBRARY}.sklearn")
importlib.import_module(f"{LIBRARY}.artifacts")
if LIBRARY == "mlflow":
    from _mlflow_requirements import skip_requirement_inference

    skip_requirement_inference()

import sklearn.metrics  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

mlflow.set_tracking_uri(TRACKING_URI)
mlflow.sklearn.autolog(max_tuning_runs=3, log_input_examples=True)


def logistic_regression_iris() -> None:
    X, y = load_iris(return_X_y=True)
    LogisticRegression(max_iter=300).fit(X, y)


def pipeline_binary() -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:200, :5]
    y = y.iloc[:200]
    pipe = Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression())])
    pipe.fit(X, y)


def linear_regression() -> None:
    X, y = load_diabetes(return_X_y=True)
    sample_weight = [1.0 + (i % 3) for i in range(len(y))]
    LinearRegression().fit(X, y, sample_weight=sample_weight)


def grid_search() -> None:
    X, y = load_iris(return_X_y=True)
    grid = {"C": [0.1, 1.0, 10.0], "fit_intercept": [True, False]}
    GridSearchCV(LogisticRegression(max_iter=300), grid, cv=3).fit(X, y)


def post_training() -> None:
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = LogisticRegression(max_iter=300)
    model.fit(X_train, y_train)
    sklearn.metrics.accuracy_score(y_test, model.predict(X_test))
    y_pred = model.predict(X_test)
    sklearn.metrics.accuracy_score(y_test, y_pred)
    sklearn.metrics.f1_score(y_test, y_pred, average="macro")
    model.score(X_test, y_test)
    model.score(X_train, y_train)
    if LIBRARY == "mltrail":
        mlflow.flush()


SCENARIOS = [
    logistic_regression_iris,
    pipeline_binary,
    linear_regression,
    grid_search,
    post_training,
]


def artifact_paths(client: Any, run_id: str, path: str | None = None) -> list[str]:
    paths: list[str] = []
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            paths.extend(artifact_paths(client, run_id, info.path))
        else:
            paths.append(info.path)
    return paths


#: Metrics that are timings (their values differ from run to run).
TIMINGS = {"mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"}


def logged_models(experiment_id: str) -> dict[str, dict[str, Any]]:
    """The runs' models, MLflow 3's logged models ({source run: {name: what it holds}}): its
    files, params, and the metric values linked to it (key, step, measured on a dataset, from
    the model's own run, value)."""
    found: dict[str, dict[str, Any]] = {}
    for model in mlflow.search_logged_models(experiment_ids=[experiment_id], output_format="list"):
        files = sorted(
            f.path for f in mlflow.artifacts.list_artifacts(artifact_uri=model.artifact_location)
        )
        metrics = sorted(
            [
                m.key,
                m.step,
                m.dataset_name is not None,
                m.run_id == model.source_run_id,
                None if m.key in TIMINGS else round(m.value, 9),
            ]
            for m in model.metrics or []
        )
        found.setdefault(model.source_run_id, {})[model.name] = {
            "files": files,
            "params": model.params,
            "metrics": metrics,
        }
    return found


def summarise() -> dict[str, Any]:
    client = mlflow.MlflowClient()
    summary: dict[str, Any] = {}
    for scenario in SCENARIOS:
        experiment = client.get_experiment_by_name(scenario.__name__)
        models = logged_models(experiment.experiment_id)
        runs = []
        for run in client.search_runs([experiment.experiment_id]):
            run_id = run.info.run_id
            text: dict[str, Any] = {}
            paths = artifact_paths(client, run_id)
            if "metric_info.json" in paths:
                text["metric_info.json"] = json.loads(
                    mlflow.artifacts.load_text(f"runs:/{run_id}/metric_info.json")
                )
            runs.append(
                {
                    "run_id": run_id,
                    "status": run.info.status,
                    "params": run.data.params,
                    "metrics": run.data.metrics,
                    "tags": run.data.tags,
                    "artifacts": sorted(paths),
                    "text": text,
                    "inputs": sorted(
                        [
                            d.dataset.name,
                            d.dataset.digest,
                            d.dataset.source_type,
                            {t.key: t.value for t in d.tags}.get("mlflow.data.context"),
                        ]
                        for d in run.inputs.dataset_inputs
                    ),
                    "models": models.get(run_id, {}),
                }
            )
        summary[scenario.__name__] = runs
    return summary


for scenario in SCENARIOS:
    mlflow.set_experiment(scenario.__name__)
    scenario()
# mltrail draws the training plots and ends its runs in the background: the reads below
# wait for that, as every read through the client does.
with open(SUMMARY, "w") as out:
    json.dump(summary if (summary := summarise()) else {}, out, indent=1, sort_keys=True)
