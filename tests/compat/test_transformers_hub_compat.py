"""``save_pretrained=False`` (Hugging Face Hub references) and ``persist_pretrained_model``
against MLflow 3.17, with a local Hugging Face cache built by the scenario: both libraries
record the same references, load each other's models from the cache, and persist each other's
models to the same files and predictions (tests/models/_hub_scenario.py, in a fresh
interpreter: huggingface_hub reads the cache location when imported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import mltrail

pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("mlflow.transformers")

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
SRC = str(Path(mltrail.__file__).resolve().parents[1])
LIBS = ("ours", "theirs")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hub")
    env = {
        **os.environ,
        "HF_HUB_CACHE": str(root / "cache"),
        "HF_HUB_OFFLINE": "1",
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true",
        "PYTHONPATH": os.pathsep.join([SRC, str(REPO_ROOT)]),
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    done = subprocess.run(
        [sys.executable, "-m", "tests.models._hub_scenario", str(root)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_references_are_mlflows(scenario: dict[str, Any]) -> None:
    assert scenario["name_or_path"] == "tiny-org/tiny-gpt2"
    ours, theirs = scenario["flavor_ours"], scenario["flavor_theirs"]
    assert ours == theirs
    assert "model_binary" not in ours
    assert ours["source_model_revision"] == ours["tokenizer_revision"]
    assert len(ours["source_model_revision"]) == 40
    # No weights and no components: MLflow also writes the license notice it could not fetch.
    assert scenario["files_ours"] == [
        "MLmodel",
        "conda.yaml",
        "python_env.yaml",
        "requirements.txt",
    ]
    assert set(scenario["files_theirs"]) - set(scenario["files_ours"]) == {"LICENSE.txt"}


def test_each_loads_the_others_from_the_cache(scenario: dict[str, Any]) -> None:
    for saved in LIBS:
        for loader in LIBS:
            assert scenario[f"predicted_{saved}_by_{loader}"] == scenario["expected"]


def test_persisting_writes_the_same_model(scenario: dict[str, Any]) -> None:
    reference = scenario["flavor_persisted_theirs_by_theirs"]
    assert reference["model_binary"] == "model"
    assert "source_model_revision" not in reference
    assert "tokenizer_revision" not in reference
    for saved in LIBS:
        for persister in LIBS:
            name = f"persisted_{saved}_by_{persister}"
            assert scenario[f"flavor_{name}"] == reference
            files = set(scenario[f"files_{name}"]) - {"LICENSE.txt"}
            assert files == set(scenario["files_persisted_theirs_by_theirs"]) - {"LICENSE.txt"}
            for loader in LIBS:
                assert scenario[f"predicted_{name}_by_{loader}"] == scenario["expected"]


def test_peft_adapter_on_a_hub_model(scenario: dict[str, Any]) -> None:
    ours, theirs = scenario["flavor_peft_ours"], scenario["flavor_peft_theirs"]
    assert ours == theirs
    assert ours["peft_adaptor"] == "peft"
    assert "model_binary" not in ours
    assert {"peft/adapter_config.json", "peft/adapter_model.safetensors"} <= set(
        scenario["files_peft_ours"]
    )
    assert not any(f.startswith(("model/", "components/")) for f in scenario["files_peft_ours"])
    assert set(scenario["files_peft_theirs"]) - set(scenario["files_peft_ours"]) == {"LICENSE.txt"}
    for saved in ("peft_ours", "peft_theirs"):
        for loader in LIBS:
            assert scenario[f"predicted_{saved}_by_{loader}"] == scenario["peft_expected"]


def test_a_logged_model_is_persisted_in_place(scenario: dict[str, Any]) -> None:
    assert "model" not in scenario["logged_before"]
    assert {"model", "components"} <= set(scenario["logged_after"])
    assert scenario["logged_predicted"] == scenario["expected"]


def test_save_pretrained_false_needs_the_cached_repository(tmp_path: Path) -> None:
    from tests.models._tiny_transformers import build

    pipeline = build("text-generation", tmp_path / "src")
    pipeline.model.name_or_path = "tiny-org/not-in-the-cache"
    with pytest.raises(mltrail.exceptions.MlflowException, match="not in the local Hugging Face"):
        mltrail.transformers.save_model(pipeline, tmp_path / "m", save_pretrained=False)
    # No Hub repository at all (built in memory): the weights are saved, as MLflow does.
    pipeline.model.name_or_path = ""
    mltrail.transformers.save_model(
        pipeline, tmp_path / "w", save_pretrained=False, pip_requirements=["transformers"]
    )
    assert (tmp_path / "w" / "model" / "model.safetensors").is_file()


def test_persisting_a_registered_version_is_refused_before_any_work() -> None:
    with pytest.raises(mltrail.exceptions.MlflowException, match="registered model version"):
        mltrail.transformers.persist_pretrained_model("models:/tiny/1")
