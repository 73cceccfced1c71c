"""The same PyTorch Lightning training, autologged by the real MLflow or by mltrail.

``python lightning_scenarios.py mlflow|mltrail OUT.json`` (in a folder of its own) fits a tiny
linear LightningModule in a few configurations and writes what each run recorded: params,
metric histories, tags, artifact paths, the checkpoints' metrics files, the model summary and
the model's signature.  One process per library: both cannot patch Lightning at once.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import warnings
from typing import Any

import numpy as np
import torch
import yaml

#: ``mlflow`` or ``mltrail`` (set by main; the test module imports the rest of this file).
LIB = ""
mlflow: Any = None


def module_class(pl: Any) -> Any:
    class Net(pl.LightningModule):  # type: ignore[misc, name-defined]
        def __init__(self, lr: float = 0.05) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.layer = torch.nn.Linear(8, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.layer(x)  # type: ignore[no-any-return]

        def _loss(self, batch: Any) -> torch.Tensor:
            x, y = batch
            return torch.nn.functional.mse_loss(self(x), y)

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            loss = self._loss(batch)
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            self.log("double_loss", loss * 2)
            return loss

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            self.log("val_loss", self._loss(batch))

        def test_step(self, batch: Any, batch_idx: int) -> None:
            self.log("test_loss", self._loss(batch))

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)

    return Net


def loaders() -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.normal(size=(256, 8)), dtype=torch.float32)
    y = x @ torch.linspace(-1, 1, 8).reshape(8, 1) + 0.5
    data = torch.utils.data.TensorDataset(x, y)
    return (
        torch.utils.data.DataLoader(data, batch_size=32),
        torch.utils.data.DataLoader(data, batch_size=128),
    )


def fit(
    namespace: str,
    name: str,
    early_stopping: bool = False,
    test: bool = False,
    callbacks: list[Any] | None = None,
) -> Any:
    pl = importlib.import_module(namespace)
    pl.seed_everything(0, verbose=False)
    callbacks = list(callbacks or [])
    if early_stopping:  # val_loss never improves by 100: stops after epoch 1
        callbacks.append(pl.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=100))
    trainer = pl.Trainer(
        max_epochs=3,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,
        callbacks=callbacks,
        default_root_dir=os.path.abspath(name),
    )
    model = module_class(pl)()
    train, val = loaders()
    trainer.fit(model, train, val)
    if test:
        trainer.test(model, val, verbose=False)
    return trainer


def weights(module: Any) -> list[float]:
    return [round(float(v), 6) for p in module.parameters() for v in p.detach().flatten()]


def artifacts(client: Any, run_id: str, path: str | None = None) -> list[str]:
    found = []
    for f in client.list_artifacts(run_id, path):
        found += artifacts(client, run_id, f.path) if f.is_dir else [f.path]
    return found


def record(run_id: str) -> dict[str, Any]:
    client = mlflow.MlflowClient()
    run = client.get_run(run_id)
    paths = artifacts(client, run_id)
    texts = {}
    for path in paths:
        if path.endswith((".json", ".txt")) and not path.startswith("model/"):
            local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path)
            with open(local) as f:
                texts[path] = json.load(f) if path.endswith(".json") else f.read()
    # Both log the model as an MLflow 3 logged model of the run.
    models = list(mlflow.search_logged_models(output_format="list"))
    mlmodel = [f"{m.artifact_location}/MLmodel" for m in models if m.source_run_id == run_id]
    signature = None
    if mlmodel:
        with open(mlflow.artifacts.download_artifacts(artifact_uri=mlmodel[0])) as f:
            signature = yaml.safe_load(f).get("signature")
    return {
        "status": run.info.status,
        "params": run.data.params,
        "metrics": {
            key: [(m.step, m.value) for m in client.get_metric_history(run_id, key)]
            for key in run.data.metrics
        },
        "tags": run.data.tags,
        "artifacts": sorted(paths),
        "texts": texts,
        "models": len(mlmodel),
        # The run's logged models: params, and the metric keys and steps linked to them.
        "logged_models": sorted(
            [
                m.name,
                m.params,
                sorted({(x.key, x.step) for x in m.metrics or []}),
            ]
            for m in models
            if m.source_run_id == run_id
        ),
        "signature": signature,
    }


def main() -> None:
    global LIB, mlflow
    warnings.simplefilter("ignore")
    LIB = sys.argv[1]
    mlflow = importlib.import_module(LIB)
    importlib.import_module(f"{LIB}.pytorch")
    if LIB == "mlflow":
        from _mlflow_requirements import skip_requirement_inference

        skip_requirement_inference()
    mlflow.set_tracking_uri(f"sqlite:///{os.path.abspath('store.db')}")
    out: dict[str, Any] = {}

    mlflow.pytorch.autolog()
    fit("lightning.pytorch", "plain", test=True)
    out["plain"] = record(mlflow.last_active_run().info.run_id)

    # MLflow recognises pytorch_lightning's EarlyStopping, not lightning.pytorch's.
    mlflow.pytorch.autolog(checkpoint_save_best_only=False, registered_model_name="lit")
    fit("pytorch_lightning", "early_stop", early_stopping=True)
    out["early_stop"] = record(mlflow.last_active_run().info.run_id)
    out["early_stop"]["versions"] = len(mlflow.MlflowClient().search_model_versions("name='lit'"))

    mlflow.pytorch.autolog(log_models=False, checkpoint=False)
    fit("lightning.pytorch", "lightning_early_stop", early_stopping=True)
    out["lightning_early_stop"] = record(mlflow.last_active_run().info.run_id)

    mlflow.pytorch.autolog(
        log_every_n_step=3,
        log_every_n_epoch=2,
        log_models=False,
        checkpoint_save_freq=5,
        checkpoint_save_best_only=False,
        checkpoint_save_weights_only=True,
    )
    with mlflow.start_run() as run:
        fit("lightning.pytorch", "steps")
    out["steps"] = record(run.info.run_id)

    # The public checkpoint callback, without autologging, and checkpoints loaded back.
    mlflow.pytorch.autolog(disable=True)
    with mlflow.start_run() as run:
        checkpoints = mlflow.pytorch.MlflowModelCheckpointCallback(save_best_only=False)
        fit("pytorch_lightning", "callback", callbacks=[checkpoints])
    net = module_class(importlib.import_module("pytorch_lightning"))
    out["callback"] = record(run.info.run_id)
    out["callback"]["restored"] = {
        "latest": weights(mlflow.pytorch.load_checkpoint(net, run.info.run_id)),
        "epoch_1": weights(mlflow.pytorch.load_checkpoint(net, run.info.run_id, epoch=1)),
    }

    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
