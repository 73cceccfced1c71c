"""Scenario of tests/models/test_names_differential.py, run as ``python _names_scenario.py
<mlflow|mltrail> <tracking uri> <summary.json>``: the names point 1 of issue 21 added, called
the same way under both libraries, and what each returned or recorded, as JSON."""

from __future__ import annotations

import json
import os
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sklearn.linear_model import LogisticRegression

warnings.filterwarnings("ignore")

if sys.argv[1] == "mlflow":
    import mlflow
    from mlflow.entities import LoggedModelInput
else:
    import mltrail as mlflow
    from mltrail.entities import LoggedModelInput

mlflow.set_tracking_uri(sys.argv[2])
out: dict[str, Any] = {}


def error_of(call: Any) -> Any:
    try:
        call()
    except Exception as exc:  # MLflow's MlflowException, mltrail's MltrailError
        return getattr(exc, "error_code", type(exc).__name__)
    return None


def requirement_names(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    return sorted(line.split("=")[0].split(">")[0].split("<")[0] for line in lines)


# -- log_metric(model_id=, dataset=) and log_input(model=) -------------------------------------
mlflow.set_experiment("names")
frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]})
dataset = mlflow.data.from_pandas(frame, name="train")
with mlflow.start_run() as run:
    model = mlflow.initialize_logged_model(name="m")
    mlflow.log_metric("acc", 0.75, step=2, model_id=model.model_id, dataset=dataset)
    mlflow.log_metrics({"f1": 0.5, "auc": 0.25}, step=3, model_id=model.model_id)
    mlflow.log_metric("plain", 1.0, dataset=dataset)
    other = mlflow.initialize_logged_model(name="other")
    # (another dataset: MLflow keeps the first input tags of a dataset a run logged twice,
    # mltrail adds the later ones)
    evaluation = mlflow.data.from_pandas(frame * 2, name="eval")
    mlflow.log_input(evaluation, context="eval", model=LoggedModelInput(other.model_id))
    client = mlflow.MlflowClient()
    client.log_metric(
        run.info.run_id, "loss", 0.125, step=4, dataset_name="train",
        dataset_digest=dataset.digest, model_id=model.model_id,
    )  # fmt: skip
run_id = run.info.run_id
out["half_dataset"] = error_of(lambda: client.log_metric(run_id, "z", 1.0, dataset_name="train"))
stored = mlflow.get_run(run_id)
out["run_metrics"] = stored.data.metrics
out["model_inputs"] = sorted(
    {model.model_id: "m", other.model_id: "other"}.get(i.model_id, "?")
    for i in stored.inputs.model_inputs
)
out["dataset_inputs"] = sorted(
    [d.dataset.name, sorted(t.value for t in d.tags)] for d in stored.inputs.dataset_inputs
)
out["model_metrics"] = sorted(
    [m.key, m.value, m.step, m.dataset_name, m.dataset_digest == dataset.digest, m.run_id == run_id]
    for m in mlflow.get_logged_model(model.model_id).metrics
)
# -- mlflow.models / mlflow.pyfunc helpers on a saved scikit-learn model -----------------------
X = frame[["x"]]
estimator = LogisticRegression().fit(X, frame["y"])
path = os.path.abspath("sk-model")
mlflow.sklearn.save_model(estimator, path, input_example=X.head(2))
serving = mlflow.models.convert_input_example_to_serving_input(X.head(3))
out["validated"] = np.asarray(mlflow.models.validate_serving_input(path, serving)).tolist()
out["validated_dict"] = np.asarray(
    mlflow.models.validate_serving_input(path, json.loads(serving))
).tolist()
out["bad_serving_input"] = error_of(
    lambda: mlflow.models.validate_serving_input(path, '{"nope": 1}')
)
mlflow.models.predict(path, X.head(3), env_manager="local", output_path="predicted.json")
with open("predicted.json", encoding="utf-8") as f:
    out["predict_json"] = json.load(f)
X.head(2).to_csv("input.csv", index=False)
mlflow.models.predict(
    path, input_path="input.csv", content_type="csv", env_manager="local", output_path="p.json"
)
with open("p.json", encoding="utf-8") as f:
    out["predict_csv"] = json.load(f)
