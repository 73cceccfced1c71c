"""``mltrail.evaluate`` in this process: the run it logs to, what it returns, its arguments,
and bad input refused before anything is logged."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import mltrail
from mltrail.exceptions import InvalidArgument, MltrailError
from mltrail.models import EvaluationResult, make_metric
from mltrail.models import evaluate as models_evaluate

COLUMNS = ["a", "b", "c"]
#: SHAP has tests of its own (test_explain.py); elsewhere it would only add time.
NO_SHAP = {"log_model_explainability": False}


def _frame(kind: str = "binary", rows: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    noise = rng.normal(size=rows)
    frame = pd.DataFrame(x, columns=COLUMNS)
    if kind == "binary":
        frame["y"] = (x[:, 0] + noise > 0).astype(int)
    elif kind == "multiclass":
        frame["y"] = np.digitize(x[:, 0] + 0.5 * noise, [-0.5, 0.5])
    else:
        frame["y"] = x @ np.array([1.0, 2.0, -1.0]) + noise
    return frame


def _classifier(frame: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression().fit(frame[COLUMNS], frame["y"])


def _logged(model: Any) -> str:
    with mltrail.start_run():
        info = mltrail.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"])
    return str(info.model_uri)


def _python_env() -> dict[str, str]:
    """This environment, with the mltrail under test first on the path (subprocesses run in
    the test's own working directory)."""
    src = str(Path(mltrail.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}


def _nothing_logged(run_id: str) -> None:
    run = mltrail.get_run(run_id)
    assert run.data.metrics == {}
    assert mltrail.MlflowClient().list_artifacts(run_id) == []
    assert run.inputs.dataset_inputs == []


def test_mltrail_evaluate_and_models_evaluate_are_one_function() -> None:
    assert mltrail.evaluate is models_evaluate
    assert mltrail.models.evaluation.validation.ModelValidationFailedException is (
        mltrail.exceptions.ModelValidationFailedException
    )


def test_mlflows_import_paths_work() -> None:
    from mltrail.metrics import MetricValue
    from mltrail.models.evaluation import EvaluationResult as FromModule
    from mltrail.models.evaluation import evaluate
    from mltrail.models.evaluation.validation import (
        MetricThreshold,
        ModelValidationFailedException,
        validate_evaluation_results,
    )

    assert evaluate is mltrail.evaluate
    assert FromModule is EvaluationResult
    assert MetricThreshold is mltrail.models.MetricThreshold
    assert ModelValidationFailedException is mltrail.exceptions.ModelValidationFailedException
    assert validate_evaluation_results is mltrail.validate_evaluation_results
    assert MetricValue is mltrail.evaluation.MetricValue


def test_a_function_as_model_without_an_active_run_starts_and_ends_one(store: str) -> None:
    frame = _frame()
    model = _classifier(frame)
    result = mltrail.evaluate(
        lambda df: model.predict(df),
        frame,
        targets="y",
        model_type="classifier",
        evaluator_config=NO_SHAP,
    )
    assert mltrail.active_run() is None
    run = mltrail.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    predicted = model.predict(frame[COLUMNS])
    assert result.metrics["accuracy_score"] == pytest.approx(np.mean(predicted == frame["y"]))
    assert result.metrics["example_count"] == len(frame)
    assert "roc_auc" not in result.metrics  # a function gives no probabilities
    assert run.data.metrics == pytest.approx(result.metrics)
    assert list(result.artifacts) == ["confusion_matrix"]


def test_the_active_run_is_used_and_left_running(store: str) -> None:
    frame = _frame("regression")
    model = LinearRegression().fit(frame[COLUMNS], frame["y"])
    with mltrail.start_run() as run:
        result = mltrail.evaluate(
            model.predict, frame, targets="y", model_type="regressor", evaluator_config=NO_SHAP
        )
        assert result.run_id == run.info.run_id
        assert mltrail.active_run() is not None
    logged = mltrail.get_run(run.info.run_id).data.metrics
    assert logged["r2_score"] == pytest.approx(model.score(frame[COLUMNS], frame["y"]))
    assert logged["example_count"] == len(frame)


def test_stored_predictions_without_a_model(store: str) -> None:
    frame = _frame().assign(pred=lambda f: (f["a"] > 0).astype(int))
    result = mltrail.evaluate(data=frame, targets="y", predictions="pred", model_type="classifier")
    tp = int(((frame["pred"] == 1) & (frame["y"] == 1)).sum())
    assert result.metrics["true_positives"] == tp
    dataset = mltrail.get_run(result.run_id).inputs.dataset_inputs[0].dataset
    assert json.loads(dataset.schema)["mlflow_colspec"][-1]["name"] == "pred"


def test_artifacts_have_uris_and_content(store: str, tmp_path: Path) -> None:
    frame = _frame("multiclass")
    result = mltrail.evaluate(
        _logged(_classifier(frame)),
        frame,
        targets="y",
        model_type="classifier",
        evaluator_config=NO_SHAP,
    )
    assert list(result.artifacts) == [
        "calibration_curve_plot",
        "roc_curve_plot",
        "precision_recall_curve_plot",
        "per_class_metrics",
        "confusion_matrix",
    ]
    image = result.artifacts["roc_curve_plot"].content
    assert image.format == "PNG"
    assert image.size[0] > 300
    table = result.artifacts["per_class_metrics"].content
    assert list(table["positive_class"]) == [0, 1, 2]
    local = mltrail.artifacts.download_artifacts(result.artifacts["confusion_matrix"].uri)
    assert Path(local).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result.save(tmp_path / "saved")
    again = EvaluationResult.load(tmp_path / "saved")
    assert again.metrics == pytest.approx(result.metrics)
    assert again.artifacts["per_class_metrics"].content.equals(table)


def test_extra_metrics_prefix_and_results_table(store: str) -> None:
    frame = _frame("regression")
    model = LinearRegression().fit(frame[COLUMNS], frame["y"])

    def abs_error(predictions: Any, targets: Any) -> Any:
        return mltrail.metrics.MetricValue(scores=list(np.abs(predictions - targets)))

    def doubled_mae(metrics: Any) -> float:
        return 2 * metrics["mean_absolute_error"].aggregate_results["mean_absolute_error"]

    extra = [
        make_metric(eval_fn=doubled_mae, greater_is_better=False),
        make_metric(eval_fn=abs_error, greater_is_better=False),
    ]
    result = mltrail.evaluate(
        model.predict,
        frame,
        targets="y",
        model_type="regressor",
        extra_metrics=extra,
        evaluator_config={"metric_prefix": "val_", **NO_SHAP},
    )
    m = result.metrics
    assert m["val_doubled_mae"] == pytest.approx(2 * m["val_mean_absolute_error"])
    # MLflow prefixes the aggregates' names too: "<prefix><metric>/<prefix><aggregate>".
    assert m["val_abs_error/val_mean"] == pytest.approx(m["val_mean_absolute_error"])
    assert {"val_abs_error/val_variance", "val_abs_error/val_p90"} <= set(m)
    assert all(name.startswith("val_") for name in m)
    table = result.tables["eval_results_table"]
    assert list(table.columns) == [*COLUMNS, "y", "outputs", "val_abs_error/score"]
    assert result.artifacts["eval_results_table"].uri.endswith("/val_eval_results_table.json")
    inputs = mltrail.get_run(result.run_id).inputs.dataset_inputs
    assert [(t.key, t.value) for t in inputs[0].tags] == [("mlflow.data.context", "val_")]


def test_pos_label_and_label_list(store: str) -> None:
    frame = _frame()
    frame["y"] = np.where(frame["y"] == 1, "yes", "no")
    model = _classifier(frame)
    config = {"label_list": ["no", "yes"], "pos_label": "no"}
    result = mltrail.evaluate(
        model.predict, frame, targets="y", model_type="classifier", evaluator_config=config
    )
    predicted = model.predict(frame[COLUMNS])
    tp = int(((predicted == "no") & (frame["y"] == "no")).sum())
    assert result.metrics["true_positives"] == tp
    precision = tp / int((predicted == "no").sum())
    assert result.metrics["precision_score"] == pytest.approx(precision)


def test_numpy_data_names_its_features_as_mlflow_does(store: str) -> None:
    frame = _frame()
    x, y = frame[COLUMNS].to_numpy(), frame["y"].to_numpy()
    seen: list[list[str]] = []

    def predict(df: pd.DataFrame) -> Any:
        seen.append(list(df.columns))
        return (df["feature_1"] > 0).astype(int)

    mltrail.evaluate(predict, x, targets=y, model_type="classifier", evaluator_config=NO_SHAP)
    assert seen == [["feature_1", "feature_2", "feature_3"]]


def _bad(call: dict[str, Any]) -> MltrailError:
    with mltrail.start_run() as run:
        with pytest.raises(MltrailError) as error:
            mltrail.evaluate(**call)
        _nothing_logged(run.info.run_id)
    return error.value


@pytest.mark.parametrize(
    ("call", "words"),
    [
        ({"model_type": "classifier"}, ["targets argument must be specified", "classifier"]),
        ({"model_type": "classifier", "targets": "label"}, ["'label'", "not a column of data"]),
        (
            {"model_type": "ranker", "targets": "y"},
            ["model_type 'ranker'", "classifier, regressor"],
        ),
        ({"model_type": "classifier", "targets": "y", "model": 42}, ["model of type int"]),
        (
            {"model_type": "classifier", "targets": "y", "model": LogisticRegression()},
            ["model of type LogisticRegression", "predict method"],
        ),
        (
            {"model_type": "classifier", "targets": "y", "model": lambda df: 1 / 0},
            ["predict failed", "ZeroDivisionError"],
        ),
        (
            {"model_type": "classifier", "targets": "y", "model": lambda df: [0, 1]},
            ["shape (2,)", "one prediction per row"],
        ),
        (
            {
                "model_type": "classifier",
                "targets": "y",
                "model": lambda df: (df["a"] > 0).astype(int),
                "evaluator_config": {"label_list": [0, 2]},
            },
            ["label_list", "[0, 2]", "not in it: [1]"],
        ),
        (
            {
                "model_type": "classifier",
                "targets": "y",
                "model": lambda df: (df["a"] > 0).astype(int),
                "evaluator_config": {"label_list": [0, 1], "pos_label": 3},
            },
            ["pos_label", "3"],
        ),
        (
            {
                "model_type": "regressor",
                "targets": "y",
                "model": lambda df: df["a"],
                "extra_metrics": ["rmse"],
            },
            ["extra_metrics", "'rmse' has type 'str'"],
        ),
        (
            {
                "model_type": "regressor",
                "targets": "y",
                "model": lambda df: df["a"],
                "extra_metrics": [
                    make_metric(
                        eval_fn=lambda predictions, other: 1.0,
                        name="needs_other",
                        greater_is_better=True,
                    )
                ],
            },
            ["needs_other", "'other'"],
        ),
        (
            {
                "model_type": "regressor",
                "targets": "y",
                "model": lambda df: df["a"],
                "extra_metrics": [
                    make_metric(
                        eval_fn=lambda predictions: 1 / 0, name="broken", greater_is_better=True
                    )
                ],
            },
            ["Metric 'broken'", "ZeroDivisionError"],
        ),
        (
            {"model_type": "classifier", "targets": "y", "evaluators": "shapley"},
            ["Unknown evaluator 'shapley'"],
        ),
        (
            {
                "model_type": "classifier",
                "targets": "y",
                "model": lambda df: np.where(df["a"] > 0, "yes", "no"),
            },
            ["Invalid labels", "cannot be compared"],
        ),
        (
            {"model_type": "classifier", "targets": "y", "predictions": "nope"},
            ["Invalid predictions 'nope'", "not a column of data"],
        ),
        (
            {"model_type": "classifier", "targets": "y"},
            ["Either a model or set of predictions must be specified"],
        ),
        (
            {"model": lambda df: df["a"], "targets": "y"},
            ["extra_metrics argument must be specified when model_type is None"],
        ),
        (
            {
                "model_type": "regressor",
                "targets": "y",
                "model": lambda df: df["a"],
                "custom_artifacts": [lambda eval_df, metrics, folder: {"model": object()}],
            },
            ["artifact 'model' of type object", "does not log", "would pickle it"],
        ),
        (
            {
                "model_type": "regressor",
                "targets": "y",
                "model": lambda df: df["a"],
                "custom_artifacts": [lambda eval_df, metrics, folder: {"x": "not json"}],
            },
            ["artifact 'x'", "neither a valid path to a file nor a JSON string"],
        ),
        (
            {
                "model_type": "regressor",
                "targets": "y",
                "model": lambda df: df["a"],
                "custom_artifacts": [lambda eval_df, metrics, folder: 1 / 0],
            },
            ["Custom artifact function '<lambda>' at index 0", "ZeroDivisionError"],
        ),
        (
            {
                "model_type": "regressor",
                "targets": "y",
                "model": lambda df: df["a"],
                "custom_artifacts": ["plot"],
            },
            ["custom_artifacts[0] of type str"],
        ),
        (
            {
                "model_type": "classifier",
                "targets": "y",
                "model": lambda df: df["a"] > 0,
                "baseline_model": 42,
            },
            ["Invalid baseline_model: Invalid model of type int"],
        ),
    ],
)
def test_bad_input_is_refused_before_anything_is_logged(
    store: str, call: dict[str, Any], words: list[str]
) -> None:
    error = _bad({"data": _frame(), **call})
    for word in words:
        assert word in str(error)


def test_a_dataset_names_its_own_targets(store: str) -> None:
    frame = _frame()
    with mltrail.start_run() as run:
        with pytest.raises(InvalidArgument, match="targets column name must be specified in"):
            mltrail.evaluate(
                lambda df: (df["a"] > 0).astype(int),
                mltrail.data.from_pandas(frame),
                model_type="classifier",
            )
        with pytest.raises(InvalidArgument, match="top-level targets parameter"):
            mltrail.evaluate(
                lambda df: (df["a"] > 0).astype(int),
                mltrail.data.from_pandas(frame, targets="y"),
                targets="y",
                model_type="classifier",
            )
        _nothing_logged(run.info.run_id)


def test_targets_of_one_class_give_scikit_learns_values(store: str) -> None:
    frame = _frame()
    model = _classifier(frame)
    result = mltrail.evaluate(
        _logged(model),
        frame.assign(y=0),
        targets="y",
        model_type="classifier",
        evaluator_config=NO_SHAP,
    )
    assert np.isnan(result.metrics["roc_auc"])
    assert result.metrics["precision_recall_auc"] == 0.0  # no positives
    assert "lift_curve_plot" not in result.artifacts
    assert result.metrics["true_positives"] == 0


def test_evaluators_and_nested_config(store: str, caplog: pytest.LogCaptureFixture) -> None:
    frame = _frame()
    predict = lambda df: (df["a"] > 0).astype(int)  # noqa: E731
    with caplog.at_level(logging.WARNING, logger="mltrail"):
        result = mltrail.evaluate(
            predict,
            frame,
            targets="y",
            model_type="classifier",
            evaluators=["classifier"],
            evaluator_config={"classifier": {"metric_prefix": "c_", "pos_label": 0}},
        )
    assert not [r for r in caplog.records if "explainability" in r.getMessage()]
    predicted = predict(frame)
    tp = int(((predicted == 0) & (frame["y"] == 0)).sum())
    assert result.metrics["c_true_positives"] == tp
    # without evaluators, a "default" configuration applies to the classifier (MLflow's rule)
    result = mltrail.evaluate(
        predict,
        frame,
        targets="y",
        model_type="classifier",
        evaluator_config={"default": {"pos_label": 0}, "shap": {"log_model_explainability": False}},
    )
    assert result.metrics["true_positives"] == tp
    with pytest.raises(InvalidArgument, match="none of them evaluates 'classifier' models"):
        mltrail.evaluate(
            predict, frame, targets="y", model_type="classifier", evaluators=["regressor"]
        )
    assert mltrail.models.list_evaluators() == ["default", "classifier", "regressor", "shap"]


def test_no_model_type_computes_the_extra_metrics_only(store: str) -> None:
    frame = _frame("regression")
    bias = make_metric(
        eval_fn=lambda predictions, targets: float((predictions - targets).mean()),
        greater_is_better=False,
        name="bias",
    )
    result = mltrail.evaluate(lambda df: df["a"], frame, targets="y", extra_metrics=[bias])
    assert result.metrics == pytest.approx({"bias": float((frame["a"] - frame["y"]).mean())})
    assert result.artifacts == {}
    assert result.tables == {}


def test_without_an_active_run_a_refused_call_leaves_no_run(store: str) -> None:
    with pytest.raises(InvalidArgument):
        mltrail.evaluate(lambda df: df["a"], _frame(), targets="missing", model_type="regressor")
    assert len(mltrail.search_runs(search_all_experiments=True)) == 0


def test_explainability_is_skipped_with_one_note(
    store: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("PIL")
    monkeypatch.setitem(sys.modules, "shap", None)  # as if SHAP were not installed
    frame = _frame()
    with caplog.at_level(logging.WARNING, logger="mltrail"):
        result = mltrail.evaluate(
            lambda df: (df["a"] > 0).astype(int), frame, targets="y", model_type="classifier"
        )
        mltrail.evaluate(
            lambda df: (df["a"] > 0).astype(int),
            frame,
            targets="y",
            model_type="classifier",
            evaluator_config={"log_model_explainability": False},
        )
    notes = [r.getMessage() for r in caplog.records if "explainability" in r.getMessage()]
    assert notes == [
        "Model explainability insights are not logged: Model explainability (SHAP) needs "
        "shap: pip install 'mltrail[shap]' (or evaluator_config={'log_model_explainability': "
        "False})"
    ]
    assert "accuracy_score" in result.metrics
    assert not [name for name in result.artifacts if name.startswith("shap")]


def test_without_pillow_metrics_are_logged_and_the_extra_is_named(
    store: str, tmp_path: Path
) -> None:
    script = f"""
import sys
sys.modules["PIL"] = None  # as if the plots extra were not installed
import numpy as np, pandas as pd, mltrail
mltrail.set_tracking_uri({store!r})
x = np.random.default_rng(0).normal(size=(50, 2))
frame = pd.DataFrame(x, columns=["a", "b"]).assign(y=(x[:, 0] > 0).astype(int))
result = mltrail.evaluate(lambda df: (df["b"] > 0).astype(int), frame, targets="y",
                          model_type="classifier",
                          evaluator_config={{"log_model_explainability": False}})
print(sorted(result.metrics)[0], len(result.artifacts))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_python_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["accuracy_score", "0"]
    assert (
        "The evaluation plots are not logged: they need pillow: pip install 'mltrail[plots]'"
        in done.stderr
    )


def test_importing_mltrail_models_loads_no_evaluation() -> None:
    probe = (
        "import sys, mltrail, mltrail.models\n"
        "heavy = ('numpy', 'pandas', 'sklearn', 'matplotlib', 'mltrail.evaluation')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=_python_env(), check=True
    )
    assert done.stdout.strip() == "[]"
    probe = "import sys, mltrail\nmltrail.evaluate\nprint('numpy' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=_python_env(), check=True
    )
    assert done.stdout.strip() == "False"
