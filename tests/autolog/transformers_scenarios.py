"""The same transformers ``Trainer`` training, with transformers autologging of the real MLflow
or of mltrail (and scikit-learn autologging on).

``python transformers_scenarios.py mlflow|mltrail OUT.json`` (in a folder of its own) trains a
tiny BERT classifier (random weights, nothing downloaded) for two epochs; a callback fits a
scikit-learn model at the end of each epoch, as trainers' helper code does, and one more is
fitted after training.  It writes what every run of the store recorded.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import warnings
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"


def train(mlflow: Any) -> None:
    import numpy as np
    import torch
    import transformers
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    features = rng.normal(size=(20, 3))
    labels = (features[:, 0] > 0).astype(int)

    class FitsAHelperModel(transformers.TrainerCallback):  # type: ignore[misc]
        def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            LogisticRegression().fit(features, labels)

    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=30,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
        num_labels=2,
    )
    model = transformers.BertForSequenceClassification(config)
    ids = torch.randint(0, 30, (16, 8), generator=torch.Generator().manual_seed(0))
    data = [
        {"input_ids": ids[i], "attention_mask": torch.ones(8, dtype=torch.long), "labels": i % 2}
        for i in range(16)
    ]
    args = transformers.TrainingArguments(
        output_dir="trained",
        num_train_epochs=2,
        per_device_train_batch_size=4,
        logging_steps=2,
        report_to="none",
        save_strategy="no",
        seed=0,
        disable_tqdm=True,
        use_cpu=True,
    )
    trainer = transformers.Trainer(
        model=model, args=args, train_dataset=data, callbacks=[FitsAHelperModel()]
    )
    trainer.train()
    LogisticRegression().fit(features, labels)  # after training: autologged


def record(mlflow: Any) -> list[dict[str, Any]]:
    client = mlflow.MlflowClient()
    runs = client.search_runs(["0"], order_by=["attributes.start_time ASC"])
    models = [m.source_run_id for m in mlflow.search_logged_models(output_format="list")]
    return [
        {
            "status": run.info.status,
            "autologging": run.data.tags.get("mlflow.autologging"),
            "params": run.data.params,
            "models": models.count(run.info.run_id),
            "metrics": {
                key: [m.step for m in client.get_metric_history(run.info.run_id, key)]
                for key in run.data.metrics
            },
        }
        for run in runs
    ]


def main() -> None:
    warnings.simplefilter("ignore")
    lib = sys.argv[1]
    mlflow = importlib.import_module(lib)
    for flavor in ("sklearn", "transformers"):
        importlib.import_module(f"{lib}.{flavor}")
    mlflow.set_tracking_uri(f"sqlite:///{os.path.abspath('store.db')}")
    mlflow.sklearn.autolog(log_models=False)
    mlflow.transformers.autolog()
    train(mlflow)
    with open(sys.argv[2], "w") as f:
        json.dump(record(mlflow), f)


if __name__ == "__main__":
    main()
