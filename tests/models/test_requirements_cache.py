"""The requirements cache: a model of a kind already probed in this environment is not loaded
again, and anything that could change what loading it imports changes the key.

Also the pieces that make a probe cheaper: the distributions of a module read as the standard
library reads them, and ``skops.io`` imported without the array libraries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mltrail.pyfunc
import mltrail.sklearn
from mltrail._exceptions import InvalidArgument
from mltrail.models import _env, infer_signature
from mltrail.models import _requirements_cache as cache
from mltrail.models._distributions import _record_top_level, module_distributions

pytestmark = pytest.mark.private_requirements_cache  # they count probes and entries


def _data(seed: int) -> tuple[pd.DataFrame, Any]:
    x = pd.DataFrame(np.random.default_rng(seed).random((30, 3)), columns=["a", "b", "c"])
    return x, (x["a"] + x["b"] > 1.0).astype(int)


def _logistic(seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(*_data(seed))


def _env_files(model_dir: Path) -> dict[str, str]:
    names = ("requirements.txt", "conda.yaml", "python_env.yaml")
    return {n: (model_dir / n).read_text() for n in names}


def _count_probes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = _env._probe

    def counted(model_path: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(model_path)
        return real(model_path, *args, **kwargs)

    monkeypatch.setattr(_env, "_probe", counted)
    return calls


# -- the cache ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["skops", "pickle"])
def test_a_retrained_model_of_the_same_kind_is_not_probed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    probes = _count_probes(monkeypatch)
    x, _ = _data(0)
    mltrail.sklearn.save_model(
        _logistic(0), tmp_path / "a", serialization_format=fmt, input_example=x.head(3)
    )
    mltrail.sklearn.save_model(
        _logistic(1), tmp_path / "b", serialization_format=fmt, input_example=x.tail(2)
    )
    assert len(probes) == 1
    assert _env_files(tmp_path / "a") == _env_files(tmp_path / "b")
    assert len(list(cache.cache_dir().glob("*.json"))) == 1


def test_another_kind_of_model_is_probed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.tree import DecisionTreeClassifier

    probes = _count_probes(monkeypatch)
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "a")
    mltrail.sklearn.save_model(DecisionTreeClassifier().fit(*_data(0)), tmp_path / "b")
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "c", serialization_format="pickle")
    assert len(probes) == 3


def test_an_entry_lasts_while_the_probes_path_offers_the_same(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    cache.write_modules("k", ["sklearn"], [str(site)], [])
    assert cache.read_modules("k") == {"sklearn"}
    (site / "notes.txt").write_text("x")  # not importable: changes nothing
    (site / "namespace_portion").mkdir()  # no __init__: never shadows a module
    assert cache.read_modules("k") == {"sklearn"}
    # A distribution installed, then upgraded in place (its metadata rewritten).
    (site / "extra-1.0.dist-info").mkdir()
    assert cache.read_modules("k") is None
    cache.write_modules("k", ["sklearn"], [str(site)], [])
    stat = (site / "extra-1.0.dist-info").stat()
    os.utime(site / "extra-1.0.dist-info", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cache.read_modules("k") is None
    # A module or package that could shadow an installed one.
    for shadow in ("sklearn.py", "skops/__init__.py"):
        cache.write_modules("k", ["sklearn"], [str(site)], [])
        (site / shadow).parent.mkdir(exist_ok=True)
        (site / shadow).write_text("")
        assert cache.read_modules("k") is None


def test_an_entry_lasts_while_the_mltrail_code_the_probe_ran_is_unchanged(tmp_path: Path) -> None:
    loader = tmp_path / "loader.py"
    loader.write_text("import skops\n")
    cache.write_modules("k", ["skops"], [], [str(loader)])
    assert cache.read_modules("k") == {"skops"}
    loader.write_text("import skops, torch\n")
    assert cache.read_modules("k") is None


def test_the_key_follows_the_interpreters_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "m")
    before = cache.model_key(str(tmp_path / "m"))
    assert before is not None
    assert before == cache.model_key(str(tmp_path / "m"))
    monkeypatch.setenv("PYTHONMLTRAILTESTSETTING", str(tmp_path))  # any PYTHON* variable
    assert cache.model_key(str(tmp_path / "m")) != before
    monkeypatch.delenv("PYTHONMLTRAILTESTSETTING")
    assert cache.model_key(str(tmp_path / "m")) == before
    # The working directory is not part of the key (see the next test)...
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert cache.model_key(str(tmp_path / "m")) == before
    # ...unless a relative PYTHONPATH entry resolves against it.
    monkeypatch.setenv("PYTHONPATH", "src")
    relative = cache.model_key(str(tmp_path / "m"))
    monkeypatch.chdir(tmp_path)
    assert cache.model_key(str(tmp_path / "m")) not in (relative, before)


def test_an_entry_serves_any_working_directory_that_offers_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe's sys.path starts with the working directory: an entry holds what that
    directory offered, not where it was, so a model saved from another empty folder is not
    probed again, and one saved beside a module that could shadow a dependency is."""
    probes = _count_probes(monkeypatch)
    first, second, shadowing = (tmp_path / n for n in ("first", "second", "shadowing"))
    for folder in (first, second, shadowing):
        folder.mkdir()
    (shadowing / "sklearn.py").write_text("")
    monkeypatch.chdir(first)
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "a")
    (entry,) = cache.cache_dir().glob("*.json")
    assert str(first) not in entry.read_text()
    monkeypatch.chdir(second)
    mltrail.sklearn.save_model(_logistic(1), tmp_path / "b")
    assert len(probes) == 1
    assert _env_files(tmp_path / "a") == _env_files(tmp_path / "b")
    monkeypatch.chdir(shadowing)
    assert cache.read_modules(cache.model_key(str(tmp_path / "a")) or "") is None


