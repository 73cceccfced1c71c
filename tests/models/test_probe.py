"""What makes the requirements probe cheaper keeps its answers: ``skops.io`` imported without
scikit-learn's estimator scan loads a model as the full import does, and the probe's resolved
paths (one ``realpath`` per folder) are ``os.path.realpath``'s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import mltrail.sklearn
from mltrail.models import _probe


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