out["pyfunc_predict"] = np.asarray(mlflow.pyfunc.load_pyfunc(path).predict(X.head(3))).tolist()
loaded = mlflow.pyfunc.load_model(path)
out["input_example_shape"] = list(loaded.input_example.shape)
out["model_id_of_saved"] = loaded.model_id
mlflow.models.update_model_requirements(path, "add", ["pandas==2.2.0", "tabulate"])
added = requirement_names(os.path.join(path, "requirements.txt"))
out["added"] = [n for n in ("pandas", "tabulate") if n in added]
with open(os.path.join(path, "requirements.txt"), encoding="utf-8") as f:
    out["pandas_pin"] = [line.strip() for line in f if line.startswith("pandas")]
mlflow.models.update_model_requirements(path, "remove", ["tabulate"])
out["removed"] = "tabulate" not in requirement_names(os.path.join(path, "requirements.txt"))
with open(os.path.join(path, "conda.yaml"), encoding="utf-8") as f:
    conda = yaml.safe_load(f)
pip = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
out["conda_pandas"] = [p for p in pip if p.startswith("pandas")]
out["bad_operation"] = error_of(
    lambda: mlflow.models.update_model_requirements(path, "replace", ["x"])
)
pip_file = mlflow.pyfunc.get_model_dependencies(path)
out["dependencies_pip"] = os.path.basename(pip_file)
out["dependencies_conda"] = os.path.basename(mlflow.pyfunc.get_model_dependencies(path, "conda"))
out["bad_format"] = error_of(lambda: mlflow.pyfunc.get_model_dependencies(path, "poetry"))
inferred = mlflow.models.infer_pip_requirements(path, "sklearn")
out["inferred_has_sklearn"] = any(r.startswith("scikit-learn==") for r in inferred)
out["env_types"] = [mlflow.pyfunc.EnvType.CONDA, mlflow.pyfunc.EnvType.VIRTUALENV]
conda_default = mlflow.sklearn.get_default_conda_env()
out["conda_default_keys"] = sorted(conda_default)
out["conda_default_has_sklearn"] = any(
    p.startswith("scikit-learn==")
    for d in conda_default["dependencies"]
    if isinstance(d, dict)
    for p in d["pip"]
)
# -- an (input, params) example: MLmodel's info, the files, the Model helpers --------------------


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input


echo_path = os.path.abspath("echo-model")
mlflow.pyfunc.save_model(echo_path, python_model=Echo(), input_example=(X.head(2), {"k": 1}))
echo = mlflow.models.Model.load(echo_path)
out["example_info"] = echo.saved_input_example_info
with open(os.path.join(echo_path, "input_example.json"), encoding="utf-8") as f:
    out["example_file"] = json.load(f)
out["example_params"] = echo.load_input_example_params(echo_path)
out["example_input"] = echo.load_input_example(echo_path).to_dict(orient="list")
out["serving_example"] = json.loads(echo.get_serving_input(echo_path))
out["model_info_uri"] = echo.get_model_info().model_uri.startswith("runs:/")
out["env_vars"] = echo.env_vars
# -- models from code: set_model, ModelConfig, python_model="file.py", model_config -----------
IMPORT = "import mlflow" if sys.argv[1] == "mlflow" else "import mltrail as mlflow"
IMPORT += f"\nfrom {sys.argv[1]}.models import ModelConfig, set_model"
with open("code_model.py", "w", encoding="utf-8") as f:
    f.write(
        IMPORT
        + """

config = ModelConfig(development_config={"factor": 1})


class Scaled(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [x * config.get("factor") for x in model_input["x"]]


set_model(Scaled())
"""
    )
