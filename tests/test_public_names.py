"""Every classic public name of the installed MLflow exists in mltrail at the same path, with the
same parameter names.

MLflow (a test-only dependency) is listed at test time, in a subprocess of its own (its imports
and warnings stay out of this process): for each module below, its ``__all__`` where it defines
one, else the non-underscore attributes defined inside that package; the public methods of
``MlflowClient``; and the public attributes of every class both libraries have.  A callable must
take MLflow's parameters under the same names; a parameter MLflow takes positionally sits at the
same position in mltrail; mltrail's own extra parameters have defaults, so MLflow's calls work.

Three lists keep the comparison honest:

- ``EXCLUDED``: deliberate, one comment per group (Databricks-only calls, GenAI: tracing,
  prompts, judges, gateway, agents, GenAI evaluation datasets; MLflow's protobuf plumbing).
- ``NOT_YET``: classic names mltrail does not have yet.  A name listed there that mltrail has
  fails the test (move it out of the list).
- ``EXCLUDED_PARAMETERS`` / ``NOT_YET_PARAMETERS``: the same two lists for parameters.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
from typing import Any

import pytest

MODULES = (
    "mlflow",
    "mlflow.tracking",
    "mlflow.models",
    "mlflow.pyfunc",
    "mlflow.data",
    "mlflow.artifacts",
    "mlflow.entities",
    "mlflow.exceptions",
    # The flavors mltrail has.
    "mlflow.sklearn",
    "mlflow.pytorch",
    "mlflow.xgboost",
    "mlflow.lightgbm",
    "mlflow.onnx",
    "mlflow.statsmodels",
    "mlflow.catboost",
    "mlflow.keras",
    "mlflow.transformers",
    "mlflow.shap",
)

# Lists MLflow's public surface as JSON: {"names": {"mlflow.x.Name": {...}}}.
LISTER = r"""
import importlib, inspect, json, sys, types, warnings
warnings.filterwarnings("ignore")

def parameters(obj):
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [[p.name, p.kind.name, p.default is not p.empty] for p in signature.parameters.values()]

def public(module):
    names = getattr(module, "__all__", None)
    if names is not None:
        return sorted(set(names))
    found = []
    for name in dir(module):
        if name.startswith("_"):
            continue
        value = getattr(module, name)
        home = getattr(value, "__module__", None)
        if isinstance(value, types.ModuleType) or not isinstance(home, str):
            continue
        if home == module.__name__ or home.startswith(module.__name__ + "."):
            found.append(name)
    return sorted(found)

def own_members(cls):
    builtin = set()
    for base in cls.__mro__:
        if base.__module__ == "builtins" or base.__module__ == "enum":
            builtin |= set(dir(base))
    return sorted(n for n in dir(cls) if not n.startswith("_") and n not in builtin)

out = {}
for module_name in json.loads(sys.argv[1]):
    module = importlib.import_module(module_name)
    for name in public(module):
        value = getattr(module, name, None)
        entry = {"class": inspect.isclass(value), "callable": callable(value)}
        if callable(value):
            entry["parameters"] = parameters(value)
        if inspect.isclass(value):
            members = {}
            for member in own_members(value):
                attribute = inspect.getattr_static(value, member)
                if isinstance(attribute, (staticmethod, classmethod)):
                    attribute = getattr(value, member)
                members[member] = parameters(attribute) if inspect.isroutine(attribute) else None
            entry["members"] = members
        out[f"{module_name}.{name}"] = entry
