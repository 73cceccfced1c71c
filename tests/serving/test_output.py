"""Writing predictions in the shapes of MLflow's scoring server, and the metrics text."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from mltrail._exceptions import MltrailError
from mltrail.serving import ScoringMetrics, predictions_to_csv, predictions_to_json


def _out(value: object) -> object:
    return json.loads(predictions_to_json(value))["predictions"]


def test_ndarray() -> None:
    assert _out(np.array([1, 2])) == [1, 2]
    assert _out(np.array([[0.5, 1.5]], dtype=np.float32)) == [[0.5, 1.5]]
    assert _out(np.array(["a", "b"])) == ["a", "b"]
    assert _out(np.array([True, False])) == [True, False]


def test_dataframe_is_records() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert _out(frame) == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


def test_series_is_one_field_records() -> None:
    assert _out(pd.Series([1.5, 2.5])) == [{"0": 1.5}, {"0": 2.5}]
    assert _out(pd.Series([1], name="score")) == [{"score": 1}]


def test_dict_of_arrays_and_scalars() -> None:
    out = _out({"label": np.array([1, 0]), "score": np.float32(0.5), "name": "m"})
    assert out == {"label": [1, 0], "score": 0.5, "name": "m"}


def test_lists_bytes_dates_and_numpy_scalars() -> None:
    out = _out([np.int64(3), b"\x00\x01", dt.date(2024, 1, 2), pd.Timestamp("2024-01-02 03:04")])
    assert out == [3, "AAE=", "2024-01-02", "2024-01-02T03:04:00"]
    assert _out(np.array(["2024-01-02"], dtype="datetime64[D]")) == ["2024-01-02"]
    assert _out(np.array([b"ab"], dtype=object)) == ["YWI="]


def test_nan_is_written_as_python_does() -> None:
    body = predictions_to_json(np.array([math.nan, 1.0]))
    assert body == b'{"predictions": [NaN, 1.0]}'


def test_unwritable_predictions_are_an_error_not_a_crash() -> None:
    with pytest.raises(MltrailError, match="cannot be written as JSON"):
        predictions_to_json([object()])


def test_csv() -> None:
    assert predictions_to_csv(np.array([1, 2])) == "predictions\n1\n2\n"
    assert predictions_to_csv(pd.DataFrame({"a": [1], "b": [2]})) == "a,b\n1,2\n"
    assert predictions_to_csv(np.array([[1, 2]])) == "0,1\n1,2\n"
    assert predictions_to_csv({"x": np.array([1, 2])}, header=False) == "1\n2\n"


def test_metrics_text_format() -> None:
    metrics = ScoringMetrics()
    metrics.started_request()
    metrics.observe("/invocations", "POST", 200, 0.003)
    metrics.started_request()
    metrics.observe("/invocations", "POST", 400, 0.2, "BAD_REQUEST")
    metrics.started_request()
    metrics.observe("/../etc/passwd", "GET", 404, 0.0001, "ENDPOINT_NOT_FOUND")
    metrics.add_rows(7)
    text = metrics.render()
    lines = set(text.splitlines())
    assert (
        'mltrail_scoring_requests_total{path="/invocations",method="POST",status="200"} 1' in lines
    )
    assert 'mltrail_scoring_requests_total{path="other",method="GET",status="404"} 1' in lines
    assert 'mltrail_scoring_errors_total{status="400",error_code="BAD_REQUEST"} 1' in lines
    assert (
        'mltrail_scoring_request_duration_seconds_bucket{path="/invocations",le="0.0025"} 0'
        in lines
    )
    assert (
        'mltrail_scoring_request_duration_seconds_bucket{path="/invocations",le="0.005"} 1' in lines
    )
    assert (
        'mltrail_scoring_request_duration_seconds_bucket{path="/invocations",le="+Inf"} 2' in lines
    )
    assert 'mltrail_scoring_request_duration_seconds_count{path="/invocations"} 2' in lines
    assert "mltrail_scoring_requests_in_flight 0" in lines
    assert "mltrail_scoring_predicted_rows_total 7" in lines
    assert "# TYPE mltrail_scoring_request_duration_seconds histogram" in lines
    assert text.endswith("\n")
    assert "passwd" not in text
