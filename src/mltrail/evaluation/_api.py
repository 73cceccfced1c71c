"""``evaluate``: MLflow's default evaluator for classifiers and regressors.

Everything is checked and computed first: the arguments, the model's predictions, the
metrics, the extra metrics, the plots and the tables.  Only then is anything logged (to the
active run, or to a run started and ended here), so an error leaves no half-logged run
behind and, without an active run, no run at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import InvalidArgument, MissingDependency, NotImplementedYet
from mltrail._optional import OPTIONAL
from mltrail.artifacts._model_uris import parse_models_uri
from mltrail.data import Dataset
from mltrail.entities import DatasetInput, InputTag, Metric, RunTag
from mltrail.entities._logged_model import LoggedModelInput, LoggedModelMetric
from mltrail.evaluation._custom import Prepared, check_custom_artifacts, compute_custom_artifacts
from mltrail.evaluation._data import EvalData, prepare_data
from mltrail.evaluation._explain import check_explain_config, explain, log_explainer
from mltrail.evaluation._extra import aggregate, check_extra_metrics, compute_extra_metrics
from mltrail.evaluation._hash import array_dataset_hash, frame_dataset_hash
from mltrail.evaluation._metric import EvaluationMetric, MetricValue
from mltrail.evaluation._metrics import ClassifierOutcome, classifier_metrics, regressor_metrics
from mltrail.evaluation._model import (
    Model,
    as_column,
    call_model,
    check_env_manager,
    model_score,
    resolve_model,
)
from mltrail.evaluation._plots import classifier_plots, has_pillow
from mltrail.evaluation._result import (
    CsvEvaluationArtifact,
    EvaluationArtifact,
    EvaluationResult,
    ImageEvaluationArtifact,
    JsonEvaluationArtifact,
)
from mltrail.evaluation._served import served_model
from mltrail.evaluation._tables import log_table_to
from mltrail.evaluation._validation import (
    MetricThreshold,
    check_thresholds,
    validate_evaluation_results,
)
from mltrail.tracking._client import MlflowClient
from mltrail.tracking._fluent import active_run, end_run, start_run

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EVAL_TABLE_FILE", "MODEL_TYPES", "evaluate"]

_logger = logging.getLogger("mltrail")

MODEL_TYPES = ("classifier", "regressor")
_GENAI_TYPES = ("question-answering", "text-summarization", "text", "retriever", "databricks-agent")
_EVALUATORS = ("default", "classifier", "regressor", "shap")
EVAL_TABLE_FILE = "eval_results_table.json"
DATASETS_TAG = "mlflow.datasets"
CONTEXT_TAG = "mlflow.data.context"


@dataclass
class _Outputs:
    """What is logged once everything is computed."""

    values: dict[str, MetricValue] = field(default_factory=dict)
    #: custom_artifacts' files, then the plots and tables of the default evaluator
    custom: dict[str, Prepared] = field(default_factory=dict)
    files: dict[str, Prepared] = field(default_factory=dict)
    table: pd.DataFrame | None = None
    #: SHAP's plots (the ``shap`` evaluator runs after the default one)
    explain: dict[str, Prepared] = field(default_factory=dict)
    #: SHAP's explainer, logged as the model ``explainer`` (``log_explainer``), else None
    explainer: Any = None


def _evaluator_names(evaluators: Any, model_type: str | None) -> list[str]:
    """The evaluators asked for; an error when none of them evaluates *model_type*
    (``default``, the model type's own, or ``shap``, which only explains)."""
    names: list[str]
    if evaluators is None:
        names = ["default"]
    elif isinstance(evaluators, str):
        names = [evaluators]
    elif isinstance(evaluators, (list, tuple)) and all(isinstance(e, str) for e in evaluators):
        names = list(evaluators)
    else:
        raise InvalidArgument(
            f"Invalid evaluators {evaluators!r}: give None, 'default' or a list of evaluator names"
        )
    unknown = [name for name in names if name not in _EVALUATORS]
    if unknown:
        raise InvalidArgument(
            f"Unknown evaluator {unknown[0]!r}: mltrail has MLflow's built-in evaluators "
            f"({', '.join(_EVALUATORS)})"
        )
    if (
        "default" not in names
        and (model_type is None or model_type not in names)
        and ("shap" not in names or model_type not in MODEL_TYPES)
    ):
        raise InvalidArgument(
            f"Invalid evaluators {names}: none of them evaluates "
            f"{'this model' if model_type is None else repr(model_type) + ' models'}; use "
            f"'default'{'' if model_type is None else ' or ' + repr(model_type)}"
        )
    return names


def _config(evaluator_config: Any, model_type: str | None) -> dict[str, Any]:
    """One flat configuration from MLflow's forms (flat, or per evaluator name)."""
    if evaluator_config is None:
        return {}
    if not isinstance(evaluator_config, dict):
        raise InvalidArgument(
            f"Invalid evaluator_config of type {type(evaluator_config).__name__}: expected a dict"
        )
    nested = bool(evaluator_config) and all(
        key in _EVALUATORS and isinstance(value, dict) for key, value in evaluator_config.items()
    )
    if not nested:
        return dict(evaluator_config)
    merged: dict[str, Any] = {}
    for name in ("default", model_type or "", "shap"):
        merged.update(evaluator_config.get(name, {}))
    return merged


def _check_model_type(model_type: Any, extra_metrics: Any) -> None:
    if model_type is None:
        if not extra_metrics:
            raise InvalidArgument(
                "The extra_metrics argument must be specified when model_type is None."
            )
        return
    if model_type in _GENAI_TYPES:
        raise NotImplementedYet(
            f"model_type {model_type!r} (MLflow's GenAI evaluation) is not supported by "
            f"mltrail.evaluate; supported: {', '.join(MODEL_TYPES)}"
        )
    if model_type not in MODEL_TYPES:
        raise InvalidArgument(
            f"Invalid model_type {model_type!r}: must be one of {', '.join(MODEL_TYPES)} (or "
            "None with extra_metrics)"
        )


def _weights(config: dict[str, Any], rows: int) -> Any:
    import numpy as np

    raw = config.get("sample_weights")
    if raw is None:
        return None
    weights = np.asarray(raw, dtype=np.float64)
    if weights.shape != (rows,):
        raise InvalidArgument(
            f"Invalid evaluator_config['sample_weights'] of shape {weights.shape}: expected one "
            f"weight for each of the {rows} rows"
        )
    return weights


def _check_plot_config(config: dict[str, Any]) -> int:
    bins = config.get("calibration_n_bins", 10)
    if type(bins) is not int or bins < 1:
        raise InvalidArgument(
            f"Invalid evaluator_config['calibration_n_bins'] {bins!r}: must be a positive integer"
        )
    name = config.get("calibration_classifier_name", "")
    if not isinstance(name, str):
        raise InvalidArgument(
            f"Invalid evaluator_config['calibration_classifier_name'] {name!r}: must be a string"
        )
    limit = config.get("max_classes_for_multiclass_roc_pr", 10)
    if type(limit) is not int:
        raise InvalidArgument(
            f"Invalid evaluator_config['max_classes_for_multiclass_roc_pr'] {limit!r}: must be "
            "an integer"
        )
    return limit


def _classifier(
    model: Model, data: EvalData, y_pred: Any, config: dict[str, Any], out: _Outputs
) -> tuple[ClassifierOutcome, Any]:
    import numpy as np

    limit = _check_plot_config(config)
    label_list = config.get("label_list")
    if label_list is not None and (
        isinstance(label_list, (str, bytes)) or not hasattr(label_list, "__len__")
    ):
        raise InvalidArgument(
            f"Invalid evaluator_config['label_list'] {label_list!r}: expected a list of labels"
        )
    pos_label = config.get("pos_label")
    if pos_label is not None and label_list is not None and pos_label not in list(label_list):
        raise InvalidArgument(
            f"Invalid evaluator_config['pos_label'] {pos_label!r}: it must be one of "
            f"evaluator_config['label_list'] {list(label_list)!r}"
        )
    probabilities = None
    if model.predict_proba is not None:
        probabilities = np.asarray(call_model(model.predict_proba, data.features, "predict_proba"))
        if probabilities.ndim != 2:
            raise InvalidArgument(
                f"Invalid predicted probabilities of shape {probabilities.shape}: predict_proba "
                "must return one row of class probabilities per example"
            )
    weights = _weights(config, data.rows)
    outcome = classifier_metrics(
        data.targets,
        y_pred,
        probabilities,
        label_list=label_list,
        pos_label=pos_label,
        average=config.get("average", "weighted"),
        weights=weights,
        max_curve_classes=limit,
    )
    score = model_score(model, data, y_pred, weights, outcome.metrics) if model.native else None
    if score is not None:
        out.values["score"] = MetricValue(aggregate_results={"score": score})
    for name, value in outcome.metrics.items():
        out.values[name] = MetricValue(aggregate_results={name: value})
    return outcome, probabilities


def _regressor(
    model: Model, data: EvalData, y_pred: Any, config: dict[str, Any], out: _Outputs
) -> None:
    import numpy as np

    try:
        y_true = np.asarray(data.targets, dtype=np.float64)
        y_num = np.asarray(y_pred, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"Invalid targets or predictions for a regressor: they must be numbers ({exc})"
        ) from exc
    weights = _weights(config, data.rows)
    builtin = regressor_metrics(y_true, y_num, weights)
    score = model_score(model, data, y_pred, weights, builtin) if model.native else None
    if score is not None:
        out.values["score"] = MetricValue(aggregate_results={"score": score})
    for name, value in builtin.items():
        out.values[name] = MetricValue(aggregate_results={name: value})


def _prefixed(values: dict[str, MetricValue], prefix: str) -> dict[str, MetricValue]:
    """MLflow's prefixing: the metric's name and each of its aggregates' names."""
    return {
        f"{prefix}{name}": MetricValue(
            value.scores,
            value.justifications,
            {f"{prefix}{k}": v for k, v in value.aggregate_results.items()}
            if value.aggregate_results
            else None,
        )
        for name, value in values.items()
    }


def _compute(
    model: Model,
    data: EvalData,
    y_pred: Any,
    model_type: str | None,
    config: dict[str, Any],
    extras: tuple[list[EvaluationMetric], list[Any]],
    predictions: str | None,
    prefix: str,
    draw: bool = True,
) -> _Outputs:
    """Every metric, plot and table (without *draw*: the metrics only), in memory: nothing
    is logged here."""
    out = _Outputs()
    outcome: ClassifierOutcome | None = None
    probabilities: Any = None
    if model_type == "classifier":
        outcome, probabilities = _classifier(model, data, y_pred, config, out)
    elif model_type == "regressor":
        _regressor(model, data, y_pred, config, out)
    extra_metrics, artifact_functions = extras
    compute_extra_metrics(
        extra_metrics,
        predictions=y_pred,
        targets=data.targets,
        features=data.features,
        config=config,
        names={"predictions": predictions or data.predictions_name, "targets": data.targets_name},
        values=out.values,
    )
    out.custom = compute_custom_artifacts(
        artifact_functions, predictions=y_pred, targets=data.targets, values=out.values
    )
    if prefix:
        out.values = _prefixed(out.values, prefix)
    if not draw:
        return out
    if outcome is not None:
        _plots(outcome, probabilities, config, prefix, out)
        if not outcome.binary:
            out.files["per_class_metrics"] = (
                CsvEvaluationArtifact,
                "per_class_metrics.csv",
                _per_class_csv(outcome),
            )
            if "confusion_matrix" in out.files:  # MLflow logs it last
                out.files["confusion_matrix"] = out.files.pop("confusion_matrix")
    out.table = _results_table(data, y_pred, out.values, predictions)
    return out


def _per_class_csv(outcome: ClassifierOutcome) -> bytes:
    import pandas as pd

    text: str = pd.DataFrame(outcome.per_class).to_csv(index=False)
    return text.encode("utf-8")


def _plots(
    outcome: ClassifierOutcome,
    probabilities: Any,
    config: dict[str, Any],
    prefix: str,
    out: _Outputs,
) -> None:
    try:
        has_pillow()
    except MissingDependency:
        _logger.warning(
            "The evaluation plots are not logged: they need pillow: pip install 'mltrail[%s]'",
            OPTIONAL["PIL"].extra,
        )
        return
    pos_label = outcome.labels[-1] if outcome.binary else None
    for name, png in classifier_plots(outcome, probabilities, config, pos_label).items():
        out.files[name] = (ImageEvaluationArtifact, f"{prefix}{name}.png", png)


def _results_table(
    data: EvalData, y_pred: Any, values: dict[str, MetricValue], predictions: str | None
) -> pd.DataFrame | None:
    """MLflow's per-row table: features, target, outputs and each per-row metric's scores;
    only when some metric has per-row scores or justifications."""
    if not any(v.scores is not None or v.justifications is not None for v in values.values()):
        return None
    columns: dict[str, Any] = {}
    if data.targets is not None:
        columns[data.targets_name or "target"] = data.targets
        columns[data.predictions_name or predictions or "outputs"] = y_pred
    else:
        columns["outputs"] = y_pred
    for name, value in values.items():
        if value.scores:
            columns[f"{name}/score"] = value.scores
        if value.justifications:
            columns[f"{name}/justification"] = value.justifications
    return data.features.reset_index(drop=True).assign(**columns)


def _explaining(names: list[str], config: dict[str, Any], model_type: str | None) -> bool:
    """Whether the ``shap`` evaluator runs: asked for (``default`` includes it) for a
    classifier or a regressor, unless ``log_model_explainability`` is False."""
    wanted = "default" in names or "shap" in names
    return wanted and model_type in MODEL_TYPES and config.get("log_model_explainability", True)


def _linked_model(model: Any, given: str | None) -> str | None:
    """MLflow 3's logged model the results are linked to: *given*, else the one a
    ``models:/`` URI names (a logged model, or a registered version's), else the active one
    (``MLFLOW_ACTIVE_MODEL_ID``); checked to exist before anything is computed."""
    derived = None
    parsed = parse_models_uri(model) if isinstance(model, str) else None
    if parsed is not None and parsed.model_id is not None:
        derived = parsed.model_id
    elif parsed is not None and parsed.name is not None and parsed.version is not None:
        version = MlflowClient().get_model_version(parsed.name, str(parsed.version))
        derived = version.model_id
    if given is not None and derived is not None and given != derived:
        raise InvalidArgument(
            f"The specified value of the 'model_id' parameter '{given}' contradicts the "
            f"model_id '{derived}' associated with the model. Please ensure they match or omit "
            "the 'model_id' parameter."
        )
    model_id = given or derived or os.environ.get("MLFLOW_ACTIVE_MODEL_ID") or None
    if model_id is not None:
        MlflowClient().get_logged_model(model_id)  # NotFound names it
    return model_id


def _resolve(model: Any, env_manager: str, model_config: Any) -> Model:
    check_env_manager(model, env_manager)
    if env_manager == "local":
        return resolve_model(model, model_config)
    return served_model(model, env_manager, model_config)


def _dataset_hash(data: EvalData) -> str:
    names = data.feature_names
    if not data.from_frame:  # NumPy or list input: MLflow's hash of the arrays
        features = data.features.to_numpy()
        return array_dataset_hash(features, data.targets, data.predictions, names)
    digest = frame_dataset_hash(data.features, data.targets, data.predictions, names)
    if digest is not None:
        return digest
    text = f"{data.dataset.digest}:{','.join(data.feature_names)}"
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _log(
    client: MlflowClient,
    run_id: str,
    data: EvalData,
    model: Model,
    metrics: dict[str, Any],
    out: _Outputs,
    prefix: str,
    dataset_path: str | None,
    model_id: str | None,
) -> dict[str, EvaluationArtifact]:
    tags = [InputTag(CONTEXT_TAG, prefix)] if prefix else []
    client.log_inputs(
        run_id,
        [DatasetInput(data.dataset._to_mlflow_entity(), tags)],
        models=[LoggedModelInput(model_id)] if model_id else None,
    )
    if model.model_uuid is not None:
        listed = json.loads(client.get_run(run_id).data.tags.get(DATASETS_TAG, "[]"))
        entry: dict[str, Any] = {"name": data.dataset.name, "hash": _dataset_hash(data)}
        if dataset_path is not None:
            entry["path"] = dataset_path
        entry["model"] = model.model_uuid
        if entry not in listed:
            listed.append(entry)
            text = json.dumps(listed, separators=(",", ":"))
            client.log_batch(run_id, tags=[RunTag(DATASETS_TAG, text)])
    now = time.time_ns() // 1_000_000
    client.log_batch(run_id, metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()])
    if model_id is not None:  # the same values, linked to the logged model and the dataset
        name, digest = data.dataset.name, data.dataset.digest
        linked = [
            LoggedModelMetric(k, float(v), now, 0, model_id, run_id, name, digest)
            for k, v in metrics.items()
        ]
        client.log_model_metrics(run_id, linked)
    files = {**out.custom, **out.files, **out.explain}
    if files:
        with tempfile.TemporaryDirectory(prefix="mltrail-evaluate-") as tmp:
            for _, file_name, content in files.values():
                with open(os.path.join(tmp, file_name), "wb") as f:
                    f.write(content)
            client.log_artifacts(run_id, tmp)
    # MLflow's order: custom artifacts, the results table, the plots
    artifacts: dict[str, EvaluationArtifact] = {
        name: kind(client.get_artifact_uri(run_id, file_name), data=content)
        for name, (kind, file_name, content) in out.custom.items()
    }
    if out.table is not None:
        file_name = f"{prefix}{EVAL_TABLE_FILE}"
        log_table_to(client, run_id, out.table, file_name)
        artifacts[EVAL_TABLE_FILE.split(".")[0]] = JsonEvaluationArtifact(
            client.get_artifact_uri(run_id, file_name)
        )
    for name, (kind, file_name, content) in {**out.files, **out.explain}.items():
        artifacts[name] = kind(client.get_artifact_uri(run_id, file_name), data=content)
    return artifacts


