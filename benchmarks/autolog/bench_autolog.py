"""One autologging workload for one tool and store:
``python -m benchmarks.autolog.bench_autolog --tool mltrail --tmp DIR --case CASE --store STORE``.

The same code drives both tools (``import mlflow`` or ``import mltrail as mlflow``), each with
its flavor's own ``autolog()`` at MLflow's defaults (models logged, ``max_tuning_runs=5``).
The data: ``make_classification`` (seed 0), 1,000 training rows x 20 features, 250 more rows
as the XGBoost eval set.  Cases:

- ``sklearn_fit``: ``LogisticRegression(max_iter=200).fit`` on the training rows.
- ``xgboost_fit``: ``xgboost.train`` of a binary logistic model, 100 rounds, ``nthread=1``,
  with the eval set (``evals=[(eval, "eval")]``: a metric per round).
- ``grid_search``: ``GridSearchCV(LogisticRegression(max_iter=200), ..., cv=3, n_jobs=1)``
  over 50 candidates (10 values of C x five solver/regularisation pairs: lbfgs, newton-cg
  and newton-cholesky with L2, liblinear with L2 and with L1) on the training rows.

Stores: ``sqlite`` is the embedded store, ``sqlite:///<tmp>/store.db`` with artifacts under
``<tmp>``; ``server`` is the tool's own tracking server (``mltrail server`` / ``mlflow
server``, a fresh SQLite backend and a local ``--artifacts-destination`` in ``<tmp>``,
started by ``benchmarks.server._server.running_server``) on 127.0.0.1, the client pointed at
its ``http://`` URL, so the models go up through the server's artifact proxy.

The script enables autologging first (``autolog()``, timed as ``enable_ms``), then builds its
data, as a training script starting with ``autolog()`` does.  Measure: after one warm-up
call without and one with autologging (the first imports what each path needs; for
``grid_search`` a 2-candidate search), ``--fits`` timed calls without and with autologging
alternate (``autolog(disable=True)`` / ``autolog()`` between them, never timed), so that
drifting machine load hits both alike.  ``added_ms`` is the median with minus
the median without: what autologging adds to one call.  After each autologged call the
script waits until everything it logged is stored (``flush``; mltrail draws its plots and ends
the run in the background, MLflow does all of it inside the call), so no call overlaps the
previous one's logging; ``added_stored_ms`` adds that wait: autologging's whole cost.  Each
autologged call creates its own run, and a search a parent run with ``max_tuning_runs`` child runs.
BLAS and OpenMP run one thread (``OMP_NUM_THREADS=1`` and friends), as the workloads'
``n_jobs=1`` and ``nthread=1``: a threaded BLAS on a loaded 2-core machine makes the same
10 ms fit take up to 300 ms.

Afterwards the store must hold exactly the runs autologging should have made (one per
autologged call; a search's children), each finished, with params, metrics and a model
(MLflow 3's logged model, ``search_logged_models``, or an ``MLmodel`` among the run's
artifacts, where MLflow 2 and mltrail keep it), and for XGBoost a metric with one point per
round: a tool that logs nothing fails instead of winning.  The user's cache
(``XDG_CACHE_HOME``) is a fresh directory in ``<tmp>``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from benchmarks.server._server import running_server
from benchmarks.tracking._common import (
    Result,
    Tool,
    check,
    load,
    load_sub,
    main,
    median,
    parser,
    tracking_uri,
)

CASES = ("sklearn_fit", "xgboost_fit", "grid_search")
STORES = ("sqlite", "server")
INTEGRATION = {"sklearn_fit": "sklearn", "xgboost_fit": "xgboost", "grid_search": "sklearn"}
FITS = {"sklearn_fit": 7, "xgboost_fit": 7, "grid_search": 3}
QUICK_FITS = {"sklearn_fit": 3, "xgboost_fit": 3, "grid_search": 1}
ROWS, FEATURES, EVAL_ROWS, ROUNDS = 1_000, 20, 250, 100
MAX_TUNING_RUNS = 5  # MLflow's default, used by both tools
EXPERIMENT = "autolog-bench"


@dataclass(frozen=True)
class Case:
    fit: Callable[[], Any]  # the timed call
    warm_up: Callable[[], Any]  # the first call, without and with autologging
    children: int  # child runs one autologged timed call makes
    warm_up_children: int


def _data() -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=ROWS + EVAL_ROWS, n_features=FEATURES, n_informative=10, random_state=0
    )
    return x[:ROWS], y[:ROWS], x[ROWS:], y[ROWS:]


def _search(grid: Any, x: Any, y: Any) -> Callable[[], Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    return lambda: GridSearchCV(LogisticRegression(max_iter=200), grid, cv=3, n_jobs=1).fit(x, y)


def _case(name: str) -> Case:
    x, y, x_eval, y_eval = _data()
    if name == "sklearn_fit":
        from sklearn.linear_model import LogisticRegression

        def fit() -> Any:
            return LogisticRegression(max_iter=200).fit(x, y)

        return Case(fit, fit, 0, 0)
    if name == "xgboost_fit":
        import xgboost

        train, evals = xgboost.DMatrix(x, label=y), xgboost.DMatrix(x_eval, label=y_eval)
        params = {"objective": "binary:logistic", "eval_metric": "logloss", "nthread": 1}

        def boost() -> Any:
            return xgboost.train(params, train, ROUNDS, evals=[(evals, "eval")], verbose_eval=False)

        return Case(boost, boost, 0, 0)
    from sklearn.model_selection import ParameterGrid

    cs = [10.0 ** (-3 + 5 * i / 9) for i in range(10)]  # 1e-3 .. 1e2, log-spaced
    grid = [
        {"C": cs, "solver": ["lbfgs", "newton-cg", "newton-cholesky"], "l1_ratio": [0.0]},
        {"C": cs, "solver": ["liblinear"], "l1_ratio": [0.0, 1.0]},
    ]
    small = {"C": [0.1, 1.0]}
    check(len(ParameterGrid(grid)) == 50, "the grid has 50 candidates")
    return Case(
        _search(grid, x, y),
        _search(small, x, y),
        min(len(ParameterGrid(grid)), MAX_TUNING_RUNS),
        len(ParameterGrid(small)),
    )


@contextlib.contextmanager
def _tracking(args: argparse.Namespace) -> Iterator[str]:
    """The tracking URI of the store under test (a running server for ``server``)."""
    if args.store == "sqlite":
        yield tracking_uri(args.tmp)
        return
    with running_server(args.tool, args.tmp) as server:
        yield server.url


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _flush(mlflow: Tool) -> Callable[[], Any]:
    """Wait until what was logged is stored: mltrail's ``flush``; MLflow's
    ``flush_async_logging`` (its autologging stores everything before the call returns)."""
    flush: Callable[[], Any] = getattr(mlflow, "flush", None) or mlflow.flush_async_logging
    return flush


def _has_model_artifact(client: Tool, run_id: str) -> bool:
    """A model among the run's artifacts (``<dir>/MLmodel``), where MLflow 2 kept it."""
    for entry in client.list_artifacts(run_id):
        if entry.is_dir and any(
            f.path.rsplit("/", 1)[-1] == "MLmodel"
            for f in client.list_artifacts(run_id, entry.path)
        ):
            return True
    return False


