"""transformers' log_model for one tool: ``python -m benchmarks.models.bench_transformers
--case CASE``.

``--case transformers_log_model``: build a small BERT text-classification pipeline locally
(hidden size 64, 2 layers, a 100-word WordPiece vocabulary written to disk: nothing is
downloaded), start a run on a SQLite store in a fresh directory, then time
``<tool>.transformers.log_model(pipeline, name="model", input_example=[...])`` end to end
(``save_pretrained`` of model and tokenizer, the signature inferred from the example,
requirements, environment files, upload, run tag).  Before it, another interpreter logged a
pipeline built with another seed in the same environment and working directory (a training
script run again).  ``--case transformers_log_model_cold`` is the same with an empty
requirements cache and nothing logged before.  MLflow loads the model in a subprocess to infer
its requirements every time; mltrail's transformers flavor knows them without loading it.

MLflow's default requirements pin torchvision, which its transformers flavor requires to be
installed; benchmarks/.venv may hold only torchvision's metadata when no torchvision build
matches the installed torch (see benchmarks/models/run.py).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
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

CASES = ("transformers_log_model", "transformers_log_model_cold", "warm_up")
_WORDS = [f"w{i}" for i in range(95)]
_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _pipeline(folder: Path, seed: int) -> Any:
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(_SPECIAL + _WORDS) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(vocab))
    torch.manual_seed(seed)
    config = transformers.BertConfig(
        vocab_size=len(_SPECIAL) + len(_WORDS),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=128,
        num_labels=2,
    )
    model = transformers.BertForSequenceClassification(config).eval()
    return transformers.pipeline("text-classification", model=model, tokenizer=tokenizer)


def _log(args: argparse.Namespace, seed: int) -> tuple[float, Any]:
    mlflow, _ = connect(args.tool, args.tmp)
    flavor = load_sub(args.tool, "transformers")
    pipeline = _pipeline(args.tmp / f"vocab{seed}", seed)
    example = ["w1 w2 w3", "w4 w5"]
    with mlflow.start_run():
        start = time.perf_counter()
        info = flavor.log_model(pipeline, name="model", input_example=example)
        elapsed = time.perf_counter() - start
    return elapsed, info


def _run(args: argparse.Namespace) -> Result:
    os.environ["XDG_CACHE_HOME"] = str(args.tmp / "cache")  # this run's own user cache
    if args.case == "warm_up":
        _log(args, 1)
        return {}
    if args.case == "transformers_log_model":
        warm_up("benchmarks.models.bench_transformers", args)
    elapsed, info = _log(args, 0)
    check(bool(info.model_uri), "log_model returned a model URI")
    local, requirements = downloaded_model(args.tool, info.model_uri, args.tmp)
    for name in ("transformers", "torch"):
        check(any(r.startswith(name + "==") for r in requirements), f"{name} is a requirement")
    check(os.path.isfile(os.path.join(local, "model", "model.safetensors")), "weights saved")
    return {"log_model_s": elapsed, "requirements": requirements}


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument("--case", choices=CASES, required=True)
    main("models", _run, p)
