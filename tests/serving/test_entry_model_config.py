"""``python -m mltrail.serving predict --model-config JSON`` (what evaluate's env_manager runs
in a model's environment): the config reaches the model, and a bad one is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mltrail
from mltrail.serving.__main__ import main

MODEL_CODE = """
from mltrail.pyfunc import PythonModel


class Scaled(PythonModel):
    def load_context(self, context):
        self.factor = float(context.model_config.get("factor", 1.0))

    def predict(self, context, model_input, params=None):
        return model_input["x"] * self.factor
"""


@pytest.fixture
def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    code = tmp_path / "scaled_model.py"
    code.write_text(MODEL_CODE)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__("scaled_model")
    mltrail.pyfunc.save_model(tmp_path / "m", python_model=module.Scaled(), code_paths=[str(code)])
    monkeypatch.delitem(__import__("sys").modules, "scaled_model")
    (tmp_path / "in.json").write_text(json.dumps({"dataframe_records": [{"x": 1.5}, {"x": 2}]}))
    return tmp_path


def test_the_config_reaches_the_model(model: Path) -> None:
    out = model / "out.json"
    args = ["predict", "--model-path", str(model / "m"), "--input", str(model / "in.json")]
    assert main([*args, "--output", str(out), "--model-config", '{"factor": 10}']) == 0
    assert json.loads(out.read_text())["predictions"] == [{"x": 15.0}, {"x": 20.0}]
    assert main([*args, "--output", str(out)]) == 0
    assert json.loads(out.read_text())["predictions"] == [{"x": 1.5}, {"x": 2.0}]


@pytest.mark.parametrize(
    ("config", "words"),
    [("{factor: 10}", "Invalid --model-config: not JSON"), ("[10]", "must be a JSON object")],
)
def test_a_bad_config_is_named(
    model: Path, config: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["predict", "--model-path", str(model / "m"), "--input", str(model / "in.json")]
    assert main([*args, "--model-config", config]) == 1
    assert words in capsys.readouterr().err
