"""The ``transformers`` flavor as a Python function: MLflow's input and output conventions.

The input arrives as the schema left it (usually a DataFrame of one string column, whose
records are ``{0: text}``), or as strings, dicts or lists of them.  Per task:

- text-generation, fill-mask, token-classification, feature-extraction: a string or a list
  of strings (records are reduced to their first value);
- text-classification: strings, or ``{"text": ..., "text_pair": ...}`` dicts (also JSON- or
  repr-encoded, as the scoring server passes them);
- other tasks: passed to the pipeline as they are (a dict becomes keyword arguments).

The output, as MLflow gives it: text-classification a DataFrame of ``label`` and ``score``;
text-generation the generated texts; fill-mask the top ``token_str`` per input;
token-classification the entities of each input joined by commas; feature-extraction the
token embeddings of the (first) input as an array.  Strings are stripped, and a single string
is returned as a one-element list.  The model's ``model_config`` and the call's ``params`` are
the pipeline's keyword arguments (params win).
"""

from __future__ import annotations

import ast
import re
from typing import Any

from mltrail._exceptions import InvalidArgument, NotImplementedYet
from mltrail._optional import require

__all__ = ["TransformersPyfunc"]

# Pipelines whose list-of-records input is reduced to the records' first values.
_STRING_TASK_TYPES = (
    "FillMaskPipeline",
    "TextGenerationPipeline",
    "TokenClassificationPipeline",
    "SummarizationPipeline",
    "TranslationPipeline",
)
# Tasks a prompt template applies to (MLflow's list).
PROMPT_TEMPLATE_TASKS = (
    "feature-extraction",
    "fill-mask",
    "summarization",
    "text2text-generation",
    "text-generation",
)
_TEXT_PAIR_KEYS = {"text", "text_pair"}


def _is(pipeline: Any, *names: str) -> bool:
    """Whether *pipeline* is an instance of one of transformers' classes *names* (some are
    missing from some versions: transformers 5 removed the text2text family)."""
    transformers = require("transformers")
    classes = tuple(c for n in names if isinstance(c := getattr(transformers, n, None), type))
    return bool(classes) and isinstance(pipeline, classes)


def _str_or_list_of_str(data: Any) -> None:
    if isinstance(data, str):
        return
    if isinstance(data, list) and all(isinstance(item, str) for item in data):
        return
    raise InvalidArgument(
        f"Invalid input of type {type(data).__name__}: this pipeline takes a string or a list "
        "of strings"
    )


def _first_values(data: Any) -> Any:
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        return [next(iter(item.values())) for item in data]
    return data


def _check_pair_keys(payload: dict[Any, Any]) -> None:
    if set(payload) - _TEXT_PAIR_KEYS and not all(isinstance(k, int) for k in payload):
        raise InvalidArgument(
            f"Invalid text-classification input keys {sorted(map(str, payload))}: dict inputs "
            f"take only {sorted(_TEXT_PAIR_KEYS)}"
        )


def _decode_pair(text: Any) -> Any:
    """A ``{"text": ..., "text_pair": ...}`` dict written as a Python or JSON literal (the
    scoring server's encoding of such inputs), else *text* itself."""
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        return text
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    return value if isinstance(value, dict) else text


def _text_classification_input(data: Any) -> Any:
    if isinstance(data, str):
        return data
    if isinstance(data, dict):
        _check_pair_keys(data)
        return data
    if isinstance(data, list) and all(isinstance(item, str) for item in data):
        return data
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        for payload in data:
            _check_pair_keys(payload)
        if next(iter(data[0])) == 0:
            data = [item[0] for item in data]
        return [_decode_pair(item) for item in data]
    raise InvalidArgument(
        f"Invalid text-classification input of type {type(data).__name__}: expected a string, "
        "a list of strings, a dict of text/text_pair or a list of such dicts"
    )


def _generated_texts(raw: Any, key: str) -> Any:
    if isinstance(raw, list) and raw and all(isinstance(item, dict) for item in raw):
        return raw[0][key]
    if isinstance(raw, list) and all(isinstance(item, list) for item in raw):
        return [entry[key] for group in raw for entry in group]
    raise InvalidArgument(f"Unexpected text-generation output of type {type(raw).__name__}")


def _fill_mask_output(raw: Any) -> list[Any]:
    if isinstance(raw[0], list):
        return [group[0]["token_str"] for group in raw]
    return [raw[0]["token_str"]]


def _entities(raw: Any) -> Any:
    if raw and isinstance(raw[0], list):
        return [_entities(group) for group in raw]
    if not raw:
        return ""
    key = "entity_group" if "entity_group" in raw[0] else "entity"
    return ",".join(str(entity[key]) for entity in raw)


def _strip(output: Any, data: Any, token_classification: bool) -> Any:
    """MLflow's clean-up: one output for one string input, strings stripped, a one-string
    list reduced to the string."""
    if not token_classification and isinstance(data, str) and isinstance(output, list):
        output = output[0]
    if isinstance(output, str):
        return output.strip()
    if isinstance(output, list):
        if all(isinstance(item, str) for item in output):
            cleaned = [item.strip() for item in output]
            return cleaned if len(cleaned) > 1 else cleaned[0]
        return [_strip(item, data, token_classification) for item in output]
    return output


