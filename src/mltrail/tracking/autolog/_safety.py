"""Patching a framework so that autologging can never break the user's training.

:func:`safe_patch` replaces ``owner.name`` (a method of a class, or a function of a module)
with a wrapper that runs the integration's *patch function* around the original:

- the original's own result and exceptions reach the caller unchanged;
- anything else the patch function raises (a store that is down, a metric that does not
  compute, a framework version it does not know) is caught: a warning says what was not
  logged (nothing is printed with ``silent=True``), and the caller gets the original's result,
  calling it now if the patch failed before it had;
- warnings raised by the logging code, not by the original, are reported on the
  ``mltrail.autolog`` logger (or dropped when silent); the original's warnings are untouched;
- with ``manage_run=True`` a run is started when none is active (tagged ``mlflow.autologging``
  and the configured ``extra_tags``) and ended when the call returns, FAILED if it raised;
- ``exclusive=True`` leaves a run the user started alone.

A call made while another patched call runs in the same thread (a pipeline fitting its steps,
a search fitting candidates) sees the outer :class:`AutologSession` through
:func:`active_session` and decides itself whether to log.  :func:`revert_patches` restores
the framework exactly as it was.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import threading
import types
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail.tracking import _fluent
from mltrail.tracking.autolog._config import (
    AUTOLOGGING_TAG,
    autologging_is_disabled,
    get_autologging_config,
)

__all__ = [
    "AutologSession",
    "active_session",
    "is_patched",
    "log_warning",
    "resolve_tags",
    "revert_patches",
    "safe_patch",
]

_logger = logging.getLogger("mltrail.autolog")
_MISSING = object()


@dataclass
class AutologSession:
    """The outermost patched call running in this thread (nested calls share it)."""

    integration: str
    #: Whether the patch code of this session has failed (later nested calls skip logging).
    failed: bool = False
    #: Free for integrations: what nested calls need to know (e.g. "the outer fit logs").
    state: dict[str, Any] = field(default_factory=dict)


_session: ContextVar[AutologSession | None] = ContextVar("mltrail_autolog_session", default=None)


def active_session() -> AutologSession | None:
    return _session.get()


@dataclass
class _Patch:
    integration: str
    owner: Any
    name: str
    #: What owner.__dict__ held before this patch (another integration's patch, the original,
    #: or _MISSING when inherited): what reverting this patch puts back.
    saved: Any


# Integrations may patch one attribute (scikit-learn's metric functions: scikit-learn's,
# XGBoost's and LightGBM's post-training metrics).  Each attribute keeps its patches in the
# order applied; the last one is installed, and removing any one keeps the others.
_stacks: dict[tuple[int, str], list[_Patch]] = {}
_patch_lock = threading.Lock()


def log_warning(integration: str, message: str) -> None:
    """Say what autologging could not do (nothing when the integration is silent)."""
    if not get_autologging_config(integration, "silent", False):
        _logger.warning("%s", message)


def resolve_tags(integration: str) -> dict[str, str]:
    """The tags of a run *integration* starts: ``mlflow.autologging`` and ``extra_tags``."""
    extra = get_autologging_config(integration, "extra_tags", None) or {}
    tags = {str(k): str(v) for k, v in extra.items() if k != AUTOLOGGING_TAG}
    if AUTOLOGGING_TAG in extra:
        log_warning(integration, f"extra_tags: '{AUTOLOGGING_TAG}' is set by autologging itself")
    return {AUTOLOGGING_TAG: integration, **tags}


def validate_extra_tags(extra_tags: Any) -> None:
    if extra_tags is not None and not isinstance(extra_tags, Mapping):
        raise InvalidArgument(
            f"extra_tags must be a dictionary of tag names to values, not "
            f"{type(extra_tags).__name__}"
        )


@dataclass
class _CallerWarnings:
    """The warning behaviour of the caller, restored while the original runs."""

    filters: list[Any]
    showwarning: Any
    showwarnmsg: Any
    log_level: int  # of the "mltrail" logger, which silent mode raises during logging code

    @classmethod
    def capture(cls) -> _CallerWarnings:
        impl = warnings._showwarnmsg_impl  # type: ignore[attr-defined]
        level = _mltrail_logger.level
        return cls(list(warnings.filters), warnings.showwarning, impl, level)

    @contextlib.contextmanager
    def restored(self) -> Iterator[None]:
        silenced = _mltrail_logger.level
        _mltrail_logger.setLevel(self.log_level)
        try:
            with warnings.catch_warnings():
                warnings.filters[:] = self.filters  # type: ignore[index]
                warnings.showwarning = self.showwarning
                warnings._showwarnmsg_impl = self.showwarnmsg  # type: ignore[attr-defined]
                yield
        finally:
            _mltrail_logger.setLevel(silenced)


_mltrail_logger = logging.getLogger("mltrail")


@contextlib.contextmanager
def _quiet_if_silent(integration: str) -> Iterator[None]:
    """With ``silent=True`` nothing mltrail logs while the logging code runs is printed (the
    messages of model saving, say); the original's own logging is restored around it."""
    if not get_autologging_config(integration, "silent", False):
        yield
        return
    level = _mltrail_logger.level
    _mltrail_logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        _mltrail_logger.setLevel(level)


