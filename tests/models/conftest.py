"""The tests of the requirements cache and of the probe count probes and entries: each of them
starts with an empty cache of its own.  The other model tests share the test run's cache
(tests/conftest.py), as a user's saves share theirs."""

from __future__ import annotations

import pytest

from mltrail.models import _requirements_cache

_COUNTING = {"test_requirements_cache.py", "test_probe.py"}


@pytest.fixture(autouse=True)
def _private_requirements_cache(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MLTRAIL_REQUIREMENTS_CACHE", raising=False)
    if request.path.name in _COUNTING:
        private = tmp_path_factory.mktemp("requirements-cache") / "requirements"
        monkeypatch.setattr(_requirements_cache, "cache_dir", lambda: private)