def test_a_probe_that_ran_in_another_directory_is_not_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An early probe started before a change of directory had the old directory on its path:
    what it found is used once, not stored for this directory."""
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "m", pip_requirements=["x"])  # no probe
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    monkeypatch.chdir(tmp_path / "before")
    started = _env.StartedProbe(["sklearn"])
    monkeypatch.chdir(tmp_path / "after")
    found = _env.infer_requirements(str(tmp_path / "m"), [], started)
    assert any(r.startswith("scikit-learn==") for r in found)
    assert list(cache.cache_dir().glob("*.json")) == []


def test_the_key_ignores_what_differs_between_two_saves(tmp_path: Path) -> None:
    x, _ = _data(0)
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "a", input_example=x.head(2))
    mltrail.sklearn.save_model(_logistic(5), tmp_path / "b", input_example=x.head(4))
    assert cache.model_key(str(tmp_path / "a")) == cache.model_key(str(tmp_path / "b"))
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "c", metadata={"team": "x"})
    assert cache.model_key(str(tmp_path / "a")) != cache.model_key(str(tmp_path / "c"))


def test_models_with_local_code_are_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "src"
    code.mkdir()
    (code / "halved_model.py").write_text(
        "import mltrail.pyfunc\n\n"
        "class Halved(mltrail.pyfunc.PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return model_input / 2\n"
    )
    monkeypatch.syspath_prepend(str(code))
    import halved_model  # type: ignore[import-not-found]

    probes = _count_probes(monkeypatch)
    try:
        for name in ("a", "b"):
            mltrail.pyfunc.save_model(
                tmp_path / name,
                python_model=halved_model.Halved(),
                code_paths=[str(code / "halved_model.py")],
            )
    finally:
        sys.modules.pop("halved_model", None)
    assert len(probes) == 2
    assert list(cache.cache_dir().glob("*.json")) == []


def test_a_cloudpickled_model_is_keyed_by_its_bytes(tmp_path: Path) -> None:
    mltrail.pyfunc.save_model(tmp_path / "a", python_model=lambda df: df * 2)
    mltrail.pyfunc.save_model(tmp_path / "b", python_model=lambda df: df * 3)
    assert cache.model_key(str(tmp_path / "a")) != cache.model_key(str(tmp_path / "b"))


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_REQUIREMENTS_CACHE", "false")
    probes = _count_probes(monkeypatch)
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "a")
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "b")
    assert len(probes) == 2
    assert not cache.cache_dir().exists()
    monkeypatch.setenv("MLTRAIL_REQUIREMENTS_CACHE", "sometimes")
    with pytest.raises(InvalidArgument, match="MLTRAIL_REQUIREMENTS_CACHE"):
        cache.cache_enabled()


def test_a_damaged_entry_is_probed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probes = _count_probes(monkeypatch)
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "a")
    (entry,) = cache.cache_dir().glob("*.json")
    entry.write_text('{"format": 1, "modules": "sklearn"}')
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "b")
    assert len(probes) == 2
    assert json.loads(entry.read_text())["modules"] != "sklearn"
    assert _env_files(tmp_path / "a") == _env_files(tmp_path / "b")


def test_a_failed_probe_is_not_cached(tmp_path: Path) -> None:
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    assert _env.infer_requirements(str(tmp_path), ["x==1"]) == ["x==1"]
    assert not cache.cache_dir().exists()


# -- distributions -----------------------------------------------------------------------------


def test_module_distributions_match_the_standard_library() -> None:
    expected = metadata.packages_distributions()
    assert module_distributions(expected) == expected
    assert module_distributions(["no_such_module_here"]) == {}


def test_record_paths_are_read_as_pathlib_reads_them() -> None:
    paths = [
        "pkg/mod.py",
        "single.py",
        "./dotted.py",
        "/abs/olute.py",
        "double//slash.py",
        "hidden/.py",
        ".py",
        "..//up.py",
        "../../bin/script.py",
        "pkg/data.json",
        "pkg/compiled.pyc",
        "x/./y.py",
    ]

    def stdlib(path: str) -> set[str]:
        p = PurePosixPath(path)
        if p.suffix != ".py":
            return set()
        return {p.parts[0] if len(p.parts) > 1 else p.with_suffix("").name}

    for path in paths:
        assert _record_top_level([path]) == stdlib(path), path
    assert _record_top_level(['"with,comma/m.py",sha256=x,1']) == {"with,comma"}


# -- skops without the array libraries ---------------------------------------------------------


def test_skops_io_trusts_the_same_types_without_importing_torch() -> None:
    script = (
        "import json, sys\n"
        "if sys.argv[1] == 'lean':\n"
        "    from mltrail.sklearn._skops import skops_io\n"
        "    skops_io()\n"
        "else:\n"
        "    import skops.io\n"
        "from skops.io import _trusted_types as t\n"
        "print(json.dumps([sorted(t.SKLEARN_ESTIMATOR_TYPE_NAMES), 'torch' in sys.modules]))\n"
    )

    def run(mode: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-c", script, mode], capture_output=True, text=True, check=True
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    lean_names, lean_torch = run("lean")
    plain_names, _ = run("plain")
    assert lean_names == plain_names
    assert len(lean_names) > 100
    assert not lean_torch


# -- the probe started before the model is written ---------------------------------------------


@pytest.mark.parametrize("fmt", ["skops", "pickle"])
def test_a_probe_started_early_finds_what_a_fresh_one_finds(tmp_path: Path, fmt: str) -> None:
    from mltrail.sklearn._flavor import probe_modules

    mltrail.sklearn.save_model(_logistic(0), tmp_path / "m", serialization_format=fmt)
    started = _env.StartedProbe(probe_modules(fmt))  # what the flavor starts
    early = _env._probe(str(tmp_path / "m"), started)
    fresh = _env._probe(str(tmp_path / "m"))
    assert early is not None
    assert fresh is not None
    # The same modules beyond the standard library (whose own imports may differ: never pinned).
    stdlib = sys.stdlib_module_names
    assert {m for m in early[0] if m not in stdlib} == {m for m in fresh[0] if m not in stdlib}
    assert _env.modules_to_requirements(early[0]) == _env.modules_to_requirements(fresh[0])
    assert early[1] is False


def test_an_unused_early_probe_is_ended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Any] = []
    real = _env.StartedProbe

    def recorded(prewarm: Any) -> Any:
        started.append(real(prewarm))
        return started[-1]

    monkeypatch.setattr(_env, "StartedProbe", recorded)
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "a")
    mltrail.sklearn.save_model(_logistic(1), tmp_path / "b")  # a cached answer
    other = infer_signature(pd.DataFrame({"z": ["text"]}))
    with pytest.raises(InvalidArgument, match="signature"):
        mltrail.sklearn.save_model(
            _logistic(0), tmp_path / "c", signature=other, input_example=_data(0)[0].head(2)
        )
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "d", pip_requirements=["x==1"])
    assert len(started) == 3
    assert all(probe._process is None for probe in started)


def test_an_early_probe_whose_imports_ran_local_code_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "local_helper_module.py").write_text("VALUE = 1\n")
    monkeypatch.chdir(tmp_path)  # the probe's sys.path starts with the working directory
    mltrail.sklearn.save_model(_logistic(0), tmp_path / "m", serialization_format="pickle")
    started = _env.StartedProbe(["local_helper_module"])
    done = started.run(str(tmp_path / "m"))
    assert done is not None
    assert json.loads(done[1].strip().splitlines()[-1]) == {"retry": True}
    started = _env.StartedProbe(["local_helper_module"])
    probed = _env._probe(str(tmp_path / "m"), started)
    assert probed is not None
    assert "sklearn" in probed[0]


def test_two_logged_models_of_the_same_kind_are_probed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow 3's log_model writes each model's own id into MLmodel: the key ignores it."""
    probes = _count_probes(monkeypatch)
    mltrail.set_tracking_uri(f"sqlite:///{tmp_path / 'store.db'}")
    x, _ = _data(0)
    with mltrail.start_run():
        first = mltrail.sklearn.log_model(_logistic(0), name="a", input_example=x.head(3))
        second = mltrail.sklearn.log_model(_logistic(1), name="b", input_example=x.head(2))
    assert first.model_id != second.model_id
    assert len(probes) == 1