def evaluate(
    model: Any = None,
    data: Any = None,
    *,
    model_type: str | None = None,
    targets: Any = None,
    predictions: str | None = None,
    dataset_path: str | None = None,
    feature_names: Sequence[str] | None = None,
    evaluators: str | Sequence[str] | None = None,
    evaluator_config: dict[str, Any] | None = None,
    extra_metrics: Sequence[Any] | None = None,
    custom_artifacts: Sequence[Any] | None = None,
    env_manager: str = "local",
    model_config: dict[str, Any] | None = None,
    inference_params: dict[str, Any] | None = None,
    model_id: str | None = None,
    baseline_model: Any = None,
    validation_thresholds: dict[str, MetricThreshold] | None = None,
    baseline_config: dict[str, Any] | None = None,
    custom_metrics: Sequence[Any] | None = None,
) -> EvaluationResult:
    """Evaluate *model* (a model URI, a loaded pyfunc model, a function, or None with stored
    predictions) on *data* and log MLflow's default metrics, plots and tables.

    MLflow 2's ``baseline_model`` (with ``baseline_config``), ``validation_thresholds`` and
    ``custom_metrics`` are taken too: the baseline is evaluated on the same data without being
    logged, its metrics are the result's ``baseline_model_metrics``, and the thresholds are
    checked once the candidate's results are logged.
    See docs/evaluation.md for what is computed and logged.
    """
    if custom_metrics is not None:
        if extra_metrics is not None:
            raise InvalidArgument(
                "Give extra_metrics or custom_metrics (MLflow 2's name for it), not both"
            )
        _logger.warning("evaluate's custom_metrics is MLflow 2's name: use extra_metrics")
        extra_metrics = custom_metrics
    if validation_thresholds is not None:
        check_thresholds(validation_thresholds)
    if inference_params is not None:
        raise InvalidArgument(
            "The inference_params argument can only be specified when the model is a "
            "deployment endpoint URI, which mltrail does not evaluate"
        )
    _check_model_type(model_type, extra_metrics)
    names = _evaluator_names(evaluators, model_type)
    config = _config(evaluator_config, model_type)
    explaining = _explaining(names, config, model_type)
    if explaining:
        check_explain_config(config)
    mapping = config.get("col_mapping") or {}
    if isinstance(targets, str):
        targets = mapping.get(targets, targets)
    if isinstance(predictions, str):
        predictions = mapping.get(predictions, predictions)
    metrics_wanted = check_extra_metrics(extra_metrics)
    artifact_functions = check_custom_artifacts(custom_artifacts)
    prefix = config.get("metric_prefix") or ""
    if not isinstance(prefix, str):
        raise InvalidArgument(
            f"Invalid evaluator_config['metric_prefix'] {prefix!r}: must be a string"
        )
    if data is None:
        raise InvalidArgument("The data argument cannot be None.")
    model_id = _linked_model(model, model_id)
    resolved = _resolve(model, env_manager, model_config)
    baseline = None
    if baseline_model is not None:
        try:
            baseline = _resolve(baseline_model, env_manager, baseline_config)
        except InvalidArgument as exc:
            raise InvalidArgument(f"Invalid baseline_model: {exc.message}") from None
    data_in = prepare_data(
        data,
        targets=targets,
        predictions=predictions,
        feature_names=feature_names,
        model_given=resolved.predict is not None,
    )
    if model_type in MODEL_TYPES and data_in.targets is None:
        if isinstance(data, Dataset):
            raise InvalidArgument(
                f"The targets column name must be specified in the provided Dataset for "
                f"{model_type} models, e.g. mltrail.data.from_pandas(df, targets='y')"
            )
        raise InvalidArgument(f"The targets argument must be specified for {model_type} models.")
    if resolved.predict is None and data_in.predictions is None:
        raise InvalidArgument(
            "Either a model or set of predictions must be specified in order to use the default "
            "evaluator: give the model argument, the predictions argument (a column of data), "
            "or a dataset naming its predictions column"
        )
    if resolved.predict is not None:
        output = call_model(resolved.predict, data_in.features, "predict")
        y_pred = as_column(output, predictions, data_in.rows, "predictions")
    else:
        y_pred = data_in.predictions
    measured = "default" in names or model_type in names
    out = _compute(
        resolved,
        data_in,
        y_pred,
        model_type if measured else None,
        config,
        (metrics_wanted, artifact_functions),
        predictions,
        prefix,
    )
    if explaining:
        out.explain, out.explainer = explain(resolved, data_in, y_pred, config, prefix)
    baseline_metrics = None
    if baseline is not None:
        if baseline.predict is None:
            raise InvalidArgument(
                "Invalid baseline_model: give a model URI, a loaded model or a function"
            )
        output = call_model(baseline.predict, data_in.features, "predict")
        base_pred = as_column(output, predictions, data_in.rows, "baseline predictions")
        base = _compute(
            baseline,
            data_in,
            base_pred,
            model_type if measured else None,
            config,
            (metrics_wanted, []),
            predictions,
            prefix,
            draw=False,
        )
        baseline_metrics = aggregate(base.values)

    active = active_run()
    run = active if active is not None else start_run()
    metrics = aggregate(out.values)
    try:
        if out.explainer is not None:
            log_explainer(out.explainer)
        artifacts = _log(
            run.client,
            run.info.run_id,
            data_in,
            resolved,
            metrics,
            out,
            prefix,
            dataset_path,
            model_id,
        )
    except BaseException:
        if active is None:
            end_run("FAILED")
        raise
    if active is None:
        end_run()
    result = EvaluationResult(metrics, artifacts, run.info.run_id, baseline_metrics)
    if validation_thresholds is not None:
        base_result = (
            None
            if baseline_metrics is None
            else EvaluationResult(baseline_metrics, {}, run.info.run_id)
        )
        validate_evaluation_results(validation_thresholds, result, base_result)
    return result