def _verify(mlflow: Tool, experiment_id: str, integration: str, top: int, children: int) -> None:
    """The store holds what autologging should have logged, and nothing else."""
    client = mlflow.MlflowClient()
    runs = client.search_runs([experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    kids = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    check(len(parents) == top, f"{len(parents)} autologged runs, expected {top}")
    check(len(kids) == children, f"{len(kids)} child runs, expected {children}")
    models = mlflow.search_logged_models(experiment_ids=[experiment_id], output_format="list")
    with_model = {m.source_run_id for m in models}
    for run in parents:
        tags, data = run.data.tags, run.data
        check(
            tags.get("mlflow.autologging") == integration,
            f"run tagged mlflow.autologging={tags.get('mlflow.autologging')!r}",
        )
        check(run.info.status == "FINISHED", f"run status {run.info.status}")
        check(bool(data.params) and bool(data.metrics), "the run has params and metrics")
        check(
            run.info.run_id in with_model or _has_model_artifact(client, run.info.run_id),
            "the run has a logged model",
        )
    if integration == "xgboost":
        last = max(parents, key=lambda r: r.info.start_time)
        points = max(len(client.get_metric_history(last.info.run_id, k)) for k in last.data.metrics)
        check(points == ROUNDS, f"{points} points in the longest metric history, not {ROUNDS}")


def run(args: argparse.Namespace) -> Result:
    os.environ["XDG_CACHE_HOME"] = str(args.tmp / "cache")  # this run's own user cache
    # One BLAS/OpenMP thread, as n_jobs=1 and nthread=1: on a shared 2-core machine a threaded
    # BLAS makes a 10 ms fit take anywhere up to 300 ms.  Set before numpy is imported.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    warnings.filterwarnings("ignore")  # both tools warn about various things; not timed output
    fits = args.fits or (QUICK_FITS if args.quick else FITS)[args.case]
    integration = INTEGRATION[args.case]
    with _tracking(args) as uri:
        mlflow = load(args.tool)
        mlflow.set_tracking_uri(uri)
        experiment_id = mlflow.set_experiment(EXPERIMENT).experiment_id
        flavor = load_sub(args.tool, integration)
        start = time.perf_counter()
        flavor.autolog()
        enable_s = time.perf_counter() - start
        # The data after autolog(), as in a script that starts with it: autologging may record
        # what it needs for the input example as a DMatrix is built (MLflow's XGBoost does).
        case = _case(args.case)
        flavor.autolog(disable=True)
        warm_off = _timed(case.warm_up)
        flavor.autolog()
        warm_on = _timed(case.warm_up)
        off, on = [], []
        flush = _flush(mlflow)
        settle = []
        for _ in range(fits):
            flavor.autolog(disable=True)
            off.append(_timed(case.fit))
            flavor.autolog()
            on.append(_timed(case.fit))
            # Until everything the call logged is stored (mltrail writes its plots and ends
            # the run in the background; MLflow's call has stored all before it returns): the
            # next call never runs beside the previous one's logging.
            settle.append(_timed(flush))
        flavor.autolog(disable=True)
        _verify(
            mlflow,
            experiment_id,
            integration,
            top=1 + fits,
            children=case.warm_up_children + fits * case.children,
        )
    off_ms, on_ms = median(off) * 1000, median(on) * 1000
    stored_ms = median([a + b for a, b in zip(on, settle, strict=True)]) * 1000
    return {
        "case": args.case,
        "store": args.store,
        "fits": fits,
        "off_ms": off_ms,
        "on_ms": on_ms,
        "added_ms": on_ms - off_ms,
        "added_stored_ms": stored_ms - off_ms,
        "warm_up_added_ms": (warm_on - warm_off) * 1000,
        "enable_ms": enable_s * 1000,
        "off_all_ms": [t * 1000 for t in off],
        "on_all_ms": [t * 1000 for t in on],
    }


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--case", choices=CASES, required=True)
    p.add_argument("--store", choices=STORES, required=True)
    p.add_argument("--fits", type=int, default=0, help="timed calls each way (default 7; 3)")
    return p


if __name__ == "__main__":
    main("autolog", run, build_parser())
