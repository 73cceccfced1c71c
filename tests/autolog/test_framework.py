"""The autologging framework: safe patches never break training, runs are managed, patches
revert exactly, and frameworks imported later are patched at their import."""

from __future__ import annotations

import logging
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mltrail
from mltrail.tracking.autolog import _config, _hooks, _safety
from mltrail.tracking.autolog._integrations import INTEGRATIONS, is_tested_version

# The framework's own warning is the user's business; the tests that look at it catch it.
pytestmark = pytest.mark.filterwarnings("ignore:a warning of the framework")


class Model:
    """A training API to patch: ``fit`` warns and may raise, as a framework's does."""

    fits = 0

    def fit(self, x: Any) -> Model:
        Model.fits += 1
        warnings.warn("a warning of the framework", UserWarning, stacklevel=2)
        if x == "bad input":
            raise ValueError("the framework refused the input")
        return self

    @staticmethod
    def train(x: Any) -> str:
        return f"trained on {x}"


ORIGINAL_FIT = Model.__dict__["fit"]
ORIGINAL_TRAIN = Model.__dict__["train"]


def log_x(original: Any, self: Model, x: Any) -> Any:
    warnings.warn("a warning of the logging code", UserWarning, stacklevel=2)
    result = original(self, x)
    logging.getLogger("mltrail.models").warning("the model's requirements took long")
    mltrail.log_param("x", x)
    if x == "logging fails":
        raise RuntimeError("the store is down")
    return result


@pytest.fixture
def demo(sqlite_uri: str) -> Iterator[str]:
    mltrail.set_tracking_uri(sqlite_uri)
    _config.configure("demo", {"silent": False, "extra_tags": {"team": "vision"}})
    _safety.safe_patch("demo", Model, "fit", log_x, manage_run=True)
    yield "demo"
    _safety.revert_patches("demo")
    _config.reset()


def test_a_managed_run_records_the_call_and_its_tags(demo: str) -> None:
    model = Model()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert model.fit(3) is model
    # The framework's own warning reaches the user; the logging code's does not.
    assert [str(w.message) for w in seen] == ["a warning of the framework"]
    run = mltrail.last_active_run()
    assert run is not None
    assert run.info.status == "FINISHED"
    assert run.data.params == {"x": "3"}
    assert run.data.tags["mlflow.autologging"] == "demo"
    assert run.data.tags["team"] == "vision"
    assert mltrail.active_run() is None


def test_a_logging_failure_returns_the_result_and_warns(
    demo: str, caplog: pytest.LogCaptureFixture
) -> None:
    model = Model()
    with caplog.at_level(logging.WARNING, logger="mltrail.autolog"):
        assert model.fit("logging fails") is model
    assert "the store is down" in caplog.text
    assert "a warning of the logging code" in caplog.text
    assert "the model's requirements took long" in caplog.text  # not silent: shown
    run = mltrail.last_active_run()
    assert run is not None
    assert run.info.status == "FINISHED"


def test_silent_prints_nothing(demo: str, caplog: pytest.LogCaptureFixture) -> None:
    _config.configure("demo", {"silent": True})
    with caplog.at_level(logging.DEBUG):
        assert Model().fit("logging fails") is not None
    assert caplog.records == []
    assert logging.getLogger("mltrail").level == logging.NOTSET  # restored


def test_the_framework_error_reaches_the_user_and_fails_the_run(demo: str) -> None:
    with pytest.raises(ValueError, match="refused the input"):
        Model().fit("bad input")
    run = mltrail.last_active_run()
    assert run is not None
    assert run.info.status == "FAILED"
    assert mltrail.active_run() is None


def test_a_failure_before_training_still_trains_once(sqlite_uri: str) -> None:
    mltrail.set_tracking_uri(sqlite_uri)

    def broken(original: Any, self: Model, x: Any) -> Any:
        raise KeyError("no such option")

    _config.configure("demo", {})
    _safety.safe_patch("demo", Model, "fit", broken)
    try:
        before = Model.fits
        model = Model()
        assert model.fit(1) is model
        assert Model.fits == before + 1
    finally:
        _safety.revert_patches("demo")
        _config.reset()


def test_a_user_run_is_used_unless_exclusive(demo: str) -> None:
    with mltrail.start_run() as run:
        Model().fit(1)
    logged = mltrail.get_run(run.info.run_id)
    assert logged.data.params == {"x": "1"}
    assert "mlflow.autologging" not in logged.data.tags  # the user's run is not tagged

    _config.configure("demo", {"exclusive": True})
    with mltrail.start_run() as run:
        Model().fit(2)
    assert mltrail.get_run(run.info.run_id).data.params == {}


def test_disabled_calls_the_original_only(demo: str) -> None:
    _config.configure("demo", {"disable": True})
    Model().fit(1)
    assert mltrail.last_active_run() is None


def test_nested_calls_share_the_outer_session(sqlite_uri: str) -> None:
    mltrail.set_tracking_uri(sqlite_uri)
    sessions: list[Any] = []

    def outer(original: Any, self: Model, x: Any) -> Any:
        sessions.append(_safety.active_session())
        return original(self, x) if x == "leaf" else self.fit("leaf")

    _config.configure("demo", {})
    _safety.safe_patch("demo", Model, "fit", outer)
    try:
        Model().fit("root")
    finally:
        _safety.revert_patches("demo")
        _config.reset()
    assert len(sessions) == 2
    assert sessions[0] is sessions[1] is not None
    assert _safety.active_session() is None


