"""Who may call a route: the access rule every endpoint and plain route declares, and how a
rule plus a request's arguments become the concrete permission checks.

An :class:`Access` is one of::

    PUBLIC          no authentication at all (/health, server-info, the UI's shell and assets)
    UPLOAD_CAPABILITY  no user: an unguessable id in the path, handed out by a checked call, is
                    the credential (the parts of a staged multipart upload, which MLflow's
                    client PUTs without credentials, as it does to presigned S3 URLs)
    AUTHENTICATED   any signed-in user, no resource (create an experiment or a registered model)
    ADMIN           admins only (users, server settings, garbage collection)
    read(L), use(L), edit(L), manage(L)
                    the permission needed on the resource(s) the locator L finds in the
                    request's arguments; rules combine with ``&`` (all must pass)
    searchable(T)   a listing any signed-in user may call, whose results are restricted to the
                    resources of type T the caller may READ

A :class:`Locator` names the argument it reads and how it leads to a resource: an experiment
by id or name, a run (its experiment), a registered model or one of its versions (by name), a
logged model (its own grant, falling back to its experiment), a webhook (its own grants only:
the default permission does not reach webhooks), an artifact proxy path (the run, logged model
or experiment whose artifact root holds it).  Arguments are the parsed JSON body
or query of a JSON endpoint; for a raw (streaming) endpoint, its path parameters and query.

:func:`resolve` turns a rule and arguments into :class:`Check` s.  A check names the permission
needed and the resources that decide it, most specific first: the first one the caller holds an
explicit grant on decides, else the server's default permission does.  A check with no
resources guards something no resource owns (an artifact path outside every run, logged model
and experiment): only an admin passes it.  A resource that does not exist resolves to no check
at all, so the handler answers its usual 404.  Resolution costs at most one store call per
resource named; an id or a name that *is* the resource costs none.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mltrail._exceptions import InvalidArgument, NotFound
from mltrail.artifacts import validate_artifact_path
from mltrail.artifacts._model_uris import parse_models_uri, parse_runs_uri
from mltrail.entities import LoggedModel
from mltrail.entities._auth import Permission, ResourceType
from mltrail.server._context import proxy_path
from mltrail.server._locations import looks_like_run_id
from mltrail.store import Backend

__all__ = [
    "ADMIN",
    "ARTIFACT_LIST_PATH",
    "ARTIFACT_PATH",
    "AUTHENTICATED",
    "CREATED_RUN_EXPERIMENT",
    "EXPERIMENT_ID",
    "EXPERIMENT_IDS",
    "EXPERIMENT_NAME",
    "LOGGED_MODEL_ID",
    "MODELS_OF_METRICS",
    "MODELS_OF_REQUEST",
    "MODEL_VERSION_NAME",
    "PUBLIC",
    "REGISTERED_MODEL_NAME",
    "RUN_ID",
    "RUN_IDS",
    "SOURCE_RUN_ID",
    "UPLOAD_CAPABILITY",
    "VERSION_SOURCE",
    "WEBHOOK_ID",
    "Access",
    "AccessKind",
    "Check",
    "Effect",
    "Find",
    "Locator",
    "Need",
    "Resource",
    "edit",
    "located_values",
    "logged_model_resources",
    "manage",
    "read",
    "resolve",
    "searchable",
    "use",
]

#: A resource permissions are granted on: its type and its id (an experiment id, a registered
#: model's name, a logged model's id).
Resource = tuple[ResourceType, str]


class AccessKind(enum.Enum):
    PUBLIC = "public"
    UPLOAD_CAPABILITY = "upload-capability"
    AUTHENTICATED = "authenticated"
    ADMIN = "admin"
    RESOURCE = "resource"


class Find(enum.Enum):
    """How a locator goes from an argument's value to the resource(s) it names."""

    EXPERIMENT = "experiment"  # an experiment id
    EXPERIMENTS = "experiments"  # a list of experiment ids
    EXPERIMENT_NAME = "experiment-name"  # an experiment's name (one lookup)
    RUN = "run"  # a run id -> its experiment (one lookup)
    RUNS = "runs"  # a list of run ids -> their experiments
    REGISTERED_MODEL = "registered-model"  # a registered model's name (its versions' too)
    LOGGED_MODEL = "logged-model"  # a logged model id -> itself, then its experiment
    LOGGED_MODELS_IN = "logged-models-in"  # a list of objects whose model_id names one
    ARTIFACT_PATH = "artifact-path"  # a proxy path -> its run, logged model or experiment
    MODEL_SOURCE = "model-source"  # a models:/ or runs:/ URI -> what it names
    WEBHOOK = "webhook"  # a webhook id (one lookup: is there one)