print(json.dumps(out))
"""

# Deliberately not in mltrail.  Keys are MLflow's dotted names (``Class.member`` for members).
EXCLUDED: dict[str, str] = {}


def _exclude(reason: str, *names: str) -> None:
    for name in names:
        EXCLUDED[name] = reason


# Internal machinery MLflow's module happens to expose (its autologging's bookkeeping).
_exclude("internal", "mlflow.statsmodels.AutologHelpers")
# Plumbing MLflow's transformers module imports from its submodules (flavor-config keys, file
# layout helpers): mltrail writes the same files with its own.
_exclude(
    "internal",
    *(
        f"mlflow.transformers.{name}"
        for name in (
            "FlavorKey",
            "build_flavor_config",
            "build_flavor_config_from_local_checkpoint",
            "load_model_and_components_from_huggingface_hub",
            "load_model_and_components_from_local",
            "load_model_and_components_from_local_base_path",
            "save_local_checkpoint",
            "save_pipeline_components",
            "save_pipeline_pretrained_weights",
            "update_flavor_conf_to_persist_pretrained_model",
        )
    ),
)
# GenAI: the transformers flavor's LLM inference tasks (llm/v1 chat, completions, embeddings).
_exclude(
    "GenAI LLM inference tasks",
    *(
        f"mlflow.transformers.{name}"
        for name in (
            "convert_messages_to_prompt",
            "infer_signature_from_llm_inference_task",
            "postprocess_output_for_llm_inference_task",
            "postprocess_output_for_llm_v1_embedding_task",
            "preprocess_llm_embedding_params",
            "preprocess_llm_inference_input",
        )
    ),
)
# GenAI tracing: spans, traces, their entities, errors and client calls.
_exclude(
    "GenAI tracing",
    "mlflow.add_trace",
    "mlflow.delete_trace_tag",
    "mlflow.flush_trace_async_logging",
    "mlflow.get_active_trace_id",
    "mlflow.get_current_active_span",
    "mlflow.get_last_active_trace_id",
    "mlflow.get_trace",
    "mlflow.log_trace",
    "mlflow.search_traces",
    "mlflow.search_sessions",
    "mlflow.set_trace_tag",
    "mlflow.start_span",
    "mlflow.start_span_no_context",
    "mlflow.trace",
    "mlflow.update_current_trace",
    # The active model links traces to a LoggedModel; mltrail has no traces to link.
    "mlflow.ActiveModel",
    "mlflow.clear_active_model",
    "mlflow.get_active_model_id",
    "mlflow.set_active_model",
    "mlflow.pyfunc.set_prediction_context",
    "mlflow.pyfunc.Context",
    "mlflow.entities.LiveSpan",
    "mlflow.entities.NoOpSpan",
    "mlflow.entities.Span",
    "mlflow.entities.SpanEvent",
    "mlflow.entities.SpanLogLevel",
    "mlflow.entities.SpanStatus",
    "mlflow.entities.SpanStatusCode",
    "mlflow.entities.SpanType",
    "mlflow.entities.Document",
    "mlflow.entities.Trace",
    "mlflow.entities.TraceArchivalConfig",
    "mlflow.entities.TraceData",
    "mlflow.entities.TraceInfo",
    "mlflow.entities.TraceLocation",
    "mlflow.entities.TraceLocationType",
    "mlflow.entities.TraceState",
    "mlflow.entities.MlflowExperimentLocation",
    "mlflow.entities.Session",
    "mlflow.entities.Link",
    "mlflow.entities.EntityAssociationType",
    "mlflow.entities.Experiment.trace_location",
    "mlflow.entities.Experiment.effective_trace_archival_retention",
    "mlflow.exceptions.MlflowTraceArchivalMalformedTrace",
    "mlflow.exceptions.MlflowTraceDataCorrupted",
    "mlflow.exceptions.MlflowTraceDataException",
    "mlflow.exceptions.MlflowTraceDataNotFound",
    "mlflow.exceptions.MlflowTracingException",
    "mlflow.MlflowClient.delete_trace_tag",
    "mlflow.MlflowClient.delete_traces",
    "mlflow.MlflowClient.end_span",
    "mlflow.MlflowClient.end_trace",
    "mlflow.MlflowClient.get_trace",
    "mlflow.MlflowClient.link_traces_to_run",
    "mlflow.MlflowClient.search_traces",
    "mlflow.MlflowClient.set_trace_tag",
    "mlflow.MlflowClient.start_span",
    "mlflow.MlflowClient.start_trace",
    "mlflow.MlflowClient.unlink_traces_from_run",
    "mlflow.MlflowClient.link_prompt_versions_to_trace",
)
# GenAI feedback, expectations and issues on traces (assessments).
_exclude(
    "GenAI assessments",
    "mlflow.delete_assessment",
    "mlflow.get_assessment",
    "mlflow.log_assessment",
    "mlflow.log_expectation",
    "mlflow.log_feedback",
    "mlflow.log_issue",
    "mlflow.override_feedback",
    "mlflow.update_assessment",
    "mlflow.entities.Assessment",
    "mlflow.entities.AssessmentError",
    "mlflow.entities.AssessmentSource",
    "mlflow.entities.AssessmentSourceType",
    "mlflow.entities.Expectation",
    "mlflow.entities.Feedback",
    "mlflow.entities.Issue",
    "mlflow.entities.IssueReference",
    "mlflow.entities.IssueSeverity",
    "mlflow.entities.IssueStatus",
    "mlflow.entities.ScorerVersion",
)
# GenAI prompt registry.
_exclude(
    "GenAI prompts",
    "mlflow.delete_prompt_alias",
    "mlflow.load_prompt",
    "mlflow.register_prompt",
    "mlflow.search_prompts",
    "mlflow.set_prompt_alias",
    "mlflow.entities.Prompt",
    *(
        f"mlflow.MlflowClient.{name}"
        for name in (
            "create_prompt",
            "create_prompt_version",
            "delete_prompt",
            "delete_prompt_alias",
            "delete_prompt_tag",
            "delete_prompt_version",
            "delete_prompt_version_tag",
            "detach_prompt_from_run",
            "get_prompt",
            "get_prompt_version",
            "get_prompt_version_by_alias",
            "link_prompt_version_to_model",
            "link_prompt_version_to_run",
            "list_logged_prompts",
            "load_prompt",
            "parse_prompt_uri",
            "register_prompt",
            "search_prompt_versions",
            "search_prompts",
            "set_prompt_alias",
            "set_prompt_tag",
            "set_prompt_version_tag",
        )
    ),
)
# GenAI evaluation datasets (records of inputs and expectations for judges).
_exclude(
    "GenAI evaluation datasets",
    "mlflow.entities.DatasetRecord",
    "mlflow.entities.DatasetRecordSource",
    "mlflow.entities.DatasetRecordSourceType",
    *(
        f"mlflow.MlflowClient.{name}"
        for name in (
            "add_dataset_to_experiments",
            "create_dataset",
            "delete_dataset",
            "delete_dataset_tag",
            "get_dataset",
            "remove_dataset_from_experiments",
            "search_datasets",
            "set_dataset_tags",
        )
    ),
)
# The AI gateway and its budgets, guardrails and secrets.
_exclude(
    "AI gateway",
    "mlflow.gateway",
    *(
        f"mlflow.entities.{name}"
        for name in (
            "BudgetAction",
            "BudgetDuration",
            "BudgetDurationUnit",
            "BudgetTargetScope",
            "BudgetUnit",
            "ConnectOptionSettings",
            "FallbackConfig",
            "FallbackStrategy",
            "GatewayBudgetPolicy",
            "GatewayEndpoint",
            "GatewayEndpointBinding",
            "GatewayEndpointModelConfig",
            "GatewayEndpointModelMapping",
            "GatewayEndpointTag",
            "GatewayGuardrail",
            "GatewayGuardrailConfig",
            "GatewayModelDefinition",
            "GatewayModelLinkageType",
            "GatewayResourceType",
            "GatewaySecretInfo",
            "GuardrailAction",
            "GuardrailStage",
            "RoutingStrategy",
        )
    ),
)
# Agents: MCP servers, chat/agent model interfaces, agent resources and retriever schemas.
_exclude(
    "GenAI agents",
    "mlflow.create_external_model",
    "mlflow.pyfunc.ChatAgent",
    "mlflow.pyfunc.ChatModel",
    "mlflow.pyfunc.ResponsesAgent",
    "mlflow.pyfunc.PyFuncModel.predict_stream",
    "mlflow.pyfunc.PythonModel.predict_stream",
    "mlflow.models.Resource",
    "mlflow.models.ResourceType",
    "mlflow.models.set_retriever_schema",
    "mlflow.models.Model.resources",
    "mlflow.models.Model.auth_policy",
    "mlflow.entities.MCPAccessEndpoint",
    "mlflow.entities.MCPRemoteTransportType",
    "mlflow.entities.MCPServer",
    "mlflow.entities.MCPServerVersion",
    "mlflow.entities.MCPStatus",
    "mlflow.entities.MCPTool",
    *(
        f"mlflow.MlflowClient.{name}"
        for name in (
            "create_mcp_access_endpoint",
            "create_mcp_server",
            "create_mcp_server_version",
            "delete_mcp_access_endpoint",
            "delete_mcp_server",
            "delete_mcp_server_alias",
            "delete_mcp_server_tag",
            "delete_mcp_server_version",
            "delete_mcp_server_version_tag",
            "get_latest_mcp_server_version",
            "get_mcp_access_endpoint",
            "get_mcp_server",
            "get_mcp_server_version",
            "get_mcp_server_version_by_alias",
            "refresh_mcp_server_version_tools",
            "search_mcp_access_endpoints",
            "search_mcp_server_versions",
            "search_mcp_servers",
            "set_mcp_server_alias",
            "set_mcp_server_tag",
            "set_mcp_server_version_tag",
            "update_mcp_access_endpoint",
            "update_mcp_server",
            "update_mcp_server_version",
        )
    ),
)
# Databricks-only: login, Unity Catalog locations, Databricks Connect, serverless environments,
# Delta tables, Spark.
_exclude(
    "Databricks / Spark",
    "mlflow.login",
    "mlflow.import_checkpoints",
    "mlflow.entities.InferenceTableLocation",
    "mlflow.entities.UCSchemaLocation",
    "mlflow.entities.UnityCatalog",
    "mlflow.pyfunc.DBConnectArtifactCache",
    "mlflow.pyfunc.archive_directory",
    "mlflow.pyfunc.extract_archive_to_dir",
    "mlflow.pyfunc.build_model_env",
    "mlflow.pyfunc.spark_udf",
    "mlflow.data.from_spark",
    "mlflow.data.load_delta",
)
# MLflow's private helpers that its __all__ happens to list, and submodules (not names).
_exclude(
    "private or a submodule",
    "mlflow.tracking._get_artifact_repo",
    "mlflow.tracking._get_store",
    "mlflow.entities._DatasetSummary",
    "mlflow.context",
    "mlflow.test",
)
# MLflow's protobuf plumbing: mltrail's entities are plain Python (JSON on the wire).
EXCLUDED_MEMBERS: dict[str, str] = {"to_proto": "protobuf", "from_proto": "protobuf"}

# Classic names mltrail does not have yet (a name here that mltrail has fails the test).
NOT_YET: dict[str, str] = {}


def _not_yet(reason: str, *names: str) -> None:
    for name in names:
        NOT_YET[name] = reason


# TensorFlow datasets: TensorFlow is too heavy a dependency to test against.
_not_yet("dataset sources (TensorFlow is not a dependency)", "mlflow.data.from_tensorflow")

# Deliberately different parameters: {MLflow's dotted name: {parameter: reason}}.
EXCLUDED_PARAMETERS: dict[str, dict[str, str]] = {
    # GenAI tracing: where an experiment's traces are stored.
    "mlflow.create_experiment": {"trace_location": "GenAI tracing"},
    "mlflow.set_experiment": {"trace_location": "GenAI tracing"},
    # Databricks: model-serving environment packs and deployment jobs.
    "mlflow.register_model": {"env_pack": "Databricks"},
    "mlflow.MlflowClient.create_registered_model": {"deployment_job_id": "Databricks"},
    "mlflow.MlflowClient.update_registered_model": {"deployment_job_id": "Databricks"},
}

# Classic parameters mltrail does not take yet.
NOT_YET_PARAMETERS: dict[str, dict[str, str]] = {
    # MLflow hands these to save_model, which takes none (only Model.log's own options, such as
    # validate_serving_input, would reach anything).
    **{
        f"mlflow.{flavor}.log_model": {"kwargs": "Model.log's options"}
        for flavor in ("sklearn", "statsmodels")
    },
}


@pytest.fixture(scope="module")
def mlflow_surface() -> dict[str, Any]:
    # mlflow.keras imports Keras, which runs on PyTorch here (no TensorFlow is installed).
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "KERAS_BACKEND": "torch"}
    done = subprocess.run(
        [sys.executable, "-c", LISTER, json.dumps(MODULES)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    names: dict[str, Any] = json.loads(done.stdout)
    client = names.pop("mlflow.tracking.MlflowClient", None)
    top_client = names["mlflow.MlflowClient"]
    if client is not None:
        assert client["members"] == top_client["members"]
    return names


def _mltrail_object(dotted: str) -> tuple[bool, Any]:
    """mltrail's object for MLflow's dotted name (``mlflow.x.Name`` or ``mlflow.x.Cls.member``)."""
    for module_name in sorted(MODULES, key=len, reverse=True):
        if dotted.startswith(module_name + "."):
            break
    module = importlib.import_module("mltrail" + module_name[len("mlflow") :])
    value: Any = module
    for part in dotted[len(module_name) + 1 :].split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            if inspect.isclass(value) and _instance_attribute(value, part):
                value = None
                continue
            return False, None
    return True, value


def _instance_attribute(cls: type, name: str) -> bool:
    """Whether instances of ``cls`` carry ``name`` without the class having it: a dataclass
    field or annotated attribute, or a constructor parameter kept under its own name."""
    annotated = any(name in getattr(base, "__annotations__", {}) for base in cls.__mro__)
    try:
        constructor = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        constructor = {}  # type: ignore[assignment]
    return annotated or name in constructor


def _listed(name: str, table: dict[str, str]) -> bool:
    """Whether ``name`` or the class it belongs to is in ``table`` (members named in
    ``EXCLUDED_MEMBERS`` count as excluded)."""
    if table is EXCLUDED and name.rsplit(".", 1)[1] in EXCLUDED_MEMBERS:
        return True
    return name in table or name.rsplit(".", 1)[0] in table


def _all_names(surface: dict[str, Any]) -> list[str]:
    names = []
    for name, entry in surface.items():
        names.append(name)
        for member in entry.get("members", {}):
            names.append(f"{name}.{member}")
    return sorted(names)


def _parameters(value: Any) -> list[tuple[str, str, bool]] | None:
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return None
    return [(p.name, p.kind.name, p.default is not p.empty) for p in signature.parameters.values()]


def parameter_problems(
    theirs: list[list[Any]], ours: list[tuple[str, str, bool]], skip: set[str]
) -> list[str]:
    """What stops MLflow's calls from working on mltrail's callable, one line a problem."""
    problems = []
    positional = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")
    our_names = [name for name, _, _ in ours]
    their_names = {name for name, _, _ in theirs}
    for index, (name, kind, _) in enumerate(theirs):
        if name.startswith("_") or name in skip:
            continue
        if kind == "VAR_KEYWORD":
            if not any(k == "VAR_KEYWORD" for _, k, _ in ours):
                problems.append(f"no **{name}")
            continue
        if kind == "VAR_POSITIONAL":
            if not any(k == "VAR_POSITIONAL" for _, k, _ in ours):
                problems.append(f"no *{name}")
            continue
        if name not in our_names:
            problems.append(f"no parameter {name!r}")
        elif kind in positional and (index >= len(ours) or ours[index][0] != name):
            problems.append(f"{name!r} is not at position {index}")
    for name, kind, has_default in ours:
        if name not in their_names and not has_default and not kind.startswith("VAR"):
            problems.append(f"extra parameter {name!r} without a default")
    return problems


@pytest.mark.slow
def test_every_classic_name_exists(mlflow_surface: dict[str, Any]) -> None:
    missing = [
        name
        for name in _all_names(mlflow_surface)
        if (name in mlflow_surface or _mltrail_object(name.rsplit(".", 1)[0])[0])
        and not _listed(name, EXCLUDED)
        and not _listed(name, NOT_YET)
        and not _mltrail_object(name)[0]
    ]
    assert missing == [], "\n".join(missing)


@pytest.mark.slow
def test_not_yet_names_are_still_missing(mlflow_surface: dict[str, Any]) -> None:
    done = [name for name in NOT_YET if _mltrail_object(name)[0]]
    assert done == [], "mltrail has these now: take them out of NOT_YET"


@pytest.mark.slow
def test_parameters_match(mlflow_surface: dict[str, Any]) -> None:
    problems = {}
    for name in _all_names(mlflow_surface):
        module_entry = mlflow_surface.get(name)
        if module_entry is not None:
            theirs = module_entry.get("parameters")
        else:
            owner, member = name.rsplit(".", 1)
            theirs = mlflow_surface[owner]["members"][member]
        if not theirs or _listed(name, EXCLUDED) or _listed(name, NOT_YET):
            continue
        if module_entry is not None and module_entry["class"]:
            continue  # a class's constructor is compared by its members and tests of its own
        found, value = _mltrail_object(name)
        ours = _parameters(value) if found else None
        if ours is None:
            continue
        skip = set(EXCLUDED_PARAMETERS.get(name, {})) | set(NOT_YET_PARAMETERS.get(name, {}))
        if theirs[0][0] in ("self", "cls") and ours and ours[0][0] not in ("self", "cls"):
            theirs = theirs[1:]  # MLflow's method, mltrail's bound or static equivalent
        found_problems = parameter_problems(theirs, ours, skip)
        if found_problems:
            problems[name] = found_problems
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_parameter_rule() -> None:
    """The rule itself: names, positions, and mltrail's extras having defaults."""
    theirs = [["a", "POSITIONAL_OR_KEYWORD", False], ["b", "KEYWORD_ONLY", True]]
    assert parameter_problems(theirs, [("a", "POSITIONAL_OR_KEYWORD", False)], set()) == [
        "no parameter 'b'"
    ]
    assert parameter_problems(
        theirs,
        [
            ("x", "POSITIONAL_OR_KEYWORD", True),
            ("a", "POSITIONAL_OR_KEYWORD", False),
            ("b", "KEYWORD_ONLY", True),
        ],
        set(),
    ) == ["'a' is not at position 0"]
    assert parameter_problems(
        theirs,
        [
            ("a", "POSITIONAL_OR_KEYWORD", False),
            ("b", "KEYWORD_ONLY", True),
            ("run_id", "KEYWORD_ONLY", False),
        ],
        set(),
    ) == ["extra parameter 'run_id' without a default"]
    assert parameter_problems(theirs, [("a", "POSITIONAL_OR_KEYWORD", False)], {"b"}) == []
