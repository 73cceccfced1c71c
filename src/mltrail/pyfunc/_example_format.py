"""MLflow's ``TypeFromExample``: a model that takes its input in its input example's form.

:func:`update_signature_for_type_hint_from_example` marks a signature (``MLmodel`` records
``type_hint_from_example: true`` beside it) when the example is a list, a DataFrame or a
Series.  A loaded model so marked checks its input against the signature as usual, then hands
``predict`` the checked DataFrame turned back into the example's form: a Series (named as the
example), a list of scalars (the one column), a list of records, a single dict or a scalar.
"""

from __future__ import annotations

import logging
from typing import Any

from mltrail.models._signature import ModelSignature

__all__ = ["to_example_format", "update_signature_for_type_hint_from_example"]

_log = logging.getLogger(__name__)


def _example_kinds() -> tuple[type, ...]:
    import pandas as pd

    return (list, pd.DataFrame, pd.Series)


def update_signature_for_type_hint_from_example(
    input_example: Any, signature: ModelSignature
) -> None:
    """Mark *signature* as MLflow's ``TypeFromExample`` signature when *input_example* is a
    list, a pandas DataFrame or a Series; otherwise log a warning and leave it unmarked."""
    if isinstance(input_example, _example_kinds()):
        signature._is_type_hint_from_example = True
    else:
        _log.warning(
            "Input example must be one of pandas.DataFrame, pandas.Series or list when using "
            "TypeFromExample as type hint, got %s",
            type(input_example),
        )


def to_example_format(data: Any, input_example: Any) -> Any:
    """*data* (a DataFrame after schema enforcement) in the form of *input_example*."""
    import numpy as np
    import pandas as pd

    if not isinstance(data, pd.DataFrame) or isinstance(input_example, pd.DataFrame):
        return data
    if isinstance(input_example, pd.Series):
        series = data.iloc[:, 0]
        series.name = input_example.name
        return series
    if np.isscalar(input_example):
        return data.iloc[0, 0]
    if isinstance(input_example, dict):
        if len(data) == 1:
            return data.to_dict(orient="records")[0]
        _log.warning("Cannot convert a DataFrame of %d rows to a single dict", len(data))
        return data
    if isinstance(input_example, list):
        if len(data.columns) == 1 and all(np.isscalar(x) for x in input_example):
            return data.iloc[:, 0].tolist()
        return data.to_dict(orient="records")
    return data