@dataclass(frozen=True)
class Locator:
    """Where a rule finds its resource: argument *arg*, read the way *find* says.

    *default* stands for an absent or empty argument (a run created without an experiment id
    goes to experiment ``0``); without one, an absent argument names nothing.
    """

    find: Find
    arg: str
    default: str | None = None

    def __str__(self) -> str:
        return f"{self.find.value}({self.arg})"


EXPERIMENT_ID = Locator(Find.EXPERIMENT, "experiment_id")
#: runs/create: the experiment the run goes to, ``0`` when the request names none.
CREATED_RUN_EXPERIMENT = Locator(Find.EXPERIMENT, "experiment_id", default="0")
EXPERIMENT_IDS = Locator(Find.EXPERIMENTS, "experiment_ids")
EXPERIMENT_NAME = Locator(Find.EXPERIMENT_NAME, "experiment_name")
#: ``run_id``, or MLflow's older ``run_uuid`` when ``run_id`` is absent.
RUN_ID = Locator(Find.RUN, "run_id")
RUN_IDS = Locator(Find.RUNS, "run_ids")
SOURCE_RUN_ID = Locator(Find.RUN, "source_run_id")
REGISTERED_MODEL_NAME = Locator(Find.REGISTERED_MODEL, "name")
#: A model version is judged by its registered model (MLflow has no per-version grants).
MODEL_VERSION_NAME = REGISTERED_MODEL_NAME
LOGGED_MODEL_ID = Locator(Find.LOGGED_MODEL, "model_id")
#: log-batch: the logged models its metrics name (``metrics[].model_id``).
MODELS_OF_METRICS = Locator(Find.LOGGED_MODELS_IN, "metrics")
#: log-inputs, runs/outputs: the logged models listed in ``models[].model_id``.
MODELS_OF_REQUEST = Locator(Find.LOGGED_MODELS_IN, "models")
#: The artifact proxy's path parameter.
ARTIFACT_PATH = Locator(Find.ARTIFACT_PATH, "artifact_path")
#: The artifact proxy's listing: the ``path`` query argument (the destination's top if absent).
ARTIFACT_LIST_PATH = Locator(Find.ARTIFACT_PATH, "path", default="")
#: model-versions/create: the ``models:/`` or ``runs:/`` URI the version copies.
VERSION_SOURCE = Locator(Find.MODEL_SOURCE, "source")
#: ``/mlflow/webhooks/{webhook_id}``'s path parameter.
WEBHOOK_ID = Locator(Find.WEBHOOK, "webhook_id")


@dataclass(frozen=True)
class Need:
    """*permission* on whatever *locator* finds."""

    permission: Permission
    locator: Locator


