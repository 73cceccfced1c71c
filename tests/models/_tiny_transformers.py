"""Tiny transformers pipelines built from local configurations: nothing is downloaded.

BERT models (hidden size 16, one layer) with a WordPiece vocabulary written to disk for
text-classification, fill-mask, token-classification and feature-extraction; a GPT-2 model
with a word-level ``tokenizers`` tokenizer (wrapped in ``PreTrainedTokenizerFast``) for
text-generation.  Weights are random but seeded, so two builds are equal.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"  # never ask the Hub, whatever a test calls

WORDS = [
    "the", "a", "cat", "dog", "sat", "on", "mat", "good", "bad", "movie", "is", "paris",
    "london", "hello", "world", "i", "love", "hate", "this", "ran",
]  # fmt: skip
BERT_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
GPT_SPECIAL = ["<pad>", "<unk>", "</s>"]
TASKS = (
    "text-classification",
    "fill-mask",
    "token-classification",
    "feature-extraction",
    "text-generation",
)
# Inputs per task (two each: batches of two and single strings are both checked).
INPUTS = {
    "text-classification": ["the cat sat on the mat", "a good movie"],
    "fill-mask": ["the [MASK] sat on the mat", "a [MASK] movie"],
    "token-classification": ["the cat sat", "hello world"],
    "feature-extraction": ["the cat", "hello world i love this"],
    "text-generation": ["the cat", "hello world"],
}
# Greedy, short generation: the same text every time.
GENERATION_CONFIG = {"max_new_tokens": 4, "do_sample": False}


def bert_tokenizer(folder: Path) -> Any:
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(BERT_SPECIAL + WORDS) + "\n", encoding="utf-8")
    return transformers.BertTokenizerFast(vocab_file=str(vocab))


def word_tokenizer() -> Any:
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {token: i for i, token in enumerate(GPT_SPECIAL + WORDS)}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", unk_token="<unk>", eos_token="</s>"
    )


def _bert_config(**extra: Any) -> Any:
    import transformers

    return transformers.BertConfig(
        vocab_size=len(BERT_SPECIAL) + len(WORDS),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        **extra,
    )


def build(task: str, folder: Path, seed: int = 0) -> Any:
    """The pipeline of *task* (its tokenizer files under *folder*)."""
    import torch
    import transformers

    torch.manual_seed(seed)
    if task == "text-generation":
        tokenizer = word_tokenizer()
        config = transformers.GPT2Config(
            vocab_size=len(GPT_SPECIAL) + len(WORDS),
            n_positions=64,
            n_embd=16,
            n_layer=1,
            n_head=2,
            pad_token_id=0,
            bos_token_id=2,
            eos_token_id=2,
        )
        model: Any = transformers.GPT2LMHeadModel(config)
    else:
        tokenizer = bert_tokenizer(folder / "vocab")
        if task == "text-classification":
            labels = {"id2label": {0: "negative", 1: "positive"}}
            model = transformers.BertForSequenceClassification(_bert_config(**labels))
        elif task == "fill-mask":
            model = transformers.BertForMaskedLM(_bert_config())
        elif task == "token-classification":
            names = {0: "O", 1: "PER", 2: "LOC"}
            model = transformers.BertForTokenClassification(_bert_config(id2label=names))
        elif task == "feature-extraction":
            model = transformers.BertModel(_bert_config())
        else:
            raise ValueError(f"no tiny model for {task!r}")
    model.eval()
    return transformers.pipeline(task, model=model, tokenizer=tokenizer)
