"""The names issue 21 (point 1) added behave as MLflow's: one scenario script
(tests/models/_names_scenario.py) runs under the real ``mlflow`` and under ``mltrail``, each in
its own process with its own SQLite store, and what each returned or recorded is compared.

Covered: ``log_metric``/``log_metrics`` with ``model_id=`` and ``dataset=`` (the run's metrics,
model and dataset inputs, the logged model's metrics), ``log_input(model=)``,
``MlflowClient.log_metric(dataset_name=, dataset_digest=, model_id=)``,
``validate_serving_input``, ``load_pyfunc``, ``PyFuncModel.input_example``/``model_id``,
``update_model_requirements``, ``get_model_dependencies``, ``infer_pip_requirements``,
``EnvType``, ``get_default_conda_env``, an ``(input, params)`` example (MLmodel's info, the
``input_example.json`` file, ``Model.load_input_example_params``, ``get_serving_input``,
``get_model_info``), models from code (``set_model``, ``ModelConfig``, ``python_model=`` a
file, ``model_config``), ``mlflow.Image`` and ``log_image`` of one, and the
entity helpers (``matches_view_type``, ``FileInfo``, ``Metric.to_dictionary``, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests._differential import record_both

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("_names_scenario.py")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    pytest.importorskip("mlflow")
    pytest.importorskip("sklearn")
    pytest.importorskip("PIL")
    summaries = record_both(SCRIPT, tmp_path_factory.mktemp("names-differential"))
    return summaries["mlflow"], summaries["mltrail"]


def test_the_scenario_records_the_same(recordings: tuple[dict[str, Any], dict[str, Any]]) -> None:
    theirs, ours = recordings
    theirs, ours = dict(theirs), dict(ours)
    # The one difference, on purpose: MLflow treats any operation but "add" as "remove";
    # mltrail refuses an unknown operation.
    assert (theirs.pop("bad_operation"), ours.pop("bad_operation")) == (
        None,
        "INVALID_PARAMETER_VALUE",
    )
    assert ours == theirs


def test_the_scenario_exercised_what_it_claims(
    recordings: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    _, ours = recordings
    assert ours["model_metrics"] == [
        ["acc", 0.75, 2, "train", True, True],
        ["auc", 0.25, 3, None, False, True],
        ["f1", 0.5, 3, None, False, True],
        ["loss", 0.125, 4, "train", True, True],
    ]
    assert ours["model_inputs"] == ["m", "other"]
    assert ours["added"] == ["pandas", "tabulate"]
    assert ours["pandas_pin"] == ["pandas==2.2.0"]
    assert ours["removed"] is True
    assert ours["dataset_inputs"] == [["eval", ["eval"]], ["train", []]]
    assert ours["image_artifacts"] == ["pictures/orange.png"]
    assert ours["validated"] == ours["pyfunc_predict"]
    assert ours["code_predict"] == [3, 6]
    assert ours["code_predict_config"] == [10, 20]
    assert ours["code_flavor"][:2] == ["mlflow.pyfunc.loaders.code_model", "code_model.py"]
    assert ours["example_params"] == {"k": 1}
    assert ours["example_file"]["params"] == {"k": 1}
