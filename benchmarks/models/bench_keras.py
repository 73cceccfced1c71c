"""Keras' log_model for one tool: ``python -m benchmarks.models.bench_keras --case CASE``.

``--case keras_log_model``: train a small Keras 3 MLP on the PyTorch backend (8 inputs, two
hidden layers of 32 and 16 units, one output; Adam, 2 epochs on 256 rows), infer its
signature, start a run on a SQLite store in a fresh directory, then time
``<tool>.keras.log_model(model, name="model", signature=...)`` end to end (Keras'
``model.save``, requirement inference, environment files, upload, run tag).  No input example:
MLflow 3.17's ``mlflow.keras.log_model`` fails with one (it writes the example before it
makes the model folder), so neither tool gets one.  Before
it, another interpreter logged a Keras model trained on other data in the same environment and
working directory (a training script run again: a requirements cache would know what such a
model imports).  ``--case keras_log_model_cold`` is the same with an empty user cache and
nothing logged before.  MLflow loads the model in a subprocess to infer its requirements in
both; mltrail reads them from the saved ``.keras`` config in both.

Keras runs on PyTorch for both tools (``KERAS_BACKEND=torch``: no TensorFlow is installed).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from benchmarks.tracking._common import (
    Result,
    check,
    connect,
    downloaded_model,
    load_sub,
    main,
    parser,
    warm_up,
)

CASES = ("keras_log_model", "keras_log_model_cold", "warm_up")


def _model(seed: int = 0) -> tuple[Any, Any]:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    import numpy as np

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x = rng.random((256, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] - x[:, 2]).reshape(-1, 1)
    model = keras.Sequential(
        [
            keras.Input([8]),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    return model, x


def _log(args: argparse.Namespace, seed: int) -> tuple[float, Any, str]:
    model, x = _model(seed)  # Keras first: the tools find it on PyTorch
    mlflow, _ = connect(args.tool, args.tmp)
    signature_mod = load_sub(args.tool, "models")
    flavor = load_sub(args.tool, "keras")
    signature = signature_mod.infer_signature(x, model.predict(x, verbose=0))
    with mlflow.start_run() as run:
        start = time.perf_counter()
        info = flavor.log_model(model, name="model", signature=signature)
        elapsed = time.perf_counter() - start
    return elapsed, info, run.info.run_id


def _run(args: argparse.Namespace) -> Result:
    os.environ["XDG_CACHE_HOME"] = str(args.tmp / "cache")  # this run's own user cache
    if args.case == "warm_up":
        _log(args, 1)
        return {}
    if args.case == "keras_log_model":
        warm_up("benchmarks.models.bench_keras", args)
    elapsed, info, _ = _log(args, 0)
    check(bool(info.model_uri), "log_model returned a model URI")
    local, requirements = downloaded_model(args.tool, info.model_uri, args.tmp)
    for name in ("keras", "torch"):
        check(any(r.startswith(name + "==") for r in requirements), f"{name} is pinned")
    check(os.path.isfile(os.path.join(local, "data", "model.keras")), "data/model.keras")
    return {"log_model_s": elapsed, "requirements": requirements}


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument("--case", choices=CASES, required=True)
    main("models", _run, p)
