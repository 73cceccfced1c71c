"""One model workload for one tool: ``python -m benchmarks.models.bench_models --case CASE``.

``--case log_model``: train a small scikit-learn model (a logistic regression on 200 x 4
rows; MLflow 3.17 refuses to save tree models with skops without extra arguments), infer its
signature, start a run on a SQLite store in a fresh directory, then time
``<tool>.sklearn.log_model(model, name="model", signature=..., input_example=...)`` end to end
(serialization, requirement inference, environment files, upload, run tag).  Each tool uses its
default serialization (skops for both).  Before it, another interpreter logged a model of the
same kind trained on other data (other coefficients, another input example) in the same
environment and working directory: the steady state of a training script run again, where
mltrail's requirements cache knows what such a model imports.  ``--case log_model_cold`` is the
same with an empty cache (``XDG_CACHE_HOME`` in the fresh directory, nothing logged before):
the first model of its kind in an environment, which mltrail loads in a subprocess as MLflow
does every time.

``--case predict``: save the same model with its signature, load it with
``<tool>.pyfunc.load_model`` and time ``predict`` on a 1-row and a 10,000-row DataFrame,
beside the native ``model.predict`` on the same frames in the same process (medians).
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
    median,
    parser,
    warm_up,
)


def _data(rows: int, seed: int = 0) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.random((rows, 4)), columns=["a", "b", "c", "d"])
    return frame, (frame["a"] + frame["b"] > 1.0).astype(int)


def _model(seed: int = 0) -> tuple[Any, Any]:
    from sklearn.linear_model import LogisticRegression

    x, y = _data(200, seed)
    return LogisticRegression().fit(x, y), x


def _log_other_model(args: argparse.Namespace) -> Result:
    mlflow, _ = connect(args.tool, args.tmp)
    signature_mod = load_sub(args.tool, "models")
    sklearn_flavor = load_sub(args.tool, "sklearn")
    model, x = _model(seed=1)
    signature = signature_mod.infer_signature(x, model.predict(x))
    with mlflow.start_run():
        sklearn_flavor.log_model(model, name="model", signature=signature, input_example=x.tail(3))
    return {}


def _log_model(args: argparse.Namespace) -> Result:
    os.environ["XDG_CACHE_HOME"] = str(args.tmp / "cache")  # this run's own user cache
    if args.case == "log_model":
        warm_up("benchmarks.models.bench_models", args)
    mlflow, _ = connect(args.tool, args.tmp)
    signature_mod = load_sub(args.tool, "models")
    sklearn_flavor = load_sub(args.tool, "sklearn")
    model, x = _model()
    signature = signature_mod.infer_signature(x, model.predict(x))
    with mlflow.start_run():
        start = time.perf_counter()
        info = sklearn_flavor.log_model(
            model, name="model", signature=signature, input_example=x.head(5)
        )
        elapsed = time.perf_counter() - start
    check(bool(info.model_uri), "log_model returned a model URI")
    _, requirements = downloaded_model(args.tool, info.model_uri, args.tmp)
    check(bool(requirements), "the logged model has a requirements.txt")
    return {"log_model_s": elapsed, "requirements": requirements}


def _once(fn: Any, frame: Any) -> float:
    start = time.perf_counter()
    fn(frame)
    return time.perf_counter() - start


def _predict(args: argparse.Namespace) -> Result:
    import numpy as np

    load_sub(args.tool, "pyfunc")
    signature_mod = load_sub(args.tool, "models")
    sklearn_flavor = load_sub(args.tool, "sklearn")
    pyfunc = load_sub(args.tool, "pyfunc")
    model, x = _model()
    signature = signature_mod.infer_signature(x, model.predict(x))
    path = str(args.tmp / "model")
    sklearn_flavor.save_model(model, path, signature=signature)
    loaded = pyfunc.load_model(path)
    result: Result = {}
    calls = {1: 30 if args.quick else 300, 10_000: 5 if args.quick else 30}
    for rows, n in calls.items():
        frame, _ = _data(rows)
        check(
            bool(np.array_equal(np.asarray(loaded.predict(frame)), model.predict(frame))),
            f"pyfunc predictions equal the native ones ({rows} rows)",
        )
        for _ in range(3):  # warm both paths
            loaded.predict(frame)
            model.predict(frame)
        # Alternate the two paths so that drifting machine load hits both alike.
        pyfunc_times, native_times = [], []
        for _ in range(n):
            pyfunc_times.append(_once(loaded.predict, frame))
            native_times.append(_once(model.predict, frame))
        label = "1" if rows == 1 else "10k"
        result[f"pyfunc_{label}_ms"] = median(pyfunc_times) * 1000
        result[f"native_{label}_ms"] = median(native_times) * 1000
        ratio = result[f"pyfunc_{label}_ms"] / result[f"native_{label}_ms"]
        result[f"overhead_{label}_pct"] = 100 * ratio
    return result


def _run(args: argparse.Namespace) -> Result:
    if args.case == "warm_up":
        return _log_other_model(args)
    return _predict(args) if args.case == "predict" else _log_model(args)


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument(
        "--case", choices=("log_model", "log_model_cold", "predict", "warm_up"), required=True
    )
    main("models", _run, p)
