"""``log_explanation``: SHAP values of a prediction function, logged as MLflow logs them.

The files go to the run's ``model_explanations_shap/`` (or the given artifact path), with
MLflow's names: ``base_values.npy`` (the kernel explainer's expected value), ``shap_values.npy``
and ``summary_bar_plot.png`` (SHAP's summary plot of the mean absolute values as bars, drawn
by SHAP with matplotlib at its default size and resolution, as MLflow draws it).
The background data is at most 100 rows, SHAP's k-means summary of the features; autologging
records nothing while the explainer calls the model.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

from mltrail._model_tracking import model_tracking
from mltrail._optional import require

__all__ = [
    "BASE_VALUES_FILE_NAME",
    "DEFAULT_ARTIFACT_PATH",
    "SHAP_VALUES_FILE_NAME",
    "SUMMARY_BAR_PLOT_FILE_NAME",
    "log_explanation",
]

DEFAULT_ARTIFACT_PATH = "model_explanations_shap"
BASE_VALUES_FILE_NAME = "base_values.npy"
SHAP_VALUES_FILE_NAME = "shap_values.npy"
SUMMARY_BAR_PLOT_FILE_NAME = "summary_bar_plot.png"
_MAX_BACKGROUND_ROWS = 100


def log_explanation(
    predict_function: Callable[[Any], Any], features: Any, artifact_path: str | None = None
) -> str:
    """Explain *predict_function*'s output on *features* (rows by features: an array, a
    DataFrame or a sparse matrix) with SHAP's kernel explainer and log the base values, the
    SHAP values and a summary bar plot below *artifact_path* of the active run (started if
    none); returns their artifact URI."""
    import numpy as np

    shap = require("shap")
    require("matplotlib")
    import matplotlib.pyplot as plt

    path = DEFAULT_ARTIFACT_PATH if artifact_path is None else artifact_path
    tracking = model_tracking()
    with tracking.autolog_suspended(), tempfile.TemporaryDirectory() as tmp:
        rows = features.shape[0] if hasattr(features, "shape") else len(features)
        background = shap.kmeans(features, min(_MAX_BACKGROUND_ROWS, rows))
        explainer = shap.KernelExplainer(predict_function, background)
        values = explainer.shap_values(features)
        np.save(os.path.join(tmp, BASE_VALUES_FILE_NAME), explainer.expected_value)
        np.save(os.path.join(tmp, SHAP_VALUES_FILE_NAME), values)
        shap.summary_plot(values, features, plot_type="bar", show=False)
        figure = plt.gcf()
        try:
            figure.tight_layout()
            figure.savefig(os.path.join(tmp, SUMMARY_BAR_PLOT_FILE_NAME))
        finally:
            plt.close(figure)
        return tracking.log_artifacts(tmp, path, None)
