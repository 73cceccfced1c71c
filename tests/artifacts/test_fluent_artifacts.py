"""MLflow's module-level artifact helpers: download_artifacts, list_artifacts, load_*.

Every test logs to a real SQLite store in its own tmp_path (artifacts in a folder beside it);
the remote ones go through SeaweedFS (``s3://``) and an in-process tracking server
(``mlflow-artifacts:/``).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import mltrail
from mltrail._exceptions import BadRequest, InvalidArgument, NotFound
from mltrail.artifacts import (
    FileInfo,
    S3ArtifactRepository,
    download_artifacts,
    list_artifacts,
    load_dict,
    load_image,
    load_text,
)


@pytest.fixture
def tracking(tmp_path: Path) -> str:
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    mltrail.set_tracking_uri(uri)
    return uri


@pytest.fixture
def run_id(tracking: str) -> str:
    """A run with ``notes.txt``, ``model/{MLmodel,conf.yaml,sub/f.txt}`` and ``bad.json``."""
    with mltrail.start_run() as run:
        mltrail.log_text("hello", "notes.txt")
        mltrail.log_text("flavors: {}\n", "model/MLmodel")
        mltrail.log_dict({"a": 1, "b": [1, 2]}, "model/conf.yaml")
        mltrail.log_text("x", "model/sub/f.txt")
        mltrail.log_text("{not json", "bad.json")
    return run.info.run_id


def _mode(path: str | Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _files(root: str | Path) -> set[str]:
    base = Path(root)
    return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()}


# -- download_artifacts -------------------------------------------------------------------------


def test_download_a_file_of_a_run_into_a_private_directory(run_id: str) -> None:
    local = download_artifacts(f"runs:/{run_id}/notes.txt")
    assert Path(local).read_text() == "hello"
    assert os.path.basename(local) == "notes.txt"
    assert _mode(os.path.dirname(local)) == 0o700


def test_download_a_directory_returns_the_local_directory(run_id: str, tmp_path: Path) -> None:
    dst = tmp_path / "out"
    local = download_artifacts(f"runs:/{run_id}/model", dst_path=str(dst))
    assert local == str(dst / "model")
    assert os.path.isdir(local)
    assert _files(dst) == {"model/MLmodel", "model/conf.yaml", "model/sub/f.txt"}


def test_download_without_dst_path_is_private(run_id: str) -> None:
    local = download_artifacts(f"runs:/{run_id}/model")
    parent = os.path.dirname(local)
    assert _mode(parent) == 0o700
    assert os.path.realpath(parent).startswith(os.path.realpath(tempfile.gettempdir()))
    assert _files(local) == {"MLmodel", "conf.yaml", "sub/f.txt"}


def test_downloads_land_in_dst_under_their_last_segment(run_id: str, tmp_path: Path) -> None:
    """As MLflow: runs:/<id>/model/sub and run_id + model/sub both give <dst>/sub."""
    local = download_artifacts(run_id=run_id, artifact_path="model/sub", dst_path=tmp_path / "o")
    assert local == str(tmp_path / "o" / "sub")
    assert _files(tmp_path / "o") == {"sub/f.txt"}
    local = download_artifacts(f"runs:/{run_id}/model/sub/f.txt", dst_path=tmp_path / "p")
    assert local == str(tmp_path / "p" / "f.txt")


def test_a_trailing_slash_downloads_the_contents_into_dst(run_id: str, tmp_path: Path) -> None:
    local = download_artifacts(f"runs:/{run_id}/model/", dst_path=tmp_path / "o")
    assert local == str(tmp_path / "o")
    assert _files(local) == {"MLmodel", "conf.yaml", "sub/f.txt"}
    local = download_artifacts(run_id=run_id, artifact_path="model/", dst_path=tmp_path / "p")
    assert local == str(tmp_path / "p")
    source = Path(download_artifacts(f"runs:/{run_id}/model"))
    assert download_artifacts(f"{source}/", dst_path=tmp_path / "q") == str(tmp_path / "q")
    assert _files(tmp_path / "q") == {"MLmodel", "conf.yaml", "sub/f.txt"}


@pytest.mark.parametrize("form", ["run_id", "runs:/{}", "runs:/{}/"])
def test_the_whole_run_lands_in_dst_path(run_id: str, tmp_path: Path, form: str) -> None:
    dst = tmp_path / "all"
    if form == "run_id":
        local = download_artifacts(run_id=run_id, dst_path=str(dst))
    else:
        local = download_artifacts(form.format(run_id), dst_path=str(dst))
    assert local == str(dst)
    assert _files(dst) == {
        "bad.json",
        "model/MLmodel",
        "model/conf.yaml",
        "model/sub/f.txt",
        "notes.txt",
    }


def test_dst_path_is_created_and_nothing_is_written_beside_it(run_id: str, tmp_path: Path) -> None:
    before = set(os.listdir(tmp_path))
    dst = tmp_path / "deep" / "er"
    download_artifacts(f"runs:/{run_id}/model", dst_path=dst)
    assert set(os.listdir(tmp_path)) - before == {"deep"}
    assert _files(tmp_path / "deep") == {
        "er/model/MLmodel",
        "er/model/conf.yaml",
        "er/model/sub/f.txt",
    }


def test_local_paths_and_file_uris(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "d").mkdir(parents=True)
    (source / "d" / "a.txt").write_text("a")
    (source / "b.txt").write_text("b")
    local = download_artifacts(str(source / "b.txt"))
    assert Path(local).read_text() == "b"
    assert local != str(source / "b.txt")  # a copy the caller owns, in a private directory
    assert _mode(os.path.dirname(local)) == 0o700
    assert download_artifacts(source.as_uri() + "/d", dst_path=tmp_path / "o") == str(
        tmp_path / "o" / "d"
    )
    assert _files(tmp_path / "o") == {"d/a.txt"}
    os.chdir(source)
    assert Path(download_artifacts("b.txt", dst_path=tmp_path / "rel")).read_text() == "b"


def test_explicit_tracking_uri_wins_over_the_current_one(run_id: str, tmp_path: Path) -> None:
    uri = mltrail.get_tracking_uri()
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'other.db'}")
    with pytest.raises(NotFound):
        download_artifacts(f"runs:/{run_id}/notes.txt")
    local = download_artifacts(f"runs:/{run_id}/notes.txt", tracking_uri=uri)
    assert Path(local).read_text() == "hello"
    names = [info.path for info in list_artifacts(run_id=run_id, tracking_uri=uri)]
    assert names == ["bad.json", "model", "notes.txt"]


def test_missing_things_are_not_found(run_id: str) -> None:
    with pytest.raises(NotFound):
        download_artifacts(f"runs:/{run_id}/nope.txt")
    with pytest.raises(NotFound):
        download_artifacts(run_id="0" * 32)
    with pytest.raises(NotFound):
        download_artifacts("models:/nobody/1")


# -- models:/ -----------------------------------------------------------------------------------


@pytest.fixture
def model_name(run_id: str) -> str:
    client = mltrail.MlflowClient()
    client.create_registered_model("churn")
    client.create_model_version("churn", f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias("churn", "champion", 1)
    return "churn"


def test_models_uri_downloads_the_version_into_dst_path(model_name: str, tmp_path: Path) -> None:
    dst = tmp_path / "m"
    local = download_artifacts(f"models:/{model_name}/1", dst_path=str(dst))
    assert local == str(dst)  # as MLflow: the model's files directly in dst_path
    assert _files(dst) == {"MLmodel", "conf.yaml", "sub/f.txt"}


def test_models_uri_without_dst_path_is_private(model_name: str) -> None:
    local = download_artifacts(f"models:/{model_name}/1")
    assert _mode(local) == 0o700
    assert _files(local) == {"MLmodel", "conf.yaml", "sub/f.txt"}


@pytest.mark.parametrize("ref", ["/1", "@champion", "/latest", "/None"])
def test_models_uri_forms_and_paths_below(model_name: str, ref: str) -> None:
    assert load_text(f"models:/{model_name}{ref}/sub/f.txt") == "x"
    sub = download_artifacts(f"models:/{model_name}{ref}/sub")
    assert os.path.basename(sub) == "sub"
    assert _files(sub) == {"f.txt"}


def test_list_models_uri(model_name: str) -> None:
    assert list_artifacts(f"models:/{model_name}/1") == [
        FileInfo("MLmodel", False, 12),
        FileInfo("conf.yaml", False, 16),
        FileInfo("sub", True, None),
    ]
    assert list_artifacts(f"models:/{model_name}/1/sub") == [FileInfo("sub/f.txt", False, 1)]


# -- list_artifacts -----------------------------------------------------------------------------


def test_list_artifacts_of_a_run(run_id: str) -> None:
    top = list_artifacts(run_id=run_id)
    assert [(i.path, i.is_dir) for i in top] == [
        ("bad.json", False),
        ("model", True),
        ("notes.txt", False),
    ]
    expected = [
        FileInfo("model/MLmodel", False, 12),
        FileInfo("model/conf.yaml", False, 16),
        FileInfo("model/sub", True, None),
    ]
    assert list_artifacts(run_id=run_id, artifact_path="model") == expected
    assert list_artifacts(f"runs:/{run_id}/model") == expected
    artifact_uri = mltrail.get_run(run_id).info.artifact_uri
    assert list_artifacts(f"{artifact_uri}/model") == expected
    assert list_artifacts(f"runs:/{run_id}/missing") == []


# -- load_text, load_dict, load_image -----------------------------------------------------------


def test_load_text(run_id: str) -> None:
    assert load_text(f"runs:/{run_id}/notes.txt") == "hello"
    artifact_uri = mltrail.get_run(run_id).info.artifact_uri
    assert load_text(f"{artifact_uri}/model/sub/f.txt") == "x"


def test_load_text_refuses_directories_and_other_encodings(run_id: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="directory"):
        load_text(f"runs:/{run_id}/model")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(BadRequest, match="UTF-8"):
        load_text(str(latin))


def test_load_dict_json_and_yaml(run_id: str, tmp_path: Path) -> None:
    assert load_dict(f"runs:/{run_id}/model/conf.yaml") == {"a": 1, "b": [1, 2]}
    mltrail.MlflowClient().log_dict(run_id, {"k": "v"}, "conf.json")
    assert load_dict(f"runs:/{run_id}/conf.json") == {"k": "v"}
    yml = tmp_path / "c.yml"
    yml.write_text("x: [1, 2]\n")
    assert load_dict(str(yml)) == {"x": [1, 2]}
    with pytest.raises(BadRequest, match="JSON"):
        load_dict(f"runs:/{run_id}/bad.json")
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("a: [1\n")
    with pytest.raises(BadRequest, match="YAML"):
        load_dict(str(bad_yaml))


def test_load_image(run_id: str) -> None:
    image_module = pytest.importorskip("PIL.Image")
    mltrail.MlflowClient().log_image(run_id, image_module.new("RGB", (7, 5), "red"), "img.png")
    image = load_image(f"runs:/{run_id}/img.png")
    assert image.size == (7, 5)
    assert image.getpixel((0, 0)) == (255, 0, 0)
    with pytest.raises(BadRequest, match="PIL"):
        load_image(f"runs:/{run_id}/notes.txt")


def test_loads_leave_no_temporary_files(
    run_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert load_text(f"runs:/{run_id}/notes.txt") == "hello"
    assert load_dict(f"runs:/{run_id}/model/conf.yaml")["a"] == 1
    with pytest.raises(BadRequest):
        load_dict(f"runs:/{run_id}/bad.json")
    with pytest.raises(InvalidArgument):
        load_text(f"runs:/{run_id}/model")
    assert os.listdir(scratch) == []


# -- bad arguments ------------------------------------------------------------------------------

Call = Callable[..., Any]
BOTH: list[Call] = [download_artifacts, list_artifacts]


@pytest.mark.parametrize("func", BOTH, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({}, ["`run_id`", "`artifact_uri`"]),
        ({"artifact_uri": "runs:/abc/x", "run_id": "abc"}, ["`run_id`", "`artifact_uri`"]),
        ({"artifact_uri": "runs:/abc/x", "artifact_path": "x"}, ["`artifact_path`"]),
        ({"artifact_uri": ""}, ["`artifact_uri`"]),
        ({"artifact_uri": 5}, ["`artifact_uri`"]),
        ({"run_id": ""}, ["run_id"]),
        ({"run_id": "../etc"}, ["run_id"]),
    ],
)
def test_bad_argument_combinations(
    tracking: str, func: Call, kwargs: dict[str, Any], named: list[str]
) -> None:
    with pytest.raises(InvalidArgument) as raised:
        func(**kwargs)
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
    for name in named:
        assert name in str(raised.value)


@pytest.mark.parametrize("func", BOTH, ids=lambda f: f.__name__)
@pytest.mark.parametrize("path", ["../outside", "a/../../b", "/etc/passwd"])
def test_artifact_paths_cannot_climb(run_id: str, func: Call, path: str) -> None:
    with pytest.raises(InvalidArgument, match="artifact path"):
        func(run_id=run_id, artifact_path=path)
    with pytest.raises(InvalidArgument, match="artifact path"):
        func(f"runs:/{run_id}/{path}")


@pytest.mark.parametrize("func", [load_text, load_dict, load_image], ids=lambda f: f.__name__)
def test_loads_need_an_artifact_uri(tracking: str, func: Call) -> None:
    with pytest.raises(InvalidArgument, match="`artifact_uri`"):
        func("")


def test_malformed_models_uri(tracking: str) -> None:
    with pytest.raises(InvalidArgument, match="model URI"):
        download_artifacts("models:/")


# -- remote stores ------------------------------------------------------------------------------


def test_s3_uris(s3_bucket: str, tmp_path: Path) -> None:
    repo = S3ArtifactRepository(f"{s3_bucket}/exp/run")
    repo.write_stream("model/MLmodel", [b"flavors: {}\n"])
    repo.write_stream("model/sub/f.txt", [b"x"])
    repo.write_stream("conf.json", [b'{"a": 1}'])
    local = download_artifacts(f"{s3_bucket}/exp/run/model", dst_path=tmp_path / "o")
    assert local == str(tmp_path / "o" / "model")
    assert _files(local) == {"MLmodel", "sub/f.txt"}
    assert _mode(os.path.dirname(download_artifacts(f"{s3_bucket}/exp/run/conf.json"))) == 0o700
    assert load_dict(f"{s3_bucket}/exp/run/conf.json") == {"a": 1}
    assert list_artifacts(f"{s3_bucket}/exp/run/model") == [
        FileInfo("model/MLmodel", False, 12),
        FileInfo("model/sub", True, None),
    ]
    whole = download_artifacts(f"{s3_bucket}/", dst_path=tmp_path / "bucket")
    assert _files(whole) == {
        "exp/run/model/MLmodel",
        "exp/run/model/sub/f.txt",
        "exp/run/conf.json",
    }


def test_through_a_tracking_server(tracking_server: Any, tmp_path: Path) -> None:
    mltrail.set_tracking_uri(tracking_server.url)
    with mltrail.start_run() as run:
        mltrail.log_text("remote", "dir/r.txt")
    artifact_uri = run.info.artifact_uri
    assert artifact_uri.startswith("mlflow-artifacts:/")
    assert load_text(f"runs:/{run.info.run_id}/dir/r.txt") == "remote"
    assert load_text(f"{artifact_uri}/dir/r.txt") == "remote"
    local = download_artifacts(f"{artifact_uri}/dir", dst_path=tmp_path / "o")
    assert local == str(tmp_path / "o" / "dir")
    assert _files(local) == {"r.txt"}
    assert list_artifacts(run_id=run.info.run_id, artifact_path="dir") == [
        FileInfo("dir/r.txt", False, 6)
    ]
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    again = download_artifacts(
        f"runs:/{run.info.run_id}/dir/r.txt", tracking_uri=tracking_server.url
    )
    assert Path(again).read_text() == "remote"


# -- the import stays light ---------------------------------------------------------------------


def test_loading_text_imports_neither_yaml_nor_pillow(run_id: str) -> None:
    code = (
        "import sys, mltrail\n"
        f"mltrail.set_tracking_uri({mltrail.get_tracking_uri()!r})\n"
        "from mltrail.artifacts import load_text\n"
        f"assert load_text('runs:/{run_id}/notes.txt') == 'hello'\n"
        "print(sorted(m for m in ('PIL', 'yaml') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_reachable_as_mltrail_dot_artifacts() -> None:
    assert mltrail.artifacts.download_artifacts is download_artifacts
    assert mltrail.artifacts.load_dict is load_dict
