"""The same evaluations under ``mlflow`` or ``mltrail``: ``python _scenarios.py LIB URI OUT``.

Each scenario trains a small scikit-learn model on generated data (fixed seeds), evaluates it
with ``LIB.models.evaluate`` on a fresh run of the SQLite store at URI, and records what was
logged: metrics, artifact files, result keys, dataset inputs, tables and tags.  The validation
cases record the message of ``validate_evaluation_results``.  The summary goes to OUT (JSON).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression

COLUMNS = ["a", "b", "c"]


def data(kind: str, rows: int = 240, seed: int = 0) -> tuple[pd.DataFrame, Any]:
    """A frame of three features and its targets (``binary``, ``multiclass``, ``regression``,
    ``strings``)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    noise = rng.normal(size=rows)
    if kind == "binary":
        y: Any = (x[:, 0] + noise > 0).astype(int)
    elif kind == "multiclass":
        y = np.digitize(x[:, 0] + 0.5 * noise, [-0.5, 0.5])
    elif kind == "strings":
        y = np.where(x[:, 0] + noise > 0, "yes", "no")
    else:
        y = x @ np.array([1.0, 2.0, -1.0]) + noise + 3.0
    frame = pd.DataFrame(x, columns=COLUMNS)
    frame["y"] = y
    return frame, y


def _fit(kind: str, frame: pd.DataFrame, y: Any) -> Any:
    estimator = LinearRegression() if kind == "regression" else LogisticRegression()
    return estimator.fit(frame[COLUMNS], y)


def _log(lib: Any, estimator: Any) -> str:
    with lib.start_run():
        info = lib.sklearn.log_model(estimator, name="model", pip_requirements=["scikit-learn"])
    return str(info.model_uri)


def _summary(lib: Any, result: Any) -> dict[str, Any]:
    client = lib.MlflowClient()
    run = client.get_run(result.run_id)
    files = sorted(f.path for f in client.list_artifacts(result.run_id))
    inputs = [
        {"name": d.dataset.name, "tags": {t.key: t.value for t in d.tags}}
        for d in run.inputs.dataset_inputs
    ]
    summary: dict[str, Any] = {
        "metrics": {k: float(v) for k, v in result.metrics.items()},
        "logged_metrics": {k: float(v) for k, v in run.data.metrics.items()},
        "artifact_keys": list(result.artifacts),
        "artifact_files": files,
        "uris_end_with": {k: a.uri.rsplit("/", 1)[1] for k, a in result.artifacts.items()},
        "inputs": inputs,
        "logged_artifacts_tag": run.data.tags.get("mlflow.loggedArtifacts"),
        "has_datasets_tag": "mlflow.datasets" in run.data.tags,
        "status": run.info.status,
    }
    if "per_class_metrics" in result.artifacts:
        summary["per_class"] = result.artifacts["per_class_metrics"].content.to_dict("list")
    custom = {"head": "csv", "errors": "npy", "summary": "json", "counts": "json", "notes": "txt"}
    if "head" in result.artifacts:
        summary["custom"] = {
            "head": result.artifacts["head"].content.to_dict("list"),
            "errors": result.artifacts["errors"].content.tolist(),
            "summary": result.artifacts["summary"].content,
            "counts": result.artifacts["counts"].content,
            "notes": result.artifacts["notes"].content,
            "kinds": {k: type(result.artifacts[k]).__name__ for k in custom},
        }
    tables = result.tables
    if "eval_results_table" in tables:
        summary["table"] = tables["eval_results_table"].to_dict("list")
    return summary


def _evaluate(lib: Any, model: Any, frame: Any, **kwargs: Any) -> dict[str, Any]:
    # SHAP has scenarios of its own (_shap_scenarios.py): here it would only add minutes.
    config = kwargs.setdefault("evaluator_config", {})
    config.setdefault("log_model_explainability", False)
    with lib.start_run():
        result = lib.models.evaluate(model, frame, **kwargs)
    return _summary(lib, result)


