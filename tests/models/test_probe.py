"""What makes the requirements probe cheaper keeps its answers: ``skops.io`` imported without
scikit-learn's estimator scan loads a model as the full import does, the probe's resolved
paths (one ``realpath`` per folder) are ``os.path.realpath``'s, and every flavor's probe
started before the model is written finds what a fresh probe finds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mltrail.lightgbm
import mltrail.onnx
import mltrail.pyfunc
import mltrail.pytorch
import mltrail.sklearn
import mltrail.xgboost
from mltrail.models import _env, _probe

pytestmark = pytest.mark.private_requirements_cache  # they count probes and entries


def test_skops_without_the_estimator_scan_loads_the_same_model(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = pd.DataFrame(np.random.default_rng(0).random((40, 3)), columns=["a", "b", "c"])
    y = (x["a"] > 0.5).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    mltrail.sklearn.save_model(model, tmp_path / "m", pip_requirements=[])
    script = (
        "import json, sys\n"
        "import numpy, pandas, sklearn, sklearn.utils\n"
        "real = sklearn.utils.all_estimators\n"
        "from mltrail.sklearn._skops import skops_io\n"
        "skops_io(estimator_scan=False)\n"
        "from skops.io import _trusted_types as t\n"
        "from mltrail.pyfunc import load_model\n"
        "frame = pandas.read_json(sys.argv[2])\n"
        "out = load_model(sys.argv[1]).predict(frame)\n"
        "print(json.dumps([len(t.SKLEARN_ESTIMATOR_TYPE_NAMES),\n"
        "                  sklearn.utils.all_estimators is real, out.tolist()]))\n"
    )
    frame_file = tmp_path / "frame.json"
    x.to_json(frame_file)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "m"), str(frame_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    scanned, restored, predictions = json.loads(done.stdout.strip().splitlines()[-1])
    assert scanned == 0  # no scikit-learn type trusted by skops itself ...
    assert restored  # ... scikit-learn left as it was ...
    assert predictions == model.predict(x).tolist()  # ... and the model loads all the same


def test_resolved_paths_match_realpath(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "pkg").mkdir(parents=True)
    (real / "pkg" / "mod.py").write_text("")
    (real / "target.py").write_text("")
    (tmp_path / "linked").symlink_to(real, target_is_directory=True)
    (real / "pkg" / "alias.py").symlink_to(real / "target.py")
    paths = [
        real / "pkg" / "mod.py",
        tmp_path / "linked" / "pkg" / "mod.py",
        tmp_path / "linked" / "pkg" / "alias.py",
        real / "pkg" / "alias.py",
        tmp_path / "linked" / "missing.py",
        tmp_path / "linked" / "pkg" / ".." / "target.py",
    ]
    for path in paths:
        text = os.fspath(path)
        assert _probe._realpath(text) == os.path.realpath(text), text
        assert _probe._realpath(text) == os.path.realpath(text), text  # from its folder's entry


# -- every flavor's early probe answers as a fresh one does -------------------------------------


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.random((40, 4)).astype("float32"), columns=["a", "b", "c", "d"])


def _xgboost(path: Path) -> list[str]:
    xgb = pytest.importorskip("xgboost")
    from mltrail.xgboost import _flavor

    x = _frame()
    mltrail.xgboost.save_model(
        xgb.XGBClassifier(n_estimators=2).fit(x, x["a"] > 0.5), path, pip_requirements=[]
    )
    return list(_flavor._PROBE_MODULES)


def _lightgbm(path: Path) -> list[str]:
    lgb = pytest.importorskip("lightgbm")
    from mltrail.lightgbm import _flavor

    x = _frame()
    model = lgb.LGBMClassifier(n_estimators=2, verbose=-1).fit(x, x["a"] > 0.5)
    mltrail.lightgbm.save_model(model, path, pip_requirements=[])
    return _flavor._probe_modules(model, "skops")


def _pytorch(path: Path) -> list[str]:
    torch = pytest.importorskip("torch")
    from mltrail.pytorch import _flavor

    net = torch.nn.Sequential(torch.nn.Linear(4, 1))
    mltrail.pytorch.save_model(net, path, pip_requirements=[], input_example=_frame().to_numpy())
    return _flavor._probe_modules(exported=True)


def _onnx(path: Path) -> list[str]:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    from mltrail.onnx import _flavor

    spec = [None, 4]
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "identity",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, spec)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, spec)],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert isinstance(proto, onnx.ModelProto)
    mltrail.onnx.save_model(proto, path, pip_requirements=[])
    return list(_flavor._PROBE_MODULES)


def _pyfunc(path: Path) -> list[str]:
    def double(model_input: pd.DataFrame) -> pd.DataFrame:  # local: pickled by value
        return model_input * 2

    mltrail.pyfunc.save_model(path, python_model=double, pip_requirements=[])
    return ["cloudpickle", "mltrail.pyfunc._python_model"]


@pytest.mark.parametrize("save", [_xgboost, _lightgbm, _pytorch, _onnx, _pyfunc])
def test_each_flavors_early_probe_finds_what_a_fresh_one_finds(
    tmp_path: Path, save: Callable[[Path], list[str]]
) -> None:
    path = tmp_path / "m"
    prewarm = save(path)
    early = _env._probe(str(path), _env.StartedProbe(prewarm))
    fresh = _env._probe(str(path))
    assert early is not None
    assert fresh is not None
    stdlib = sys.stdlib_module_names
    assert {m for m in early[0] if m not in stdlib} == {m for m in fresh[0] if m not in stdlib}
    assert _env.modules_to_requirements(early[0]) == _env.modules_to_requirements(fresh[0])
    assert early[1] is False  # nothing local ran: the early answer may be cached


def test_a_flavor_logs_with_its_early_probe(tmp_path: Path) -> None:
    xgb = pytest.importorskip("xgboost")
    x = _frame()
    model = xgb.XGBClassifier(n_estimators=2).fit(x, x["a"] > 0.5)
    mltrail.xgboost.save_model(model, tmp_path / "m")
    pins = (tmp_path / "m" / "requirements.txt").read_text().split()
    assert any(p.startswith("xgboost==") for p in pins)
    assert any(p.startswith("scikit-learn==") for p in pins)  # the scikit-learn API


def test_prewarm_skips_only_a_module_that_does_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_probe_helper.py").write_text("import no_such_module_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _probe._import_if_present("no_such_module_anywhere")
    _probe._import_if_present("json.no_such_submodule")
    with pytest.raises(ModuleNotFoundError):
        _probe._import_if_present("broken_probe_helper")


def test_a_made_up_relative_module_file_is_not_local_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "here.py").write_text("")
    assert not _probe._is_local_file("_made_up_by_a_library.py")  # as torch.ops's "_ops.py"
    assert _probe._is_local_file("here.py")
    assert _probe._is_local_file(str(tmp_path / "here.py"))


def test_skops_io_leaves_the_collector_as_it_found_it() -> None:
    script = (
        "import gc, sys\n"
        "import sklearn\n"
        "from mltrail.sklearn._skops import skops_io\n"
        "gc.disable() if sys.argv[1] == 'off' else None\n"
        "skops_io()\n"
        "print(gc.isenabled())\n"
    )
    for mode, expected in (("on", "True"), ("off", "False")):
        done = subprocess.run(
            [sys.executable, "-c", script, mode], capture_output=True, text=True, check=True
        )
        assert done.stdout.strip().splitlines()[-1] == expected


def test_loading_a_skops_model_imports_scikit_learn_with_the_collector_off(
    tmp_path: Path,
) -> None:
    """A fresh process (``models serve``) imports scikit-learn through ``skops_io``, which turns
    the collector off meanwhile; importing scikit-learn first, with it on, cost startup ~0.1 s."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    mltrail.sklearn.save_model(model, str(tmp_path / "m"), serialization_format="skops")
    script = (
        "import gc, sys\n"
        "seen = []\n"
        "class Watch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'sklearn' and not seen:\n"
        "            seen.append(gc.isenabled())\n"
        "        return None\n"
        "sys.meta_path.insert(0, Watch())\n"
        "import mltrail.pyfunc\n"
        "model = mltrail.pyfunc.load_model(sys.argv[1])\n"
        "print(seen, gc.isenabled())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "m")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "[False] True"
