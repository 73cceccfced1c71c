"""Response shapes (JSON Schema) of MLflow's entities, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from mltrail.server._schema import array, boolean, double, int64, key_value, obj, string

__all__ = [
    "DATASET_INPUT",
    "EXPERIMENT",
    "FILE_INFO",
    "KEY_VALUE",
    "METRIC",
    "RUN",
    "RUN_INFO",
    "paged",
]

KEY_VALUE = key_value()

EXPERIMENT = obj(
    {
        "experiment_id": string(),
        "name": string(),
        "artifact_location": string(),
        "lifecycle_stage": string(),
        "creation_time": int64(),
        "last_update_time": int64(),
        "tags": array(KEY_VALUE),
        "workspace": string(),
    }
)

RUN_INFO = obj(
    {
        "run_id": string(),
        "run_uuid": string(),
        "run_name": string(),
        "experiment_id": string(),
        "user_id": string(),
        "status": string(),
        "start_time": int64(),
        "end_time": int64(),
        "artifact_uri": string(),
        "lifecycle_stage": string(),
    }
)

METRIC = obj(
    {
        "key": string(),
        "value": double(),
        "timestamp": int64(),
        "step": int64(),
        "run_id": string(),
    }
)

DATASET = obj(
    {
        "name": string(),
        "digest": string(),
        "source_type": string(),
        "source": string(),
        "schema": string(),
        "profile": string(),
    }
)

DATASET_INPUT = obj({"dataset": DATASET, "tags": array(KEY_VALUE)})

RUN = obj(
    {
        "info": RUN_INFO,
        "data": obj(
            {"metrics": array(METRIC), "params": array(KEY_VALUE), "tags": array(KEY_VALUE)}
        ),
        "inputs": obj(
            {
                "dataset_inputs": array(DATASET_INPUT),
                "model_inputs": array(obj({"model_id": string()})),
            }
        ),
        # MLflow 3: the logged models the run produced, each at a step.
        "outputs": obj({"model_outputs": array(obj({"model_id": string(), "step": int64()}))}),
    }
)

FILE_INFO = obj({"path": string(), "is_dir": boolean(), "file_size": int64()})


def paged(name: str, item: dict[str, Any]) -> dict[str, Any]:
    return obj({name: array(item), "next_page_token": string()})