def test_reverting_restores_the_exact_attributes(demo: str) -> None:
    _safety.safe_patch("demo", Model, "train", lambda original, x: original(x).upper())
    assert Model.train("iris") == "TRAINED ON IRIS"
    assert _safety.is_patched(Model, "fit")
    assert _safety.is_patched(Model, "train")
    _safety.revert_patches("demo")
    assert Model.__dict__["fit"] is ORIGINAL_FIT
    assert Model.__dict__["train"] is ORIGINAL_TRAIN


def test_an_inherited_method_is_patched_on_the_subclass_alone(sqlite_uri: str) -> None:
    class Sub(Model):
        pass

    _config.configure("demo", {})
    _safety.safe_patch("demo", Sub, "fit", lambda original, self, x: original(self, x))
    try:
        assert "fit" in Sub.__dict__
        assert not _safety.is_patched(Model, "fit")
    finally:
        _safety.revert_patches("demo")
        _config.reset()
    assert "fit" not in Sub.__dict__


def test_a_descriptor_keeps_answering_hasattr_as_before(sqlite_uri: str) -> None:
    class Available:
        """scikit-learn's available_if: the attribute exists only when the check passes."""

        def __init__(self, check: bool) -> None:
            self.check = check

        def __get__(self, instance: Any, owner: Any = None) -> Any:
            if instance is not None and not instance.ready:
                raise AttributeError("not available")
            return lambda *args: "predicted"

    class Estimator:
        predict = Available(True)

        def __init__(self, ready: bool) -> None:
            self.ready = ready

    _config.configure("demo", {})
    calls: list[str] = []

    def spy(original: Any, self: Any, *args: Any) -> Any:
        calls.append("patched")
        return original(self, *args)

    _safety.safe_patch("demo", Estimator, "predict", spy)
    try:
        assert not hasattr(Estimator(ready=False), "predict")
        assert Estimator(ready=True).predict([1]) == "predicted"
        assert calls == ["patched"]
    finally:
        _safety.revert_patches("demo")
        _config.reset()


def test_a_module_imported_later_is_patched_at_its_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "late_framework.py").write_text(
        textwrap.dedent(
            """
            def train(x):
                return x + 1
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    seen: list[str] = []
    _hooks.when_imported("late_framework", "demo", lambda module: seen.append(module.__name__))
    assert seen == []
    import late_framework  # type: ignore[import-not-found]

    assert seen == ["late_framework"]
    assert late_framework.train(1) == 2
    # The module keeps its own loader (only the first execution was watched).
    assert type(late_framework.__loader__).__name__ == "SourceFileLoader"
    _hooks.when_imported("late_framework", "demo", lambda module: seen.append("again"))
    assert seen == ["late_framework", "again"]  # already imported: called at once
    sys.modules.pop("late_framework")


def test_a_failing_hook_never_breaks_the_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "late_framework2.py").write_text("VALUE = 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def broken(module: Any) -> None:
        raise RuntimeError("cannot patch this version")

    _hooks.when_imported("late_framework2", "demo", broken)
    with caplog.at_level(logging.WARNING, logger="mltrail.autolog"):
        import late_framework2  # type: ignore[import-not-found]
    assert late_framework2.VALUE == 7
    assert "cannot patch this version" in caplog.text
    sys.modules.pop("late_framework2")


def test_extra_tags_must_be_a_mapping() -> None:
    with pytest.raises(mltrail.MlflowException, match="extra_tags must be a dictionary"):
        mltrail.autolog(extra_tags=["team"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "version", "tested"),
    [
        ("sklearn", "1.6.0", True),
        ("sklearn", "1.9.1", True),
        ("sklearn", "1.5.2", False),
        ("sklearn", "1.10.0", False),
        ("pytorch", "2.6.6", True),
        ("pytorch", "2.13.0+cpu", False),
        ("xgboost", "3.2.0", True),
        ("xgboost", "3.4.1.post1", True),
    ],
)
def test_tested_versions(name: str, version: str, tested: bool) -> None:
    assert is_tested_version(INTEGRATIONS[name], version) is tested


@pytest.mark.parametrize("first_reverted", ["one", "two"])
def test_two_integrations_patching_one_attribute_revert_independently(
    sqlite_uri: str, first_reverted: str
) -> None:
    """scikit-learn's metric functions are patched by the scikit-learn, XGBoost and LightGBM
    integrations: the last patch runs, and taking any one out keeps the others."""
    mltrail.set_tracking_uri(sqlite_uri)
    calls: list[str] = []

    def spy(name: str) -> Any:
        def patch(original: Any, x: Any) -> Any:
            calls.append(name)
            return original(x)

        return patch

    for name in ("one", "two"):
        _config.configure(name, {})
        _safety.safe_patch(name, Model, "train", spy(name))
    try:
        assert Model.train("a") == "trained on a"
        assert calls == ["two"]
        _safety.revert_patches(first_reverted)
        remaining = "two" if first_reverted == "one" else "one"
        assert _safety.is_patched(Model, "train")
        Model.train("b")
        assert calls == ["two", remaining]
        _safety.revert_patches(remaining)
        assert Model.__dict__["train"] is ORIGINAL_TRAIN
    finally:
        for name in ("one", "two"):
            _safety.revert_patches(name)
        _config.reset()
    assert Model.__dict__["train"] is ORIGINAL_TRAIN
