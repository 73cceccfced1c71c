"""A Hub-referenced transformers model (``save_pretrained=False``) saved, loaded and persisted by
mltrail and by MLflow 3.17, against a local Hugging Face cache built here (nothing downloaded).

Run in a fresh interpreter with ``HF_HUB_CACHE`` pointing at an empty folder and
``HF_HUB_OFFLINE=1`` (huggingface_hub reads both when imported); prints one JSON document.
MLflow asks the Hub for a repository's latest commit when it saves: that question is answered
with the cached commit, as the Hub would for this cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

warnings.simplefilter("ignore")
logging.disable(logging.WARNING)

REPO = "tiny-org/tiny-gpt2"
COMMIT = hashlib.sha1(b"tiny-gpt2").hexdigest()


def _cache(root: Path) -> None:
    from tests.models._tiny_transformers import build

    pipeline = build("text-generation", root / "src")
    repo_dir = Path(os.environ["HF_HUB_CACHE"]) / ("models--" + REPO.replace("/", "--"))
    snapshot = repo_dir / "snapshots" / COMMIT
    pipeline.model.save_pretrained(snapshot)
    pipeline.tokenizer.save_pretrained(snapshot)
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text(COMMIT)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _flavor(root: Path) -> dict[str, Any]:
    import yaml

    conf: dict[str, Any] = yaml.safe_load((root / "MLmodel").read_text())["flavors"]
    return conf["transformers"]


def main(root: Path) -> dict[str, Any]:
    import mlflow
    import mlflow.transformers
    import mlflow.transformers.flavor_config as mlflow_flavor_config
    import transformers

    import mltrail

    _cache(root)
    pipeline = transformers.pipeline("text-generation", model=REPO)
    mlflow_flavor_config.get_latest_commit_for_repo = lambda repo: COMMIT
    config = {"max_new_tokens": 4, "do_sample": False}
    inputs = ["the cat", "hello world"]
    out: dict[str, Any] = {
        "name_or_path": pipeline.model.name_or_path,
        "expected": pipeline(inputs, **config),
    }
    mltrail.transformers.save_model(
        pipeline, root / "ours", save_pretrained=False, pip_requirements=["transformers"]
    )
    mlflow.transformers.save_model(
        pipeline, str(root / "theirs"), save_pretrained=False, pip_requirements=["transformers"]
    )
    libs = {"ours": mltrail, "theirs": mlflow}
    for name in libs:
        out[f"files_{name}"] = _files(root / name)
        out[f"flavor_{name}"] = _flavor(root / name)
        for lib_name, lib in libs.items():
            loaded = lib.transformers.load_model(str(root / name))
            out[f"predicted_{name}_by_{lib_name}"] = loaded(inputs, **config)
    # Persisting: each library persists both models (copies).
    for name in libs:
        for lib_name, lib in libs.items():
            target = root / f"persisted_{name}_by_{lib_name}"
            shutil.copytree(root / name, target)
            lib.transformers.persist_pretrained_model(str(target))
            out[f"files_{target.name}"] = _files(target)
            out[f"flavor_{target.name}"] = _flavor(target)
            for loader_name, loader in libs.items():
                loaded = loader.transformers.load_model(str(target))
                out[f"predicted_{target.name}_by_{loader_name}"] = loaded(inputs, **config)
    # A PEFT adapter on the Hub model: saved as the adapter and the base model's Hub reference.
    import peft
    import torch

    torch.manual_seed(3)
    lora_config = peft.LoraConfig(r=2, target_modules=["c_attn"], init_lora_weights=False)
    base = transformers.AutoModelForCausalLM.from_pretrained(REPO)
    lora = transformers.pipeline(
        "text-generation", model=peft.get_peft_model(base, lora_config), tokenizer=REPO
    )
    out["peft_expected"] = lora(inputs, **config)
    mltrail.transformers.save_model(lora, root / "peft_ours", pip_requirements=["transformers"])
    mlflow.transformers.save_model(
        lora, str(root / "peft_theirs"), pip_requirements=["transformers"]
    )
    for name in ("peft_ours", "peft_theirs"):
        out[f"files_{name}"] = _files(root / name)
        out[f"flavor_{name}"] = _flavor(root / name)
        for lib_name, lib in libs.items():
            loaded = lib.transformers.load_model(str(root / name))
            out[f"predicted_{name}_by_{lib_name}"] = loaded(inputs, **config)
    # A logged model (models:/<model_id>), persisted in its artifact location.
    mltrail.set_tracking_uri(f"sqlite:///{root / 'mltrail.db'}")
    with mltrail.start_run():
        info = mltrail.transformers.log_model(
            pipeline, name="hub", save_pretrained=False, pip_requirements=["transformers"]
        )
    client = mltrail.MlflowClient()
    listed = [f.path for f in client.list_logged_model_artifacts(str(info.model_id))]
    mltrail.transformers.persist_pretrained_model(info.model_uri)
    out["logged_before"] = sorted(listed)
    out["logged_after"] = sorted(
        f.path for f in client.list_logged_model_artifacts(str(info.model_id))
    )
    out["logged_predicted"] = mltrail.transformers.load_model(info.model_uri)(inputs, **config)
    return out


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
