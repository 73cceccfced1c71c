"""PEFT adapters in the transformers flavor, against MLflow 3.17: the same files and MLmodel
entries, and each library loads the other's models to the same predictions (tiny local models
with LoRA adapters, nothing downloaded)."""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from tests.models._tiny_transformers import GENERATION_CONFIG, INPUTS, build

import mltrail as ours

peft = pytest.importorskip("peft")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    mlflow = pytest.importorskip("mlflow")
    pytest.importorskip("mlflow.transformers")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:::mlflow"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

_REQUIREMENTS = ["transformers", "torch", "peft"]
_IDS = [[5, 6, 7, 8, 9]]


def _lora(task: str, folder: Path) -> Any:
    """A pipeline of *task* whose model is a LoRA adapter (non-zero weights) on a tiny model."""
    pipeline = build(task, folder)
    torch.manual_seed(1)
    if task == "text-generation":
        config = peft.LoraConfig(r=2, lora_alpha=4, target_modules=["c_attn"], lora_dropout=0.0)
    else:  # sequence classification: peft also wraps the classifier head (modules_to_save)
        config = peft.LoraConfig(
            task_type="SEQ_CLS", r=2, target_modules=["query", "value"], lora_dropout=0.0
        )
    config.init_lora_weights = False
    model = peft.get_peft_model(pipeline.model, config)
    model.eval()
    return transformers.pipeline(task, model=model, tokenizer=pipeline.tokenizer)


def _logits(model: Any) -> Any:
    with torch.no_grad():
        return model(input_ids=torch.tensor(_IDS)).logits


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _flavor(root: Path) -> dict[str, Any]:
    conf: dict[str, Any] = yaml.safe_load((root / "MLmodel").read_text())["flavors"]
    return conf


@pytest.fixture(autouse=True)
def _quiet() -> None:
    logging.getLogger("transformers").setLevel(logging.ERROR)


@pytest.mark.parametrize("task", ["text-generation", "text-classification"])
def test_peft_models_move_both_ways(tmp_path: Path, task: str) -> None:
    pipeline = _lora(task, tmp_path / "src")
    expected = _logits(pipeline.model)
    config = GENERATION_CONFIG if task == "text-generation" else None
    ours.transformers.save_model(
        pipeline, tmp_path / "ours", pip_requirements=_REQUIREMENTS, model_config=config
    )
    mlflow.transformers.save_model(
        pipeline, str(tmp_path / "theirs"), pip_requirements=_REQUIREMENTS, model_config=config
    )
    # MLflow also writes the license notice it could not fetch from the Hub (LICENSE.txt).
    assert _files(tmp_path / "ours") == _files(tmp_path / "theirs") - {"LICENSE.txt"}
    assert {"peft/adapter_config.json", "peft/adapter_model.safetensors"} <= _files(
        tmp_path / "ours"
    )
    # The base model's own weights, under its own names: nothing of the adapter in model/.
    from safetensors import safe_open

    with safe_open(str(tmp_path / "ours" / "model" / "model.safetensors"), "pt") as weights:
        names = list(weights.keys())
    base_names = set(build(task, tmp_path / "plain").model.state_dict())
    assert set(names) <= base_names
    assert not [n for n in names if "lora_" in n or "base_layer" in n or "original_module" in n]
    our_flavors, their_flavors = _flavor(tmp_path / "ours"), _flavor(tmp_path / "theirs")
    assert our_flavors["transformers"] == their_flavors["transformers"]
    assert our_flavors["transformers"]["peft_adaptor"] == "peft"
    assert our_flavors["transformers"]["model_binary"] == "model"  # no Hub repository: weights
    for saved in ("ours", "theirs"):
        for lib in (ours, mlflow):
            if (saved, lib) == ("theirs", mlflow):
                # MLflow 3.17 writes the base weights under the names peft gave them in place
                # ("...c_attn.base_layer.weight") and its own load leaves them newly initialised.
                continue
            loaded = lib.transformers.load_model(str(tmp_path / saved))
            assert ours.transformers.is_peft_model(loaded.model)
            assert torch.allclose(_logits(loaded.model), expected, atol=1e-6), (saved, lib)
    # python_function predictions agree both ways.
    for saved in ("ours", "theirs"):
        ours_pyfunc = ours.pyfunc.load_model(str(tmp_path / saved))
        predicted = ours_pyfunc.predict(INPUTS[task])
        theirs = mlflow.pyfunc.load_model(str(tmp_path / "ours")).predict(INPUTS[task])
        if isinstance(theirs, pd.DataFrame):
            pd.testing.assert_frame_equal(predicted, theirs, rtol=1e-6)
        else:
            assert predicted == theirs