@dataclass(frozen=True)
class Access:
    """Who may call a route (see the module doc); build one with the helpers below."""

    kind: AccessKind
    needs: tuple[Need, ...] = ()
    #: For a listing: the resource type its results are restricted to (those the caller may
    #: READ); None for every other route.
    filtered_by: ResourceType | None = None

    def __post_init__(self) -> None:
        if (self.kind is AccessKind.RESOURCE) != bool(self.needs):
            raise ValueError("a resource rule needs locators, and only a resource rule has them")
        if self.filtered_by is not None and self.kind is not AccessKind.AUTHENTICATED:
            raise ValueError("a filtered listing is open to every signed-in user")

    def __and__(self, other: Access) -> Access:
        if self.kind is not AccessKind.RESOURCE or other.kind is not AccessKind.RESOURCE:
            raise ValueError("only resource rules combine")
        return Access(AccessKind.RESOURCE, self.needs + other.needs)

    @property
    def filtered(self) -> bool:
        return self.filtered_by is not None

    @functools.cached_property
    def args(self) -> tuple[str, ...]:
        """The arguments this rule reads (``run_uuid`` stands in for an absent ``run_id``)."""
        return tuple(dict.fromkeys(need.locator.arg for need in self.needs))

    def describe(self) -> dict[str, Any]:
        """The rule as JSON (the OpenAPI document's ``x-mltrail-access``)."""
        out: dict[str, Any] = {"kind": self.kind.value}
        if self.needs:
            out["needs"] = [
                {
                    "permission": need.permission.name,
                    "find": need.locator.find.value,
                    "arg": need.locator.arg,
                }
                for need in self.needs
            ]
        if self.filtered_by is not None:
            out["filtered_by"] = self.filtered_by.value
        return out

    def __str__(self) -> str:
        if self.kind is AccessKind.RESOURCE:
            return " & ".join(f"{n.permission.name} {n.locator}" for n in self.needs)
        if self.filtered_by is not None:
            return f"searchable({self.filtered_by.value})"
        return str(self.kind.value)


PUBLIC = Access(AccessKind.PUBLIC)
UPLOAD_CAPABILITY = Access(AccessKind.UPLOAD_CAPABILITY)
AUTHENTICATED = Access(AccessKind.AUTHENTICATED)
ADMIN = Access(AccessKind.ADMIN)


def _needing(permission: Permission, *locators: Locator) -> Access:
    if not locators:
        raise ValueError("name at least one locator")
    return Access(AccessKind.RESOURCE, tuple(Need(permission, loc) for loc in locators))


def read(*locators: Locator) -> Access:
    return _needing(Permission.READ, *locators)


def use(*locators: Locator) -> Access:
    return _needing(Permission.USE, *locators)


def edit(*locators: Locator) -> Access:
    return _needing(Permission.EDIT, *locators)


def manage(*locators: Locator) -> Access:
    return _needing(Permission.MANAGE, *locators)


def searchable(resource_type: ResourceType) -> Access:
    """A listing whose results the server restricts to the *resource_type* s the caller may
    READ (runs are listed by their experiments)."""
    return Access(AccessKind.AUTHENTICATED, filtered_by=resource_type)