class TransformersPyfunc:
    """The python_function implementation of a pipeline (``predict(data, params)``)."""

    def __init__(
        self,
        pipeline: Any,
        flavor_conf: dict[str, Any] | None = None,
        model_config: dict[str, Any] | None = None,
        prompt_template: str | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.flavor_conf = dict(flavor_conf or {})
        self.model_config = dict(model_config or {})
        self.prompt_template = prompt_template
        if self.flavor_conf.get("inference_task"):
            raise NotImplementedYet(
                f"This model was saved with the LLM inference task "
                f"{self.flavor_conf['inference_task']!r} (an OpenAI-style chat/completions/"
                "embeddings interface): mltrail's transformers flavor does not serve it yet"
            )

    def get_raw_model(self) -> Any:
        return self.pipeline

    def _records(self, data: Any) -> Any:
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            if _is(self.pipeline, "ZeroShotClassificationPipeline"):
                columns = data.to_dict(orient="list")
                merged: dict[Any, Any] = {}
                for key, values in columns.items():
                    unique = [v for i, v in enumerate(values) if v not in values[:i]]
                    many = len(unique) > 1 and all(isinstance(v, str) for v in unique)
                    merged[key] = unique if many else unique[0]
                return merged
            return data.to_dict(orient="records")
        if isinstance(data, (dict, str, bytes)):
            return data
        if type(data).__module__ == "numpy":
            return data
        if isinstance(data, list):
            if not all(isinstance(item, (str, dict)) for item in data):
                raise InvalidArgument(
                    "Invalid input list: every element must be a string or a dict of strings"
                )
            return data
        raise InvalidArgument(
            f"Invalid input of type {type(data).__name__}: expected a DataFrame, a string, a "
            "dict, or a list of strings or dicts"
        )

    def _template(self, data: Any) -> Any:
        if not self.prompt_template:
            return data
        template = self.prompt_template
        if isinstance(data, str):
            return template.format(prompt=data)
        if isinstance(data, list) and all(isinstance(item, str) for item in data):
            return [template.format(prompt=item) for item in data]
        raise InvalidArgument(
            f"Invalid input of type {type(data).__name__}: a prompt template applies to a "
            "string or a list of strings"
        )

    def _call(self, data: Any, config: dict[str, Any]) -> Any:
        try:
            if isinstance(data, dict):
                return self.pipeline(**data, **config)
            return self.pipeline(data, **config)
        except ValueError as exc:
            if "model_kwargs` are not used by the model" in str(exc):
                raise InvalidArgument(
                    f"Invalid params for pipeline {type(self.pipeline).__name__}: {exc}"
                ) from exc
            raise

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        config = {**self.model_config, **(params or {})}
        data = self._records(data)
        pipeline = self.pipeline
        if isinstance(data, list) and _is(pipeline, *_STRING_TASK_TYPES):
            data = _first_values(data)
        elif _is(pipeline, "TextClassificationPipeline"):
            data = _text_classification_input(data)
        # include_prompt trims custom instruction pipelines' echoes only: nothing to do here.
        config.pop("include_prompt", None)
        collapse = bool(config.pop("collapse_whitespace", False))
        # Translation and summarization pipelines are text2text ones (transformers 4 only).
        if _is(pipeline, "TranslationPipeline"):
            _str_or_list_of_str(data)
            return self._texts(data, self._call(data, config), "translation_text", False)
        if _is(pipeline, "SummarizationPipeline"):
            _str_or_list_of_str(data)
            data = self._template(data)
            return self._texts(data, self._call(data, config), "summary_text", collapse)
        if _is(pipeline, "Text2TextGenerationPipeline"):
            data = self._template(_first_values(data))
            return self._texts(data, self._call(data, config), "generated_text", collapse)
        if _is(pipeline, "TextGenerationPipeline"):
            _str_or_list_of_str(data)
            data = self._template(data)
            return self._texts(data, self._call(data, config), "generated_text", collapse)
        if _is(pipeline, "FillMaskPipeline"):
            _str_or_list_of_str(data)
            data = self._template(data)
            return self._wrap(_strip(_fill_mask_output(self._call(data, config)), data, False))
        if _is(pipeline, "TextClassificationPipeline"):
            import pandas as pd

            return pd.DataFrame(self._call(data, config))
        if _is(pipeline, "TokenClassificationPipeline"):
            return self._wrap(_strip(_entities(self._call(data, config)), data, True))
        if _is(pipeline, "FeatureExtractionPipeline"):
            import numpy as np

            data = self._template(_first_values(data))
            raw = self._call(data, config)
            return raw if isinstance(raw, np.ndarray) else np.array(raw[0][0])
        raise NotImplementedYet(
            f"Pipelines of type {type(pipeline).__name__} (task {pipeline.task!r}) are not "
            "supported by mltrail's transformers python_function yet; supported: "
            "text-classification, fill-mask, token-classification, feature-extraction, "
            "text-generation, summarization, translation, text2text-generation"
        )

    def _texts(self, data: Any, raw: Any, key: str, collapse: bool) -> Any:
        if key == "generated_text" and _is(self.pipeline, "TextGenerationPipeline"):
            output = _generated_texts(raw, key)
            if collapse:
                if isinstance(output, list):
                    output = [re.sub(r"\s+", " ", text).strip() for text in output]
                else:
                    output = re.sub(r"\s+", " ", output).strip()
            return self._wrap(_strip(output, data, False))
        texts = _collect(raw, key)
        if collapse:
            texts = [re.sub(r"\s+", " ", text).strip() for text in texts]
        return self._wrap(_strip(texts, data, False))

    @staticmethod
    def _wrap(output: Any) -> Any:
        return [output] if isinstance(output, str) else output


def _collect(raw: Any, key: str) -> list[Any]:
    """Every *key* value in a (nested) list of dicts, in order."""
    found: list[Any] = []
    if isinstance(raw, dict):
        raw = [raw]
    for item in raw:
        if isinstance(item, dict):
            for name, value in item.items():
                if name == key:
                    found.append(value)
                elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
                    found.extend(_collect(value, key))
        elif isinstance(item, list):
            found.extend(_collect(item, key))
    return found