def test_base_model_path_refers_to_a_local_checkpoint(tmp_path: Path) -> None:
    pipeline = build("text-generation", tmp_path / "src")
    base_dir = tmp_path / "base"
    pipeline.model.save_pretrained(base_dir)
    base = transformers.GPT2LMHeadModel.from_pretrained(base_dir)
    torch.manual_seed(2)
    config = peft.LoraConfig(r=2, target_modules=["c_attn"], init_lora_weights=False)
    lora = transformers.pipeline(
        "text-generation", model=peft.get_peft_model(base, config), tokenizer=pipeline.tokenizer
    )
    expected = _logits(lora.model)
    ours.transformers.save_model(
        lora, tmp_path / "ours", base_model_path=str(base_dir), pip_requirements=_REQUIREMENTS
    )
    mlflow.transformers.save_model(
        lora,
        str(tmp_path / "theirs"),
        base_model_path=str(base_dir),
        pip_requirements=_REQUIREMENTS,
    )
    assert _files(tmp_path / "ours") == _files(tmp_path / "theirs") - {"LICENSE.txt"}
    assert not any(f.startswith("model/") for f in _files(tmp_path / "ours"))
    assert (
        _flavor(tmp_path / "ours")["transformers"] == _flavor(tmp_path / "theirs")["transformers"]
    )
    assert _flavor(tmp_path / "ours")["transformers"]["local_base_model_path"] == str(base_dir)
    moved = tmp_path / "moved"
    shutil.copytree(base_dir, moved)
    for saved in ("ours", "theirs"):
        for lib in (ours, mlflow):
            for override in (None, str(moved)):
                loaded = lib.transformers.load_model(
                    str(tmp_path / saved), base_model_path=override
                )
                assert torch.allclose(_logits(loaded.model), expected, atol=1e-6)
    plain = build("fill-mask", tmp_path / "plain")
    for lib in (ours, mlflow):
        with pytest.raises(lib.exceptions.MlflowException, match="PEFT") as caught:
            lib.transformers.save_model(
                plain, str(tmp_path / f"bad-{lib.__name__}"), base_model_path=str(base_dir)
            )
        assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_peft_helpers_agree_with_mlflows(tmp_path: Path) -> None:
    pipeline = _lora("text-generation", tmp_path / "src")
    model = pipeline.model
    assert ours.transformers.is_peft_model(model) is mlflow.transformers.is_peft_model(model)
    assert ours.transformers.is_peft_model(model)
    assert not ours.transformers.is_peft_model(ours.transformers.get_peft_base_model(model))
    assert ours.transformers.get_peft_base_model(model) is mlflow.transformers.get_peft_base_model(
        model
    )
    model.save_pretrained(tmp_path / "adapter")
    fresh = build("text-generation", tmp_path / "fresh").model  # the same seeded base
    wrapped = ours.transformers.get_model_with_peft_adapter(fresh, str(tmp_path / "adapter"))
    assert ours.transformers.is_peft_model(wrapped)
    assert torch.allclose(_logits(wrapped), _logits(model), atol=1e-6)
    requirements = (tmp_path / "reqs").as_posix()
    ours.transformers.save_model(pipeline, requirements)
    names = [
        line.split("==")[0] for line in Path(requirements, "requirements.txt").read_text().split()
    ]
    assert "peft" in names


def test_loading_an_adapter_without_peft_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    pipeline = _lora("text-generation", tmp_path / "src")
    ours.transformers.save_model(pipeline, tmp_path / "m", pip_requirements=_REQUIREMENTS)
    monkeypatch.setitem(sys.modules, "peft", None)
    with pytest.raises(ours.exceptions.MissingDependency, match=r"pip install 'mltrail\[peft\]'"):
        ours.transformers.load_model(str(tmp_path / "m"))