code_path = os.path.abspath("code-model")
mlflow.pyfunc.save_model(code_path, python_model="code_model.py", model_config={"factor": 3})
flavor = mlflow.models.Model.load(code_path).flavors["python_function"]
out["code_flavor"] = [
    flavor["loader_module"],
    os.path.basename(flavor["model_code_path"]),
    flavor.get("config"),
    "python_model" in flavor,
]
out["code_files"] = sorted(
    n for n in os.listdir(code_path) if n.endswith((".py", ".pkl", "MLmodel"))
)
frame_x = pd.DataFrame({"x": [1, 2]})
out["code_predict"] = list(mlflow.pyfunc.load_model(code_path).predict(frame_x))
out["code_predict_config"] = list(
    mlflow.pyfunc.load_model(code_path, model_config={"factor": 10}).predict(frame_x)
)
development = mlflow.models.ModelConfig(development_config={"a": 1})
out["development_config"] = [development.get("a"), development.to_dict()]
out["missing_key"] = error_of(lambda: development.get("b"))
# -- mlflow.Image --------------------------------------------------------------------------
pixels = np.zeros((6, 8, 3), dtype=np.uint8)
pixels[:, :4] = [255, 128, 0]
image = mlflow.Image(pixels)
out["image_size"] = list(image.size)
out["image_array_shape"] = list(image.to_array().shape)
out["image_first_pixels"] = [list(p) for p in image.to_list()[:2]]
out["image_resized"] = list(image.resize((4, 3)).size)
out["image_from_list"] = list(mlflow.Image(pixels.tolist()).size)
with mlflow.start_run() as image_run:
    mlflow.log_image(image, "pictures/orange.png")
listed = mlflow.MlflowClient().list_artifacts(image_run.info.run_id, "pictures")
out["image_artifacts"] = [f.path for f in listed]
# -- entities --------------------------------------------------------------------------------
from_mlflow_entities = mlflow.entities
out["lifecycle"] = [
    from_mlflow_entities.LifecycleStage.matches_view_type(1, "active"),
    from_mlflow_entities.LifecycleStage.matches_view_type(2, "active"),
    from_mlflow_entities.LifecycleStage.matches_view_type(3, "deleted"),
]
out["default_experiment_name"] = from_mlflow_entities.Experiment.DEFAULT_EXPERIMENT_NAME
out["source_types"] = from_mlflow_entities.SourceType.SOURCETYPE_TO_STRING
info = from_mlflow_entities.FileInfo.from_dictionary(
    {"path": "a/b.txt", "is_dir": False, "file_size": 3}
)
out["file_info"] = [info.path, info.is_dir, info.file_size]
metric = from_mlflow_entities.Metric(
    "k", 1.5, 10, 2, model_id="m-1", dataset_name="d", dataset_digest="abc"
)
out["metric_dictionary"] = metric.to_dictionary()
out["param_entity"] = [
    from_mlflow_entities.LoggedModelParameter("a", "1").key,
    from_mlflow_entities.LoggedModelTag("t", "v").value,
]
entities = from_mlflow_entities
built = [
    entities.Param.from_dictionary({"key": "a", "value": "1", "ignored": 0}),
    entities.RunTag.from_dictionary({"key": "t", "value": "v"}),
    entities.InputTag.from_dictionary({"key": "i", "value": "w"}),
    entities.LoggedModelOutput.from_dictionary({"model_id": "m-1", "step": 3}),
    entities.LoggedModelInput.from_dictionary({"model_id": "m-2"}),
]
out["from_dictionary"] = [[getattr(b, "key", None), getattr(b, "model_id", None)] for b in built]
info = entities.RunInfo.from_dictionary(
    {
        "run_id": "r1", "experiment_id": "1", "user_id": "u", "status": "FINISHED",
        "start_time": 5, "end_time": 6, "lifecycle_stage": "active", "artifact_uri": "a",
        "run_name": "n",
    }
)  # fmt: skip
out["run_info_from_dictionary"] = [info.run_id, info.status, info.end_time, info.run_name]
source = entities.Dataset.from_dictionary(
    {"name": "d", "digest": "x", "source_type": "local", "source": "{}", "schema": None}
)
out["dataset_from_dictionary"] = [source.name, source.digest, source.source_type]
error = mlflow.MlflowException.invalid_parameter_value("bad", sqlstate="42000", error_class="C")
out["exception_fields"] = [error.error_code, error.sqlstate, error.error_class]

with open(sys.argv[3], "w", encoding="utf-8") as f:
    json.dump(out, f, sort_keys=True, default=str)
