"""CatBoost's log_model for one tool: ``python -m benchmarks.models.bench_catboost --case CASE``.

``--case catboost_log_model``: train a small ``CatBoostClassifier`` (50 trees of depth 4 on
200 x 4 rows), infer its signature, start a run on a SQLite store in a fresh directory, then
time ``<tool>.catboost.log_model(model, name="model", signature=..., input_example=...)`` end
to end (CatBoost's ``save_model``, requirement inference, environment files, upload, run tag).
Before it, another interpreter logged a CatBoost model trained on other data in the same
environment and working directory (a training script run again: mltrail's requirements cache
knows what such a model imports).  ``--case catboost_log_model_cold`` is the same with an empty
cache and nothing logged before: mltrail loads the model in a subprocess, as MLflow does every
time.
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

CASES = ("catboost_log_model", "catboost_log_model_cold", "warm_up")


def _model(seed: int = 0) -> tuple[Any, Any]:
    import catboost
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((200, 4)), columns=["a", "b", "c", "d"])
    y = (x["a"] + x["b"] > 1.0).astype(int)
    model = catboost.CatBoostClassifier(
        iterations=50,
        depth=4,
        random_seed=seed,
        verbose=False,
        allow_writing_files=False,
        thread_count=1,
    )
    return model.fit(x, y), x


def _log(args: argparse.Namespace, seed: int, example_rows: Any) -> tuple[float, Any, str]:
    mlflow, _ = connect(args.tool, args.tmp)
    signature_mod = load_sub(args.tool, "models")
    flavor = load_sub(args.tool, "catboost")
    model, x = _model(seed)
    signature = signature_mod.infer_signature(x, model.predict(x))
    with mlflow.start_run() as run:
        start = time.perf_counter()
        info = flavor.log_model(
            model, name="model", signature=signature, input_example=example_rows(x)
        )
        elapsed = time.perf_counter() - start
    return elapsed, info, run.info.run_id


def _run(args: argparse.Namespace) -> Result:
    os.environ["XDG_CACHE_HOME"] = str(args.tmp / "cache")  # this run's own user cache
    if args.case == "warm_up":
        _log(args, 1, lambda x: x.tail(3))
        return {}
    if args.case == "catboost_log_model":
        warm_up("benchmarks.models.bench_catboost", args)
    elapsed, info, _ = _log(args, 0, lambda x: x.head(5))
    check(bool(info.model_uri), "log_model returned a model URI")
    _, requirements = downloaded_model(args.tool, info.model_uri, args.tmp)
    check(any(r.startswith("catboost") for r in requirements), "catboost is a requirement")
    return {"log_model_s": elapsed, "requirements": requirements}


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument("--case", choices=CASES, required=True)
    main("models", _run, p)
