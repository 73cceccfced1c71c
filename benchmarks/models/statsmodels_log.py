"""Side-by-side benchmark of the statsmodels flavor's ``log_model``, mltrail against MLflow.

    benchmarks/setup_env.sh && benchmarks/.venv/bin/pip install statsmodels   # once
    benchmarks/.venv/bin/python benchmarks/models/statsmodels_log.py [--repeat N]

Each measurement is a fresh interpreter in a fresh directory with a fresh SQLite store and its
own user cache: an OLS regression fitted on 200 x 4 rows, its signature inferred, then
``<tool>.statsmodels.log_model(results, name="model", signature=..., input_example=...)``
timed end to end inside a run (serialization, requirements, environment files, upload).
``warm``: another interpreter logged a statsmodels model (fitted on other data) in the same
directory first, as when a training script runs again (mltrail's requirements cache then
knows what such a model imports); ``cold``: nothing logged before.  Tools alternate within
each repeat; medians are printed with the ratio.  Target: mltrail at least 3x faster.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _results(seed: int) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm

    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((200, 4)), columns=["a", "b", "c", "d"]).assign(const=1.0)
    y = x["a"] * 2 - x["b"] + rng.normal(scale=0.1, size=200)
    return sm.OLS(y, x).fit(), x


def _worker(tool: str, tmp: Path, seed: int) -> dict[str, Any]:
    import importlib
    import warnings

    warnings.simplefilter("ignore")
    os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    lib = importlib.import_module(tool)
    flavor = importlib.import_module(f"{tool}.statsmodels")
    signatures = importlib.import_module(f"{tool}.models")
    lib.set_tracking_uri(f"sqlite:///{tmp / 'store.db'}")
    results, x = _results(seed)
    signature = signatures.infer_signature(x, results.predict(x))
    with lib.start_run():
        start = time.perf_counter()
        info = flavor.log_model(results, name="model", signature=signature, input_example=x.head(5))
        elapsed = time.perf_counter() - start
    if not info.model_uri:
        raise RuntimeError("log_model returned no model URI")
    return {"log_model_s": elapsed}


def _run(tool: str, warm: bool) -> float:
    tmp = Path(tempfile.mkdtemp(prefix=f"mltrail-bench-statsmodels-{tool}-"))
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["XDG_CACHE_HOME"] = str(tmp / "cache")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")])
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    seeds = [1, 0] if warm else [0]
    out: dict[str, Any] = {}
    for seed in seeds:
        done = subprocess.run(
            [sys.executable, __file__, "--worker", tool, str(tmp), str(seed)],
            capture_output=True,
            text=True,
            cwd=tmp,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed:\n{done.stderr[-3000:]}")
        out = json.loads(done.stdout.strip().splitlines()[-1])
    return float(out["log_model_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--worker", nargs=3, metavar=("TOOL", "TMP", "SEED"))
    args = parser.parse_args()
    if args.worker:
        tool, tmp, seed = args.worker
        print(json.dumps(_worker(tool, Path(tmp), int(seed))))
        return
    print(f"load average at start: {os.getloadavg()}")
    for case, warm in (("warm", True), ("cold", False)):
        times: dict[str, list[float]] = {"mltrail": [], "mlflow": []}
        for i in range(args.repeat):
            for tool in times:
                times[tool].append(_run(tool, warm))
                print(f"[{case} {i + 1}/{args.repeat}] {tool} {times[tool][-1]:.3f} s", flush=True)
        ours, theirs = (statistics.median(times[t]) for t in ("mltrail", "mlflow"))
        verdict = "ok" if theirs / ours >= 3 else "MISSED"
        print(
            f"statsmodels log_model, {case}: mltrail {ours:.3f} s, MLflow {theirs:.3f} s, "
            f"{theirs / ours:.1f}x faster (target >= 3x: {verdict})"
        )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
