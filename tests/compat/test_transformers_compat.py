"""transformers models move both ways: MLflow 3.17 loads the pipelines mltrail saves, mltrail
loads the ones MLflow saves, and both predict the same (tiny local models, nothing is
downloaded).

MLflow's default requirements name torchvision, which this environment need not have: both
sides are given their requirements.
"""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests._live_server import ServerProcess
from tests.models._tiny_transformers import GENERATION_CONFIG, INPUTS, TASKS, build

import mltrail as ours

pytest.importorskip("transformers")
pytest.importorskip("torch")
pytest.importorskip("mltrail.transformers")
with warnings.catch_warnings():  # MLflow warns while importing itself
    warnings.simplefilter("ignore")
    mlflow = pytest.importorskip("mlflow")
    pytest.importorskip("mlflow.pyfunc")
    pytest.importorskip("mlflow.transformers")

pytestmark = [
    pytest.mark.filterwarnings("ignore:::mlflow"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

_REQUIREMENTS = ["transformers", "torch"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Path, Path]]:
    """Every task's pipeline, saved by mltrail and by MLflow."""
    root = tmp_path_factory.mktemp("transformers_compat")
    out = {}
    for task in TASKS:
        pipeline = build(task, root / "src" / task)
        config = GENERATION_CONFIG if task == "text-generation" else None
        mine, theirs = root / f"ours_{task}", root / f"theirs_{task}"
        ours.transformers.save_model(
            pipeline, mine, pip_requirements=_REQUIREMENTS, model_config=config
        )
        mlflow.transformers.save_model(
            pipeline, str(theirs), pip_requirements=_REQUIREMENTS, model_config=config
        )
        out[task] = (pipeline, mine, theirs)
    return out


def _same(actual: Any, expected: Any) -> None:
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(actual, expected, rtol=1e-6)
    elif isinstance(expected, np.ndarray):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    else:
        assert actual == expected


@pytest.mark.parametrize("task", TASKS)
def test_mlmodel_entries_are_mlflows(saved: dict[str, tuple[Any, Path, Path]], task: str) -> None:
    _, mine, theirs = saved[task]
    ours_meta = ours.models.Model.load(str(mine))
    theirs_meta = mlflow.models.Model.load(str(theirs))
    assert ours_meta.flavors["transformers"] == theirs_meta.flavors["transformers"]

    def pyfunc(flavors: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in flavors["python_function"].items() if k != "python_version"}

    assert pyfunc(ours_meta.flavors) == pyfunc(theirs_meta.flavors)
    assert ours_meta.signature.to_dict() == theirs_meta.signature.to_dict()
    ours_files = {p.relative_to(mine).as_posix() for p in mine.rglob("*") if p.is_file()}
    theirs_files = {p.relative_to(theirs).as_posix() for p in theirs.rglob("*") if p.is_file()}
    # MLflow also writes the license notice it could not fetch from the Hub (LICENSE.txt).
    assert ours_files == theirs_files - {"LICENSE.txt"}


@pytest.mark.parametrize("task", TASKS)
def test_predictions_agree_both_ways(saved: dict[str, tuple[Any, Path, Path]], task: str) -> None:
    _, mine, theirs = saved[task]
    batch, single = INPUTS[task], INPUTS[task][0]
    for path in (str(mine), str(theirs)):
        theirs_model = mlflow.pyfunc.load_model(path)
        ours_model = ours.pyfunc.load_model(path)
        for data in (batch, single, pd.DataFrame({"text": batch})):
            _same(ours_model.predict(data), theirs_model.predict(data))
        if task == "text-classification":  # text pairs, JSON-encoded as the server passes them
            pairs = [json.dumps({"text": "the cat", "text_pair": t}) for t in batch]
            _same(ours_model.predict(pairs), theirs_model.predict(pairs))


@pytest.mark.parametrize("task", TASKS)
def test_native_loads_agree_both_ways(saved: dict[str, tuple[Any, Path, Path]], task: str) -> None:
    pipeline, mine, theirs = saved[task]
    for path in (str(mine), str(theirs)):
        theirs_pipeline = mlflow.transformers.load_model(path)
        ours_pipeline = ours.transformers.load_model(path)
        assert type(ours_pipeline) is type(theirs_pipeline) is type(pipeline)
        assert ours_pipeline.task == theirs_pipeline.task == task
        theirs_parts = mlflow.transformers.load_model(path, return_type="components")
        ours_parts = ours.transformers.load_model(path, return_type="components")
        assert set(ours_parts) == set(theirs_parts)
        for key, value in theirs_parts.items():
            if key in ("model", "tokenizer"):
                assert type(ours_parts[key]) is type(value)
            else:
                assert ours_parts[key] == value, key
        state = theirs_parts["model"].state_dict()
        for name, tensor in ours_parts["model"].state_dict().items():
            assert bool((tensor == state[name]).all()), name


def test_signatures_inferred_from_examples_agree(
    saved: dict[str, tuple[Any, Path, Path]], tmp_path: Path
) -> None:
    for task in ("text-classification", "fill-mask", "feature-extraction"):
        pipeline = saved[task][0]
        example = INPUTS[task]
        ours.transformers.save_model(
            pipeline, tmp_path / f"ours_{task}", input_example=example, pip_requirements=[]
        )
        mlflow.transformers.save_model(
            pipeline, str(tmp_path / f"theirs_{task}"), input_example=example, pip_requirements=[]
        )
        mine = ours.models.Model.load(str(tmp_path / f"ours_{task}"))
        theirs = mlflow.models.Model.load(str(tmp_path / f"theirs_{task}"))
        assert mine.signature.to_dict() == theirs.signature.to_dict(), task
        assert mine.saved_input_example_info == theirs.saved_input_example_info, task
        for name in ("input_example.json", "serving_input_example.json"):
            ours_text = (tmp_path / f"ours_{task}" / name).read_text()
            assert ours_text == (tmp_path / f"theirs_{task}" / name).read_text(), (task, name)


def test_a_logged_model_loads_in_mlflow(
    saved: dict[str, tuple[Any, Path, Path]], tmp_path: Path
) -> None:
    pipeline = saved["text-classification"][0]
    ours.set_tracking_uri(f"sqlite:///{tmp_path / 'ours.db'}")
    try:
        with ours.start_run():
            info = ours.transformers.log_model(
                pipeline, name="classifier", pip_requirements=_REQUIREMENTS
            )
        local = ours.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path / "dl"))
    finally:
        ours.set_tracking_uri(None)
    loaded = mlflow.pyfunc.load_model(local)
    _same(
        loaded.predict(INPUTS["text-classification"]),
        pd.DataFrame(pipeline(INPUTS["text-classification"])),
    )


