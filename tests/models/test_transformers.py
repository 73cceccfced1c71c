"""The transformers flavor: tiny local pipelines saved in MLflow's layout, loaded back as
pipelines, components and Python functions (nothing is downloaded)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from tests.models._tiny_transformers import GENERATION_CONFIG, INPUTS, TASKS, build

import mltrail
from mltrail.exceptions import InvalidArgument, MltrailError

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
flavor = pytest.importorskip("mltrail.transformers")
TransformersPyfunc = flavor._pyfunc.TransformersPyfunc

# Logged by transformers through logging (not warnings): generation arguments next to the
# model's generation config.
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Path]]:
    """Every task's pipeline and the directory it was saved to (no requirement inference)."""
    root = tmp_path_factory.mktemp("transformers")
    out = {}
    for task in TASKS:
        pipeline = build(task, root / "src" / task)
        config = GENERATION_CONFIG if task == "text-generation" else None
        path = root / task
        flavor.save_model(
            pipeline, path, pip_requirements=["transformers", "torch"], model_config=config
        )
        out[task] = (pipeline, path)
    return out


def _mlmodel(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((path / "MLmodel").read_text())
    return loaded


def _native(pipeline: Any, task: str, data: Any) -> Any:
    """What MLflow's python_function returns, computed from the pipeline directly."""
    if task == "text-classification":
        return pd.DataFrame(pipeline(data))
    if task == "fill-mask":
        raw = pipeline(data)
        top = [group[0]["token_str"] for group in raw] if isinstance(data, list) else [raw[0]]
        return [t["token_str"].strip() if isinstance(t, dict) else t.strip() for t in top]
    if task == "token-classification":
        raw = pipeline(data)
        groups = raw if isinstance(data, list) else [raw]
        return [",".join(e["entity"] for e in group) for group in groups]
    if task == "feature-extraction":
        first = data[0] if isinstance(data, list) else data
        return np.array(pipeline(first)[0])
    raw = pipeline(data, **GENERATION_CONFIG)
    groups = raw if isinstance(data, list) else [raw]
    return [group[0]["generated_text"].strip() for group in groups]


def _same(actual: Any, expected: Any) -> None:
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(actual, expected)
    elif isinstance(expected, np.ndarray):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    else:
        assert actual == expected


@pytest.mark.parametrize("task", TASKS)
def test_flavor_entry_and_files(saved: dict[str, tuple[Any, Path]], task: str) -> None:
    pipeline, path = saved[task]
    content = _mlmodel(path)
    conf = content["flavors"]["transformers"]
    tokenizer_type = type(pipeline.tokenizer).__name__
    assert conf == {
        "code": None,
        "components": ["tokenizer"],
        "instance_type": type(pipeline).__name__,
        "model_binary": "model",
        "pipeline_model_type": type(pipeline.model).__name__,
        "source_model_name": "",
        "task": task,
        "tokenizer_type": tokenizer_type,
        "torch_dtype": "torch.float32",
        "transformers_version": transformers.__version__,
    }
    assert content["flavors"]["python_function"]["loader_module"] == "mlflow.transformers"
    assert (path / "model" / "config.json").is_file()
    assert (path / "model" / "model.safetensors").is_file()
    assert not list((path / "model").glob("*.bin"))
    assert (path / "components" / "tokenizer" / "tokenizer_config.json").is_file()


@pytest.mark.parametrize("task", TASKS)
def test_pyfunc_predictions_follow_mlflows_shapes(
    saved: dict[str, tuple[Any, Path]], task: str
) -> None:
    pipeline, path = saved[task]
    model = mltrail.pyfunc.load_model(str(path))
    batch, single = INPUTS[task], INPUTS[task][0]
    _same(model.predict(batch), _native(pipeline, task, batch))
    _same(model.predict(single), _native(pipeline, task, single))
    # A one-column DataFrame (the scoring server's form) is the same batch.
    _same(model.predict(pd.DataFrame({"text": batch})), _native(pipeline, task, batch))
    assert isinstance(model.get_raw_model(), transformers.Pipeline)


def test_text_classification_pairs_and_params(saved: dict[str, tuple[Any, Path]]) -> None:
    pipeline, path = saved["text-classification"]
    model = mltrail.pyfunc.load_model(str(path))
    pair = {"text": "the cat", "text_pair": "sat on the mat"}
    # The schema's string column takes the pair as its JSON encoding (the server's form).
    expected = pd.DataFrame(pipeline([pair]))
    pd.testing.assert_frame_equal(model.predict([json.dumps(pair)]), expected)
    with pytest.raises(InvalidArgument, match="text_pair"):
        TransformersPyfunc(pipeline).predict({"sentence": "the cat"})


def test_generation_params_override_the_model_config(
    saved: dict[str, tuple[Any, Path]], tmp_path: Path
) -> None:
    pipeline, _ = saved["text-generation"]
    signature = mltrail.models.infer_signature(
        INPUTS["text-generation"], ["x", "y"], params={"max_new_tokens": 4}
    )
    flavor.save_model(
        pipeline,
        tmp_path / "m",
        signature=signature,
        model_config=GENERATION_CONFIG,
        pip_requirements=[],
    )
    model = mltrail.pyfunc.load_model(str(tmp_path / "m"))
    longer = model.predict("the cat", params={"max_new_tokens": 8})
    expected = pipeline("the cat", max_new_tokens=8, do_sample=False)[0]["generated_text"]
    assert longer == [expected.strip()]
    shorter = model.predict("the cat")
    assert len(shorter[0].split()) < len(longer[0].split())


@pytest.mark.parametrize("task", TASKS)
def test_pipeline_and_components_load(saved: dict[str, tuple[Any, Path]], task: str) -> None:
    pipeline, path = saved[task]
    loaded = flavor.load_model(str(path))
    assert type(loaded) is type(pipeline)
    assert type(loaded.model) is type(pipeline.model)
    for name, value in pipeline.model.state_dict().items():
        torch.testing.assert_close(loaded.model.state_dict()[name], value)
    components = flavor.load_model(str(path), return_type="components")
    assert set(components) == {"task", "dtype", "model", "tokenizer"}
    assert components["task"] == task
    assert components["dtype"] == torch.float32
    assert type(components["model"]) is type(pipeline.model)
    assert components["tokenizer"].get_vocab() == pipeline.tokenizer.get_vocab()


def test_default_and_inferred_signatures(
    saved: dict[str, tuple[Any, Path]], tmp_path: Path
) -> None:
    expected = {
        "text-classification": (
            [{"type": "string", "required": True}],
            [
                {"type": "string", "name": "label", "required": True},
                {"type": "double", "name": "score", "required": True},
            ],
        ),
        "feature-extraction": (
            [{"type": "string", "required": True}],
            [
                {
                    "name": "double",
                    "type": "tensor",
                    "tensor-spec": {"dtype": "float64", "shape": [-1]},
                }
            ],
        ),
    }
    strings = ([{"type": "string", "required": True}], [{"type": "string", "required": True}])
    for task in TASKS:
        signature = mltrail.models.Model.load(str(saved[task][1])).signature
        assert signature is not None
        assert (signature.inputs.to_dict(), signature.outputs.to_dict()) == expected.get(
            task, strings
        )
    pipeline, _ = saved["text-classification"]
    flavor.save_model(
        pipeline, tmp_path / "ex", input_example=["the cat", "a dog"], pip_requirements=[]
    )
    inferred = mltrail.models.Model.load(str(tmp_path / "ex")).signature
    assert inferred.inputs.to_dict() == [{"type": "string", "required": True}]
    assert [c["name"] for c in inferred.outputs.to_dict()] == ["label", "score"]
    example = json.loads((tmp_path / "ex" / "input_example.json").read_text())
    assert example == ["the cat", "a dog"]


def test_log_model_with_a_dict_of_components(
    tmp_path: Path, saved: dict[str, tuple[Any, Path]]
) -> None:
    pipeline, _ = saved["token-classification"]
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with mltrail.start_run():
            info = flavor.log_model(
                {"model": pipeline.model, "tokenizer": pipeline.tokenizer},
                name="ner",
                task="token-classification",
                pip_requirements=["transformers"],
                registered_model_name="tiny-ner",
            )
        loaded = mltrail.pyfunc.load_model(info.model_uri)
        assert loaded.predict(INPUTS["token-classification"]) == _native(
            pipeline, "token-classification", INPUTS["token-classification"]
        )
        registered = mltrail.pyfunc.load_model("models:/tiny-ner/1")
        assert registered.predict("the cat sat") == loaded.predict("the cat sat")
    finally:
        mltrail.set_tracking_uri(None)


def test_bad_arguments_are_named(saved: dict[str, tuple[Any, Path]], tmp_path: Path) -> None:
    pipeline, path = saved["fill-mask"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"save_pretrained": "no"}, "save_pretrained"),
        ({"base_model_path": str(tmp_path)}, "base_model_path"),
        ({"prompt_template": "no field"}, "prompt_template"),
        ({"unknown_option": 1}, "unknown_option"),
        ({"model_config": ["x"]}, "model_config"),
    ]
    for i, (kwargs, field) in enumerate(cases):
        with pytest.raises(MltrailError, match=field):
            flavor.save_model(pipeline, tmp_path / f"bad{i}", pip_requirements=[], **kwargs)
    with pytest.raises(InvalidArgument, match="task"):
        flavor.save_model({"model": pipeline.model}, tmp_path / "nodict", pip_requirements=[])
    with pytest.raises(InvalidArgument, match="transformers_model"):
        flavor.save_model(object(), tmp_path / "obj", pip_requirements=[])
    with pytest.raises(InvalidArgument, match="return_type"):
        flavor.load_model(str(path), return_type="model")
    with pytest.raises(MltrailError, match="prompts"):
        flavor.log_model(pipeline, name="m", prompts=["p"])


