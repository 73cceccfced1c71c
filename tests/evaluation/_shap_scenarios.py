"""SHAP explainability under ``mlflow`` or ``mltrail``: ``python _shap_scenarios.py LIB URI OUT``.

Each scenario evaluates a small scikit-learn model (fixed seeds) with explainability on and a
small ``explainability_nsamples`` (SHAP's time grows with it), and records what was logged
(the summary of _scenarios.py) and whether each SHAP artifact's content is an image.
"""

from __future__ import annotations

from typing import Any

from _scenarios import COLUMNS, _fit, _log, _summary, data, record


def _explained(lib: Any, model: Any, frame: Any, **kwargs: Any) -> dict[str, Any]:
    with lib.start_run() as run:
        result = lib.models.evaluate(model, frame, targets="y", **kwargs)
    summary = _summary(lib, result)
    # The explainers logged as models of the run (``log_explainer``): name and shap flavor.
    found = lib.MlflowClient().search_logged_models(experiment_ids=[run.info.experiment_id])
    summary["explainers"] = sorted(
        [m.name, lib.models.Model.load(f"models:/{m.model_id}").flavors.get("shap")]
        for m in found
        if m.source_run_id == run.info.run_id
    )
    summary["images"] = {
        name: hasattr(artifact.content, "size")
        for name, artifact in result.artifacts.items()
        if name.startswith("shap")
    }
    return summary


def scenarios(lib: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    binary, y = data("binary", rows=160)
    binary_uri = _log(lib, _fit("binary", binary, y))
    # A native linear model of two classes: SHAP's linear explainer.
    out["binary_native"] = _explained(
        lib,
        binary_uri,
        binary,
        model_type="classifier",
        evaluator_config={"explainability_nsamples": 100},
    )
    # Only the shap evaluator: its plots, no metrics.
    out["shap_only"] = _explained(
        lib,
        binary_uri,
        binary,
        model_type="classifier",
        evaluators="shap",
        evaluator_config={"explainability_nsamples": 60},
    )
    # Three classes: the predict function, explained by SHAP's exact explainer; a prefix.
    multi, y = data("multiclass", rows=120)
    out["multiclass_prefixed"] = _explained(
        lib,
        _log(lib, _fit("multiclass", multi, y)),
        multi,
        model_type="classifier",
        evaluator_config={"explainability_nsamples": 30, "metric_prefix": "m_"},
    )
    regression, y = data("regression", rows=120)
    estimator = _fit("regression", regression, y)
    for algorithm in ("kernel", "permutation"):
        out[f"regression_{algorithm}"] = _explained(
            lib,
            lambda df: estimator.predict(df[COLUMNS]),
            regression,
            model_type="regressor",
            evaluator_config={
                "explainability_nsamples": 25,
                "explainability_algorithm": algorithm,
                # The explainer itself too, as a model of the run (the permutation one).
                "log_explainer": algorithm == "permutation",
            },
        )
    # Skipped with a warning: labels that are not numbers.  (A feature of strings is skipped
    # too, but MLflow 3.17 fails on pandas 3's string columns: see test_explain.py.)
    strings, y = data("strings", rows=80)
    out["string_labels"] = _explained(
        lib,
        lambda df: (df["a"] > 0).map({True: "yes", False: "no"}),
        strings,
        model_type="classifier",
    )
    return out


if __name__ == "__main__":
    record(scenarios)
