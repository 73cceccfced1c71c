"""One script, run under the real ``mlflow`` and under ``mltrail as mlflow``: the shap flavor
(``log_explanation`` of a linear regression on the diabetes data, as MLflow's
``examples/shap/regression.py`` does; ``log_explainer``, ``load_explainer``, the
python_function model; ``save_explainer`` with and without the underlying model extracted).

Called as ``python _shap_scenario.py <mlflow|mltrail> <tracking uri> <summary.json>``; the
summary holds what each library recorded, with model and run ids replaced by names.  The saved
explainers and the summary plots stay in the working directory (``saved``,
``shap_serialized``, ``model_explanations_shap.png``) for the test to load
with the other library.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import warnings
from typing import Any

import numpy as np
import shap
import yaml
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

library, uri, out = sys.argv[1:4]
mlflow: Any = importlib.import_module("mlflow" if library == "mlflow" else "mltrail")
artifacts: Any = importlib.import_module(f"{library}.artifacts")

mlflow.set_tracking_uri(uri)
mlflow.set_experiment("shap")
X, y = load_diabetes(return_X_y=True, as_frame=True)
X = X.iloc[:50, :4]
y = y.iloc[:50]
model = LinearRegression().fit(X, y)
client = mlflow.MlflowClient()
ids: dict[str, str] = {}


def named(value: Any) -> Any:
    """*value* with every model and run id replaced by its name in the scenario."""
    text = json.dumps(value, sort_keys=True, default=str)
    for name, identifier in ids.items():
        text = text.replace(identifier, f"<{name}>")
    return json.loads(text)


def files(root: str) -> list[str]:
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            found.append(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
    return sorted(found)


def mlmodel(path: str) -> dict[str, Any]:
    with open(os.path.join(path, "MLmodel")) as f:
        content = yaml.safe_load(f)
    flavors = content["flavors"]
    for conf in flavors.values():
        conf.pop("python_version", None)
    return {"flavors": flavors, "signature": content.get("signature")}


def requirement_names(path: str) -> list[str]:
    with open(os.path.join(path, "requirements.txt")) as f:
        lines = [line.strip() for line in f if line.strip()]
    return sorted(line.split("==")[0] for line in lines if line.split("==")[0] != library)


def saved_model(path: str) -> dict[str, Any]:
    return {
        "files": files(path),
        "mlmodel": mlmodel(path),
        "underlying": (
            mlmodel(os.path.join(path, "underlying_model"))
            if os.path.isdir(os.path.join(path, "underlying_model"))
            else None
        ),
        "requirements": requirement_names(path),
    }


summary: dict[str, Any] = {"predictions": model.predict(X).tolist()}
with mlflow.start_run() as run:
    ids["run"] = run.info.run_id
    explanation_uri = mlflow.shap.log_explanation(model.predict, X)
    custom_uri = mlflow.shap.log_explanation(model.predict, X.iloc[:20], artifact_path="small")
    explainer = shap.Explainer(model.predict, X, algorithm="permutation")
    info = mlflow.shap.log_explainer(explainer, name="explainer")
    ids["explainer"] = info.model_id
root = client.get_run(ids["run"]).info.artifact_uri
summary["explanation_uri"] = explanation_uri.replace(root, "<root>")
summary["custom_uri"] = custom_uri.replace(root, "<root>")
summary["artifacts"] = [
    a.path for a in client.list_artifacts(ids["run"], "model_explanations_shap")
]
summary["small_artifacts"] = [a.path for a in client.list_artifacts(ids["run"], "small")]
for path in ("model_explanations_shap", "small"):
    local = artifacts.download_artifacts(run_id=ids["run"], artifact_path=path)
    summary[path] = {
        "base_values": np.load(os.path.join(local, "base_values.npy")).tolist(),
        "shap_values": np.load(os.path.join(local, "shap_values.npy")).tolist(),
    }
    shutil.copy(os.path.join(local, "summary_bar_plot.png"), f"{path}.png")
logged = client.get_logged_model(ids["explainer"])
summary["logged_model"] = {
    "name": logged.name,
    "status": str(logged.status),
    "source_run_id": logged.source_run_id,
}
summary["model_uri"] = info.model_uri
summary["flavors"] = sorted(info.flavors)
summary["logged_files"] = saved_model(artifacts.download_artifacts(info.model_uri))
loaded = mlflow.shap.load_explainer(info.model_uri)
summary["loaded_type"] = type(loaded).__name__
summary["loaded_values"] = loaded(X.iloc[:3]).values.tolist()
pyfunc = mlflow.pyfunc.load_model(info.model_uri)
summary["pyfunc_values"] = np.asarray(pyfunc.predict(X.iloc[:3])).tolist()
summary["raw_model_type"] = type(pyfunc.get_raw_model()).__name__

mlflow.shap.save_explainer(explainer, "saved")
summary["saved"] = saved_model("saved")
mlflow.shap.save_explainer(explainer, "shap_serialized", serialize_model_using_mlflow=False)
summary["shap_serialized"] = saved_model("shap_serialized")
summary["shap_serialized_values"] = mlflow.shap.load_explainer("shap_serialized")(
    X.iloc[:3]
).values.tolist()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    unknown = shap.Explainer(lambda rows: model.predict(rows) * 2, X, algorithm="permutation")
    mlflow.shap.save_explainer(unknown, "unknown")
summary["unknown_warnings"] = sorted(
    str(w.message) for w in caught if "serialize underlying model" in str(w.message)
)
summary["unknown"] = saved_model("unknown")
summary["defaults"] = {
    "pip": mlflow.shap.get_default_pip_requirements(),
    "conda_pip": mlflow.shap.get_default_conda_env()["dependencies"][-1]["pip"],
    "underlying": mlflow.shap.get_underlying_model_flavor(explainer.model),
}

with open(out, "w") as f:
    json.dump(named(summary), f, indent=1, sort_keys=True)
