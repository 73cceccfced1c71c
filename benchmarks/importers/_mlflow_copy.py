"""MLflow's side: a straightforward copy of one MLflow store into another through
``mlflow.MlflowClient`` (what a user without an import tool writes).

    python -m benchmarks.importers._mlflow_copy SOURCE_URI DEST_URI SCRATCH_DIR

For each experiment but ``Default``: ``create_experiment`` in the destination with its name
and tags; for each of its runs (all lifecycle stages): ``create_run`` with its start time,
name and tags, ``log_batch`` of its params and every point of every metric
(``get_metric_history`` per key) in batches within MLflow's limits (at most 1,000 entities,
100 of them params), ``download_artifacts`` of the whole run into SCRATCH_DIR and
``log_artifacts`` of it, then ``set_terminated`` with its status and end time.  Run ids are
new (MLflow's client cannot keep them).

Prints one JSON line: the runs copied and ``loop_s``, the time from the first experiment to
the last run (after ``import mlflow`` and the clients are set up).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

MAX_ENTITIES, MAX_PARAMS = 1_000, 100
PAGE = 1_000


def copy_store(source_uri: str, dest_uri: str, scratch: Path) -> dict[str, Any]:
    import mlflow
    from mlflow.entities import Param, ViewType

    src = mlflow.MlflowClient(tracking_uri=source_uri)
    dst = mlflow.MlflowClient(tracking_uri=dest_uri)
    start = time.perf_counter()
    runs = 0
    for experiment in src.search_experiments(view_type=ViewType.ALL, max_results=PAGE):
        if experiment.name == "Default":
            continue
        dest_experiment = dst.create_experiment(experiment.name, tags=experiment.tags)
        token = None
        while True:
            page = src.search_runs(
                [experiment.experiment_id],
                run_view_type=ViewType.ALL,
                max_results=PAGE,
                page_token=token,
            )
            for run in page:
                info, data = run.info, run.data
                created = dst.create_run(
                    dest_experiment,
                    start_time=info.start_time,
                    tags=data.tags,
                    run_name=info.run_name,
                )
                run_id = created.info.run_id
                params = [Param(key, value) for key, value in data.params.items()]
                points = [
                    point
                    for key in data.metrics
                    for point in src.get_metric_history(info.run_id, key)
                ]
                while params or points:
                    batch_params, params = params[:MAX_PARAMS], params[MAX_PARAMS:]
                    room = MAX_ENTITIES - len(batch_params)
                    batch_points, points = points[:room], points[room:]
                    dst.log_batch(run_id, metrics=batch_points, params=batch_params)
                folder = scratch / info.run_id
                local = src.download_artifacts(info.run_id, "", dst_path=str(folder))
                dst.log_artifacts(run_id, local)
                shutil.rmtree(folder, ignore_errors=True)
                dst.set_terminated(run_id, status=info.status, end_time=info.end_time)
                runs += 1
            token = page.token
            if not token:
                break
    return {"runs": runs, "loop_s": time.perf_counter() - start}


def main() -> None:
    source_uri, dest_uri, scratch = sys.argv[1:4]
    result = copy_store(source_uri, dest_uri, Path(scratch))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