def test_takes_mlflows_arguments() -> None:
    for fn in ("save_model", "log_model", "load_model", "get_default_pip_requirements"):
        theirs = list(inspect.signature(getattr(mlflow.transformers, fn)).parameters)
        mine = list(inspect.signature(getattr(ours.transformers, fn)).parameters)
        # mltrail's log_model also takes run_id (every flavor's does), before **kwargs
        assert [p for p in mine if p != "run_id"] == theirs, fn


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_logged_through_a_server_both_ways(
    saved: dict[str, tuple[Any, Path, Path]], mlflow_server: ServerProcess
) -> None:
    """MLflow's client logs to ``mltrail server`` and mltrail loads the model by id and by
    run; mltrail logs into the same run and MLflow loads that."""
    pipeline = saved["text-classification"][0]
    texts = INPUTS["text-classification"]
    expected = pd.DataFrame(pipeline(texts))
    mlflow.set_experiment("transformers")
    with mlflow.start_run() as run:
        theirs = mlflow.transformers.log_model(
            pipeline, name="theirs", pip_requirements=_REQUIREMENTS
        )
    ours.set_tracking_uri(mlflow_server.url)
    try:
        for uri in (theirs.model_uri, f"runs:/{run.info.run_id}/theirs"):
            _same(ours.pyfunc.load_model(uri).predict(texts), expected)
            assert type(ours.transformers.load_model(uri)) is type(pipeline)
        with ours.start_run(run_id=run.info.run_id):
            mine = ours.transformers.log_model(pipeline, name="ours")
    finally:
        ours.set_tracking_uri(None)
    _same(mlflow.pyfunc.load_model(mine.model_uri).predict(texts), expected)
    parts = mlflow.transformers.load_model(mine.model_uri, return_type="components")
    assert type(parts["model"]) is type(pipeline.model)