class _Call:
    """The original function as the patch function sees it: records whether it ran, what it
    returned and whether it raised, and restores the caller's warning behaviour around it."""

    def __init__(self, original: Callable[..., Any], caller: _CallerWarnings) -> None:
        self.original = original
        self.__wrapped__ = original  # inspect.signature(call) is the original's
        self.caller = caller
        self.called = False
        self.raised = False
        self.result: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.called = True
        with self.caller.restored():
            try:
                self.result = self.original(*args, **kwargs)
            except BaseException:
                self.raised = True
                raise
        return self.result


@contextlib.contextmanager
def _warnings_of_logging_code(integration: str) -> Iterator[list[Any]]:
    """Catch the warnings the logging code raises; report them afterwards unless silent."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
    for w in caught:
        log_warning(
            integration,
            f"autologging ({integration}) met a warning: {w.category.__name__}: {w.message}",
        )


def _run_patched(
    integration: str,
    original: Callable[..., Any],
    patch_function: Callable[..., Any],
    manage_run: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    session = _session.get()
    if autologging_is_disabled(integration) or (session is not None and session.failed):
        return original(*args, **kwargs)
    user_run = _fluent.active_run() is not None and session is None
    if user_run and get_autologging_config(integration, "exclusive", False):
        return original(*args, **kwargs)
    token = None
    if session is None:
        session = AutologSession(integration)
        token = _session.set(session)
    call = _Call(original, _CallerWarnings.capture())
    try:
        with _warnings_of_logging_code(integration), _quiet_if_silent(integration):
            try:
                if manage_run:
                    return _with_managed_run(integration, patch_function, call, args, kwargs)
                return patch_function(call, *args, **kwargs)
            except Exception as exc:
                if call.raised:
                    raise
                session.failed = True
                log_warning(
                    integration,
                    f"autologging ({integration}) failed and logged nothing more for this call: "
                    f"{type(exc).__name__}: {exc}",
                )
        # Only reached after a failure of the logging code.
        return call.result if call.called else original(*args, **kwargs)
    finally:
        if token is not None:
            _session.reset(token)


def _with_managed_run(
    integration: str,
    patch_function: Callable[..., Any],
    call: _Call,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    if _fluent.active_run() is not None:
        return patch_function(call, *args, **kwargs)
    run = _fluent.start_run(tags=resolve_tags(integration))
    try:
        result = patch_function(call, *args, **kwargs)
    except BaseException as exc:
        if _is_active(run.info.run_id):
            # Training that succeeded ends FINISHED even when logging after it failed.
            trained = call.called and not call.raised
            status = (
                "KILLED"
                if isinstance(exc, KeyboardInterrupt)
                else ("FINISHED" if trained else "FAILED")
            )
            with contextlib.suppress(Exception):
                _fluent.end_run(status)
        raise
    if _is_active(run.info.run_id):
        # The caller gets the result now; the run's queued values, its plots and its end are
        # written in the background, and every read or flush waits for them.
        _fluent.end_run_in_background()
    return result


def _is_active(run_id: str) -> bool:
    active = _fluent.active_run()
    return active is not None and active.info.run_id == run_id


def safe_patch(
    integration: str,
    owner: Any,
    name: str,
    patch_function: Callable[..., Any],
    *,
    manage_run: bool = False,
) -> None:
    """Replace ``owner.name`` by *patch_function* run safely (see the module's docstring).

    *patch_function* is called as ``patch_function(original, *args, **kwargs)`` where
    *args* start with ``self`` for a method; it calls ``original(*args, **kwargs)`` (at most
    once) and returns what the caller gets.  Patching the same attribute again replaces the
    integration's earlier patch; an attribute a class inherits is patched on that class alone.
    When several integrations patch one attribute, the last one's patch runs.
    """
    raw = _unpatched(inspect.getattr_static(owner, name))

    def run(original: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return _run_patched(integration, original, patch_function, manage_run, args, kwargs)

    replacement: Any
    if isinstance(raw, staticmethod) or (isinstance(owner, types.ModuleType)):
        function = raw.__func__ if isinstance(raw, staticmethod) else raw

        @functools.wraps(function)
        def patched_function(*args: Any, **kwargs: Any) -> Any:
            return run(function, args, kwargs)

        replacement = (
            staticmethod(patched_function) if isinstance(raw, staticmethod) else (patched_function)
        )
    elif inspect.isfunction(raw):

        @functools.wraps(raw)
        def patched_method(*args: Any, **kwargs: Any) -> Any:
            return run(raw, args, kwargs)

        replacement = patched_method
    elif hasattr(raw, "__get__"):
        replacement = _PatchedDescriptor(raw, run)
    else:
        raise TypeError(f"cannot patch {owner!r}.{name}: {type(raw).__name__}")
    _mark(replacement, raw)
    with _patch_lock:
        _remove(integration, owner, name)
        stack = _stacks.setdefault((id(owner), name), [])
        stack.append(_Patch(integration, owner, name, owner.__dict__.get(name, _MISSING)))
        setattr(owner, name, replacement)


def _remove(integration: str, owner: Any, name: str) -> None:
    """Take *integration*'s patch of ``owner.name`` out (the lock is held)."""
    stack = _stacks.get((id(owner), name), [])
    for index, patch in enumerate(stack):
        if patch.integration != integration:
            continue
        if index == len(stack) - 1:  # installed: put back what it replaced
            if patch.saved is _MISSING:
                with contextlib.suppress(AttributeError):
                    delattr(owner, name)
            else:
                setattr(owner, name, patch.saved)
        else:  # under another integration's patch, which now replaces what this one did
            stack[index + 1].saved = patch.saved
        del stack[index]
        break
    if not stack:
        _stacks.pop((id(owner), name), None)


class _PatchedDescriptor:
    """A patched descriptor attribute (scikit-learn's ``available_if`` methods): ``hasattr``
    still answers as the original does, and a call runs the patch."""

    def __init__(self, raw: Any, run: Callable[..., Any]) -> None:
        self.raw = raw
        self.run = run
        functools.update_wrapper(self, raw, updated=())  # type: ignore[arg-type]

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        bound = self.raw.__get__(instance, owner)  # raises AttributeError when unavailable
        if instance is None:
            return bound

        def original(_self: Any, *args: Any, **kwargs: Any) -> Any:
            return bound(*args, **kwargs)

        @functools.wraps(bound)
        def call(*args: Any, **kwargs: Any) -> Any:
            return self.run(original, (instance, *args), kwargs)

        return call


def _mark(replacement: Any, raw: Any) -> None:
    target = replacement.__func__ if isinstance(replacement, staticmethod) else replacement
    setattr(target, "__mltrail_original__", raw)  # noqa: B010 - a function's attribute


def _unpatched(attribute: Any) -> Any:
    """What a patched attribute replaced (the attribute itself when it is not patched)."""
    target = attribute.__func__ if isinstance(attribute, staticmethod) else attribute
    return getattr(target, "__mltrail_original__", attribute)


def is_patched(owner: Any, name: str) -> bool:
    return _unpatched(inspect.getattr_static(owner, name, None)) is not (
        inspect.getattr_static(owner, name, None)
    )


def revert_patches(integration: str) -> None:
    """Take out every patch of *integration*; other integrations' patches stay."""
    with _patch_lock:
        mine = [p for stack in _stacks.values() for p in stack if p.integration == integration]
        for patch in reversed(mine):
            _remove(integration, patch.owner, patch.name)