# -- resolution ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """*permission* is needed, judged by the first of *resources* the caller holds an explicit
    grant on (else the default permission); no resources: only an admin passes."""

    permission: Permission
    resources: tuple[Resource, ...] = field(default=())

    @property
    def admin_only(self) -> bool:
        return not self.resources


def _experiment(experiment_id: object) -> Resource:
    return (ResourceType.EXPERIMENT, str(experiment_id))


def _value(locator: Locator, args: Mapping[str, Any]) -> Any:
    value = args.get(locator.arg)
    if value in (None, "") and locator.arg == "run_id":
        value = args.get("run_uuid")
    if value in (None, "", []):
        return locator.default
    return value


def located_values(access: Access, args: Mapping[str, Any]) -> tuple[Any, ...]:
    """The argument values *access* resolves from *args* (``run_uuid`` standing in for an
    absent ``run_id``, a locator's default for an absent value): what a cache of
    :func:`resolve`'s answers is keyed by."""
    return tuple(_value(need.locator, args) for need in access.needs)


def _ids(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return list(dict.fromkeys(str(v) for v in items if v not in (None, "")))


def _run_experiment(backend: Backend, run_id: str) -> str | None:
    try:
        return backend.runs.get_run(run_id).info.experiment_id
    except (NotFound, InvalidArgument):
        return None


def _logged_model(backend: Backend, model_id: str) -> LoggedModel | None:
    try:
        return backend.logged_models.get_logged_model(model_id, allow_deleted=True)
    except (NotFound, InvalidArgument):
        return None


def logged_model_resources(model: LoggedModel) -> tuple[Resource, Resource]:
    """What decides a permission on a logged model: its own grant, else its experiment's
    (MLflow's fallback; the one place it is written)."""
    return (ResourceType.LOGGED_MODEL, model.model_id), _experiment(model.experiment_id)


def _logged_model_checks(permission: Permission, model: LoggedModel) -> list[Check]:
    """As MLflow: READ on the model's experiment, and *permission* by the model's own grant,
    falling back to the experiment's."""
    resources = logged_model_resources(model)
    return [Check(Permission.READ, resources[1:]), Check(permission, resources)]


def _under(root: str | None, segments: list[str]) -> bool:
    """Whether the proxy path *segments* is the proxy root *root* or lies below it."""
    if root is None:
        return False
    prefix = root.split("/") if root else []
    return segments[: len(prefix)] == prefix


def _artifact_owner(permission: Permission, path: str, backend: Backend) -> list[Check]:
    """The checks of a proxy path: the run whose artifact root holds it (the run's
    experiment), else the logged model's (``.../models/<model_id>/artifacts/...``), else the
    experiment's (its id the path's first segment); else only an admin."""
    rel = validate_artifact_path(path)
    segments = rel.split("/") if rel else []
    for i in range(len(segments) - 1):
        if segments[i + 1] == "artifacts" and looks_like_run_id(segments[i]):
            try:
                run = backend.runs.get_run(segments[i])
            except (NotFound, InvalidArgument):
                continue
            if _under(proxy_path(run.info.artifact_uri), segments):
                return [Check(permission, (_experiment(run.info.experiment_id),))]
    for i in range(1, len(segments) - 1):
        if segments[i - 1] == "models" and segments[i + 1] == "artifacts":
            if not segments[i].startswith("m-"):
                continue
            model = _logged_model(backend, segments[i])
            if model is not None and _under(proxy_path(model.artifact_location), segments):
                return _logged_model_checks(permission, model)
    if segments and segments[0].isdigit():
        try:
            experiment = backend.experiments.get_experiment(segments[0])
        except (NotFound, InvalidArgument):
            experiment = None
        if experiment is not None and _under(proxy_path(experiment.artifact_location), segments):
            return [Check(permission, (_experiment(experiment.experiment_id),))]
    return [Check(permission)]


def _source_checks(permission: Permission, source: str, backend: Backend) -> list[Check]:
    """What a model version's source URI names: a registered model (``models:/<name>/...``),
    a logged model (``models:/<model_id>``) or a run (``runs:/<run_id>/...``)."""
    try:
        models = parse_models_uri(source)
        runs = None if models is not None else parse_runs_uri(source)
    except InvalidArgument:
        return []
    if models is not None and models.name is not None:
        return [Check(permission, ((ResourceType.REGISTERED_MODEL, models.name),))]
    if models is not None and models.model_id is not None:
        model = _logged_model(backend, models.model_id)
        return [] if model is None else _logged_model_checks(permission, model)
    if runs is not None:
        experiment_id = _run_experiment(backend, runs[0])
        return [] if experiment_id is None else [Check(permission, (_experiment(experiment_id),))]
    return []


def _find_experiment(p: Permission, value: Any, backend: Backend) -> Iterator[Check]:
    for experiment_id in _ids(value):
        yield Check(p, (_experiment(experiment_id),))


def _find_experiment_name(p: Permission, value: Any, backend: Backend) -> Iterator[Check]:
    experiment = backend.experiments.get_experiment_by_name(str(value))
    if experiment is not None:
        yield Check(p, (_experiment(experiment.experiment_id),))


def _find_run(p: Permission, value: Any, backend: Backend) -> Iterator[Check]:
    for run_id in _ids(value):
        experiment_id = _run_experiment(backend, run_id)
        if experiment_id is not None:
            yield Check(p, (_experiment(experiment_id),))


def _find_registered_model(p: Permission, value: Any, backend: Backend) -> Iterator[Check]:
    yield Check(p, ((ResourceType.REGISTERED_MODEL, str(value)),))


def _find_logged_model(p: Permission, value: Any, backend: Backend) -> Iterator[Check]:
    for model_id in _ids(value):
        model = _logged_model(backend, model_id)
        if model is not None:
            yield from _logged_model_checks(p, model)


def _find_logged_models_in(p: Permission, value: Any, backend: Backend) -> Iterator[Check]:
    items = value if isinstance(value, list) else []
    named = [item.get("model_id") for item in items if isinstance(item, dict)]
    yield from _find_logged_model(p, named, backend)


def _find_artifact_path(p: Permission, value: Any, backend: Backend) -> Iterator[Check]:
    yield from _artifact_owner(p, str(value), backend)


def _find_model_source(p: Permission, value: Any, backend: Backend) -> Iterator[Check]:
    yield from _source_checks(p, str(value), backend)


def _find_webhook(p: Permission, value: Any, backend: Backend) -> Iterator[Check]:
    try:
        backend.webhooks.get_webhook(str(value))
    except (NotFound, InvalidArgument):
        return
    yield Check(p, ((ResourceType.WEBHOOK, str(value)),))


_FINDERS: dict[Find, Callable[[Permission, Any, Backend], Iterator[Check]]] = {
    Find.EXPERIMENT: _find_experiment,
    Find.EXPERIMENTS: _find_experiment,
    Find.EXPERIMENT_NAME: _find_experiment_name,
    Find.RUN: _find_run,
    Find.RUNS: _find_run,
    Find.REGISTERED_MODEL: _find_registered_model,
    Find.LOGGED_MODEL: _find_logged_model,
    Find.LOGGED_MODELS_IN: _find_logged_models_in,
    Find.ARTIFACT_PATH: _find_artifact_path,
    Find.MODEL_SOURCE: _find_model_source,
    Find.WEBHOOK: _find_webhook,
}


def resolve(access: Access, args: Mapping[str, Any], backend: Backend) -> list[Check]:
    """The checks a request with *args* must pass under *access* (none for a rule that names
    no resource, or whose resources do not exist).

    InvalidArgument when an artifact path is malformed (the handler's own answer to it).
    """
    checks: list[Check] = []
    for need in access.needs:
        value = _value(need.locator, args)
        if value is None:
            continue
        for check in _FINDERS[need.locator.find](need.permission, value, backend):
            if check not in checks:
                checks.append(check)
    return checks


# -- effects ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """What a successful call changes in the auth state and records in the audit trail.

    *action* names it in the trail (``experiment.create``); *resource_type* and the argument or
    result key holding the resource's id say what it touched; *creator_manages* grants the
    caller MANAGE on a resource the call created; *renames_to* names the argument holding a
    registered model's new name (its grants follow it); *deletes* drops the resource's grants
    (a registered model of the same name created later starts with none); *detail_keys* are
    arguments copied into the trail (a version's number and new stage).
    """

    action: str
    resource_type: ResourceType | None = None
    id_key: str | tuple[str, ...] | None = None
    creator_manages: bool = field(default=False, kw_only=True)
    renames_to: str | None = field(default=None, kw_only=True)
    deletes: bool = field(default=False, kw_only=True)
    detail_keys: tuple[str, ...] = field(default=(), kw_only=True)

    def resource_id(self, args: Mapping[str, Any], result: Mapping[str, Any]) -> str | None:
        """The id at ``id_key``: a path into the result (a tuple), or an argument (a string)
        looked up in the arguments first, then the result."""
        if self.id_key is None:
            return None
        if isinstance(self.id_key, tuple):
            value: Any = result
            for key in self.id_key:
                value = value.get(key) if isinstance(value, Mapping) else None
            return None if value is None else str(value)
        value = args.get(self.id_key, result.get(self.id_key))
        return None if value is None else str(value)