def _copy_with_conf(src: Path, dst: Path, **changes: Any) -> Path:
    import shutil

    shutil.copytree(src, dst)
    content = _mlmodel(dst)
    content["flavors"]["transformers"].update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del content["flavors"]["transformers"][key]
    (dst / "MLmodel").write_text(yaml.safe_dump(content))
    return dst


def test_loading_runs_no_foreign_code_or_pickles(
    saved: dict[str, tuple[Any, Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, path = saved["text-classification"]
    custom = _copy_with_conf(path, tmp_path / "custom", pipeline_model_type="MyRemoteModel")
    with pytest.raises(InvalidArgument, match="trust_remote_code"):
        flavor.load_model(str(custom))
    private = _copy_with_conf(path, tmp_path / "private", tokenizer_type="__class__")
    with pytest.raises(InvalidArgument, match="tokenizer_type"):
        flavor.load_model(str(private))
    hub = _copy_with_conf(
        path,
        tmp_path / "hub",
        model_binary=None,
        source_model_name="org/not-cached",
        source_model_revision="0" * 40,
    )
    with pytest.raises(MltrailError, match=r"save_pretrained=False.*org/not-cached.*hf download"):
        flavor.load_model(str(hub))
    # Pickled weights (pytorch_model.bin) load only when pickles are allowed.
    pickled = tmp_path / "pickled"
    _copy_with_conf(path, pickled)
    model = flavor.load_model(str(path)).model
    (pickled / "model" / "model.safetensors").unlink()
    torch.save(model.state_dict(), pickled / "model" / "pytorch_model.bin")
    monkeypatch.setenv("MLTRAIL_ALLOW_PICKLE", "false")
    with pytest.raises(MltrailError, match="pickle"):
        flavor.load_model(str(pickled))


def test_requirements_are_what_loading_the_model_imports(
    saved: dict[str, tuple[Any, Path]], tmp_path: Path
) -> None:
    """The flavor writes its requirements without loading the model in a fresh interpreter:
    they are what such a load finds (the requirements probe, run here on purpose)."""
    from mltrail.models._env import infer_requirements

    pipeline, _ = saved["feature-extraction"]
    flavor.save_model(pipeline, tmp_path / "m", extra_pip_requirements=["extra-package==1"])
    written = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert written[-1] == "extra-package==1"
    probed = infer_requirements(str(tmp_path / "m"), flavor.get_default_pip_requirements())
    assert sorted(written[:-1]) == sorted(probed)
    names = {r.split("==")[0] for r in written}
    assert {"transformers", "torch", "numpy", "pandas"} <= names
    defaults = flavor.get_default_pip_requirements()
    assert defaults[:2] == [f"transformers=={transformers.__version__}", defaults[1]]
    assert defaults[1].startswith("torch==")
    env = flavor.get_default_conda_env()
    assert any("transformers" in str(dep) for dep in env["dependencies"])


def test_import_pulls_in_neither_transformers_nor_torch() -> None:
    probe = (
        "import sys, mltrail, mltrail.transformers\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


REMOTE_CODE = '''
from transformers import BertForSequenceClassification


class TinyRemoteModel(BertForSequenceClassification):
    """A model class defined by the model's own code (trust_remote_code)."""
'''


def test_model_code_runs_only_when_trusted_explicitly(
    saved: dict[str, tuple[Any, Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import transformers.dynamic_module_utils as dynamic

    # transformers copies trusted code to its modules cache: keep it in this test's folder.
    monkeypatch.setattr(dynamic, "HF_MODULES_CACHE", str(tmp_path / "hf_modules"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    pipeline, path = saved["text-classification"]
    remote = _copy_with_conf(path, tmp_path / "remote", pipeline_model_type="TinyRemoteModel")
    (remote / "model" / "remote_code.py").write_text(REMOTE_CODE)
    config = json.loads((remote / "model" / "config.json").read_text())
    config["auto_map"] = {"AutoModelForSequenceClassification": "remote_code.TinyRemoteModel"}
    (remote / "model" / "config.json").write_text(json.dumps(config))
    with pytest.raises(InvalidArgument, match="trust_remote_code=True"):
        flavor.load_model(str(remote))
    with pytest.raises(InvalidArgument, match="trust_remote_code=True"):
        mltrail.pyfunc.load_model(str(remote))  # never trusted as a python function
    trusted = flavor.load_model(str(remote), trust_remote_code=True)
    assert type(trusted.model).__name__ == "TinyRemoteModel"
    pd.testing.assert_frame_equal(
        pd.DataFrame(trusted(INPUTS["text-classification"])),
        pd.DataFrame(pipeline(INPUTS["text-classification"])),
    )