def scenarios(lib: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("binary", "multiclass", "regression"):
        frame, y = data(kind)
        uri = _log(lib, _fit(kind, frame, y))
        model_type = "regressor" if kind == "regression" else "classifier"
        out[f"{kind}_uri"] = _evaluate(lib, uri, frame, targets="y", model_type=model_type)

    frame, y = data("binary")
    estimator = _fit("binary", frame, y)
    uri = _log(lib, estimator)
    loaded = lib.pyfunc.load_model(uri)
    out["binary_loaded"] = _evaluate(lib, loaded, frame, targets="y", model_type="classifier")
    out["binary_callable"] = _evaluate(
        lib,
        lambda df: estimator.predict(df[COLUMNS]),
        frame,
        targets="y",
        model_type="classifier",
    )
    with_predictions = frame.assign(pred=estimator.predict(frame[COLUMNS]))
    out["binary_predictions"] = _evaluate(
        lib, None, with_predictions, targets="y", predictions="pred", model_type="classifier"
    )
    out["binary_prefix"] = _evaluate(
        lib,
        uri,
        frame,
        targets="y",
        model_type="classifier",
        evaluator_config={"metric_prefix": "val_"},
    )
    out["binary_pos_label_0"] = _evaluate(
        lib, uri, frame, targets="y", model_type="classifier", evaluator_config={"pos_label": 0}
    )
    dataset = lib.data.from_pandas(frame, targets="y", name="holdout")
    out["binary_dataset"] = _evaluate(lib, uri, dataset, model_type="classifier")
    try:
        import datasets
    except ImportError:
        pass
    else:
        hf = datasets.Dataset.from_pandas(frame, preserve_index=False)
        hf_dataset = lib.data.from_huggingface(hf, targets="y", name="holdout-hf")
        out["binary_hf_dataset"] = _evaluate(lib, uri, hf_dataset, model_type="classifier")

    strings, labels = data("strings")
    string_model = _fit("strings", strings, labels)
    out["strings_label_list"] = _evaluate(
        lib,
        _log(lib, string_model),
        strings,
        targets="y",
        model_type="classifier",
        evaluator_config={"label_list": ["no", "yes"], "pos_label": "no"},
    )

    multi, multi_y = data("multiclass")
    multi_model = _log(lib, _fit("multiclass", multi, multi_y))
    out["multiclass_macro"] = _evaluate(
        lib,
        multi_model,
        multi,
        targets="y",
        model_type="classifier",
        evaluator_config={"average": "macro"},
    )

    out["binary_single_class"] = _evaluate(
        lib, uri, frame.assign(y=1), targets="y", model_type="classifier"
    )
    weights = np.random.default_rng(7).random(len(frame))
    out["binary_weighted"] = _evaluate(
        lib,
        uri,
        frame,
        targets="y",
        model_type="classifier",
        evaluator_config={"sample_weights": weights},
    )
    out["multiclass_weighted"] = _evaluate(
        lib,
        multi_model,
        multi,
        targets="y",
        model_type="classifier",
        evaluator_config={"sample_weights": weights},
    )

    x = frame[COLUMNS].to_numpy()
    array_model = LogisticRegression().fit(x, y)
    out["binary_numpy"] = _evaluate(
        lib, _log(lib, array_model), x, targets=y, model_type="classifier"
    )

    reg, reg_y = data("regression")
    reg_model = _fit("regression", reg, reg_y)
    reg_uri = _log(lib, reg_model)

    def squared_error_sum(predictions: Any, targets: Any, metrics: Any) -> float:
        return float(((predictions - targets) ** 2).sum())

    def per_row_error(predictions: Any, targets: Any) -> Any:
        return lib.metrics.MetricValue(scores=list(np.abs(predictions - targets)))

    def error_ratio(predictions: Any, targets: Any, squared_error_sum: Any, metrics: Any) -> float:
        return float(squared_error_sum.aggregate_results["squared_error_sum"] / len(predictions))

    extra = [
        lib.models.make_metric(eval_fn=error_ratio, greater_is_better=False),
        lib.models.make_metric(eval_fn=squared_error_sum, greater_is_better=False),
        lib.models.make_metric(eval_fn=per_row_error, greater_is_better=False),
        lib.models.make_metric(
            eval_fn=lambda predictions, targets: float(np.median(predictions - targets)),
            greater_is_better=False,
            name="median_error",
        ),
    ]
    out["regression_weighted"] = _evaluate(
        lib,
        reg_uri,
        reg,
        targets="y",
        model_type="regressor",
        evaluator_config={"sample_weights": weights},
    )
    out["regression_extra_metrics"] = _evaluate(
        lib, reg_uri, reg, targets="y", model_type="regressor", extra_metrics=extra
    )
    out["regression_extra_prefixed"] = _evaluate(
        lib,
        reg_uri,
        reg,
        targets="y",
        model_type="regressor",
        extra_metrics=extra[1:3],
        evaluator_config={"metric_prefix": "test_"},
    )
    out["binary_custom_artifacts"] = _evaluate(
        lib,
        uri,
        frame,
        targets="y",
        model_type="classifier",
        extra_metrics=[extra[2]],
        custom_artifacts=[custom_artifacts],
        evaluator_config={"metric_prefix": "v_"},
    )
    out.update(xgboost_scenarios(lib))
    out["validation"] = validation(lib, uri, frame, multi_model, multi)
    out["linked_model"] = linked_model(lib, frame, estimator)
    return out


def linked_model(lib: Any, frame: Any, estimator: Any) -> dict[str, Any]:
    """An evaluation linked to a logged model (MLflow 3's ``model_id``): its metrics on the
    model, with the dataset and the run, and the model among the run's inputs."""
    model = lib.initialize_logged_model(name="linked")
    with lib.start_run() as run:
        result = lib.models.evaluate(
            lambda df: estimator.predict(df[COLUMNS]),
            frame,
            targets="y",
            model_type="classifier",
            model_id=model.model_id,
            evaluator_config={"log_model_explainability": False},
        )
    client = lib.MlflowClient()
    linked = client.get_logged_model(model.model_id).metrics
    recorded = client.get_run(run.info.run_id)
    return {
        "metrics": sorted(result.metrics),
        "linked": sorted(
            (m.key, m.value, m.dataset_name, m.run_id == run.info.run_id, bool(m.dataset_digest))
            for m in linked
        ),
        "model_inputs": [m.model_id == model.model_id for m in recorded.inputs.model_inputs],
        "history": len(client.get_metric_history(run.info.run_id, "accuracy_score")),
    }


def xgboost_scenarios(lib: Any) -> dict[str, Any]:
    """An XGBoost classifier (float32 probabilities, no ``score`` metric), when installed."""
    try:
        import xgboost
    except ImportError:
        return {}
    importlib.import_module(f"{lib.__name__}.xgboost")
    frame, y = data("binary")
    model = xgboost.XGBClassifier(n_estimators=10, max_depth=2).fit(frame[COLUMNS], y)
    with lib.start_run():
        info = lib.xgboost.log_model(model, name="model", pip_requirements=["xgboost"])
    return {
        "xgboost_binary": _evaluate(
            lib, info.model_uri, frame, targets="y", model_type="classifier"
        )
    }


def custom_artifacts(eval_df: Any, builtin_metrics: Any, artifacts_dir: str) -> dict[str, Any]:
    """One artifact of each kind MLflow infers without pickling."""
    from matplotlib.figure import Figure

    figure = Figure()
    figure.subplots().scatter(eval_df["prediction"], eval_df["target"])
    path = Path(artifacts_dir, "notes.txt")
    accuracy = builtin_metrics["accuracy_score"].aggregate_results["accuracy_score"]
    path.write_text(f"accuracy {accuracy:.3f}")
    return {
        "head": eval_df.head(5),
        "errors": (eval_df["prediction"] != eval_df["target"]).to_numpy(),
        "summary": json.dumps({"rows": len(eval_df)}),
        "counts": {"positives": int(eval_df["target"].sum())},
        "scatter": figure,
        "notes": str(path),
    }


def validation(lib: Any, uri: str, frame: Any, weaker: str, weaker_frame: Any) -> dict[str, Any]:
    """Messages of validate_evaluation_results (None when validation passed)."""
    with lib.start_run():
        candidate = lib.models.evaluate(uri, frame, targets="y", model_type="classifier")
    frame_b = frame.assign(y=1 - frame["y"])
    with lib.start_run():
        baseline = lib.models.evaluate(uri, frame_b, targets="y", model_type="classifier")
    threshold = lib.models.MetricThreshold
    cases = {
        "pass": (
            {
                "accuracy_score": threshold(threshold=0.5, greater_is_better=True),
                "example_count": threshold(threshold=240, greater_is_better=True),
            },
            None,
        ),
        "fail_threshold": (
            {
                "accuracy_score": threshold(threshold=0.99, greater_is_better=True),
                "f1_score": threshold(threshold=0.1, greater_is_better=False),
                "example_count": threshold(threshold=10, greater_is_better=True),
                "missing_metric": threshold(threshold=1, greater_is_better=True),
            },
            None,
        ),
        "fail_baseline": (
            {
                "accuracy_score": threshold(
                    threshold=0.5,
                    min_absolute_change=0.9,
                    min_relative_change=0.5,
                    greater_is_better=True,
                ),
                "example_count": threshold(min_absolute_change=1, greater_is_better=False),
                "true_positives": threshold(min_relative_change=0.1, greater_is_better=False),
            },
            baseline,
        ),
        "missing_baseline": (
            {"accuracy_score": threshold(min_absolute_change=0.01, greater_is_better=True)},
            None,
        ),
    }
    messages: dict[str, Any] = {}
    for name, (thresholds, base) in cases.items():
        try:
            lib.validate_evaluation_results(thresholds, candidate, base)
            messages[name] = None
        except Exception as exc:  # the exception classes differ by library
            messages[name] = {"type": type(exc).__name__, "message": str(exc.message)}
    return messages


def record(play: Callable[[Any], dict[str, Any]]) -> None:
    """``python SCRIPT LIB URI OUT``: *play* the scenarios under LIB on the store at URI and
    write what they recorded to OUT."""
    library, uri, out = sys.argv[1:4]
    warnings.simplefilter("ignore")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    lib = importlib.import_module(library)
    importlib.import_module(f"{library}.sklearn")
    lib.set_tracking_uri(uri)
    Path(out).write_text(json.dumps(play(lib), default=str))


if __name__ == "__main__":
    record(scenarios)
