"""``mltrail models predict``: the server's parsing and checks on files, every URI form."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from tests.serving.conftest import Models

from mltrail.cli import cli


def _run(*args: str, input: bytes | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(cli, ["models", "predict", *args], input=input, prog_name="mltrail")


def _ok(*args: str, input: bytes | None = None) -> Result:
    result = _run(*args, input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result


def _iris_rows(models: Models) -> list[dict[str, float]]:
    return [dict.fromkeys(models.features, 1.0), dict.fromkeys(models.features, -1.0)]


def test_json_file_to_json_file(models: Models, tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"dataframe_records": [{"x": 1.5, "y": 1}]}))
    out = tmp_path / "out.json"
    _ok("-m", str(models.pyfunc_dir), "-i", str(source), "-o", str(out))
    assert json.loads(out.read_text()) == {"predictions": [{"0": 2.5}]}


def test_params_travel_in_the_json(models: Models) -> None:
    body = {"inputs": {"x": [1.0], "y": [1]}, "params": {"factor": 3, "output": "array"}}
    result = _ok("-m", str(models.pyfunc_dir), input=json.dumps(body).encode())
    assert json.loads(result.stdout) == {"predictions": [4.0]}


def test_csv_in_csv_out(models: Models, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("x,y\n1.5,1\n2,2\n")
    out = tmp_path / "out.csv"
    _ok(
        "-m",
        str(models.pyfunc_dir),
        "-i",
        str(source),
        "-t",
        "csv",
        "-o",
        str(out),
        "--output-format",
        "csv",
    )
    assert out.read_text() == "0\n2.5\n4.0\n"


def test_parquet_input(models: Models, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    source = tmp_path / "in.parquet"
    pd.DataFrame({"x": [1.0], "y": [2]}).to_parquet(source)
    result = _ok("-m", str(models.pyfunc_dir), "-i", str(source), "-t", "parquet")
    assert json.loads(result.stdout) == {"predictions": [{"0": 3.0}]}


def test_large_csv_is_scored_in_batches_with_progress(models: Models, tmp_path: Path) -> None:
    rows = 25_000
    frame = pd.DataFrame({"x": [float(i) for i in range(rows)], "y": list(range(rows))})
    source = tmp_path / "big.csv"
    frame.to_csv(source, index=False)
    batched = _ok(
        "-m", str(models.pyfunc_dir), "-i", str(source), "-t", "csv", "--batch-size", "10000"
    )
    assert "Scored 10,000 rows" in batched.stderr
    assert "Scored 25,000 rows" in batched.stderr
    whole = _ok("-m", str(models.pyfunc_dir), "-i", str(source), "-t", "csv", "--batch-size", "0")
    predictions = json.loads(batched.stdout)["predictions"]
    assert predictions == json.loads(whole.stdout)["predictions"]
    assert len(predictions) == rows
    assert predictions[-1] == {"0": 2.0 * (rows - 1)}


def test_large_json_is_scored_in_batches(models: Models, tmp_path: Path) -> None:
    rows = 2_500
    body = {
        "dataframe_split": {"columns": ["x", "y"], "data": [[1.0, i] for i in range(rows)]},
        "params": {"output": "frame"},
    }
    result = _ok(
        "-m", str(models.pyfunc_dir), "--batch-size", "1000", input=json.dumps(body).encode()
    )
    assert "Scored 1,000 rows of 2,500 (40%)" in result.stderr
    predictions = json.loads(result.stdout)["predictions"]
    assert len(predictions) == rows
    assert predictions[2_499] == {"total": 2_500.0, "twice": 5_000.0}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{", "not valid JSON"),
        (b'{"inputs": [1], "dataframe_records": []}', "exactly one of"),
        (b'{"dataframe_records": [{"x": "text", "y": 1}]}', "'x'"),
        (b'{"dataframe_records": [{"x": 1.0}]}', "'y'"),
        (
            b'{"dataframe_records": [{"x": 1.0, "y": 1}], "params": {"fail": true}}',
            "refused this input",
        ),
    ],
)
def test_bad_input_fails_with_the_servers_message(
    models: Models, body: bytes, fragment: str
) -> None:
    result = _run("-m", str(models.pyfunc_dir), input=body)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: "), result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.output


def test_bad_csv_fails(models: Models, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("x,y\n1.0,notanint\n")
    result = _run("-m", str(models.pyfunc_dir), "-i", str(source), "-t", "csv")
    assert result.exit_code == 1
    assert "does not match the model's schema" in result.stderr


def test_missing_input_file(models: Models, tmp_path: Path) -> None:
    result = _run("-m", str(models.pyfunc_dir), "-i", str(tmp_path / "nope.json"))
    assert result.exit_code == 1
    assert "Cannot read input" in result.stderr


@pytest.mark.parametrize(
    "uri",
    [
        "{run}",
        "models:/{name}/1",
        "models:/{name}/latest",
        "models:/{name}@champion",
        "{local}",
        "file://{local}",
    ],
)
def test_every_uri_form(models: Models, uri: str) -> None:
    uri = uri.format(
        run=models.sklearn_run_uri, name=models.registered_name, local=models.sklearn_dir
    )
    body = json.dumps({"dataframe_records": _iris_rows(models)}).encode()
    result = _ok("-m", uri, "--tracking-uri", models.tracking_uri, input=body)
    assert json.loads(result.stdout) == {"predictions": [1, 0]}


def test_registry_uri_that_does_not_exist(models: Models) -> None:
    result = _run(
        "-m", "models:/no-such-model/1", "--tracking-uri", models.tracking_uri, input=b"{}"
    )
    assert result.exit_code == 1
    assert "no-such-model" in result.stderr


def test_the_store_is_untouched_after_serving_from_it(models: Models) -> None:
    # A models:/ URI naming files of a local store is copied, never removed.
    body = json.dumps({"dataframe_records": _iris_rows(models)}).encode()
    _ok(
        "-m",
        f"models:/{models.registered_name}/2",
        "--tracking-uri",
        models.tracking_uri,
        input=body,
    )
    again = _ok("-m", models.sklearn_run_uri, "--tracking-uri", models.tracking_uri, input=body)
    assert json.loads(again.stdout) == {"predictions": [1, 0]}


def test_csv_output_of_a_frame(models: Models) -> None:
    body = {"inputs": {"x": [1.0], "y": [1]}, "params": {"output": "frame"}}
    result = _ok(
        "-m", str(models.pyfunc_dir), "--output-format", "csv", input=json.dumps(body).encode()
    )
    assert pd.read_csv(io.StringIO(result.stdout)).to_dict("records") == [
        {"total": 2.0, "twice": 4.0}
    ]
