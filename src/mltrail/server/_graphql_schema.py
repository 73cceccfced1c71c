"""The GraphQL schema ``/graphql`` answers: MLflow 3.17's, type by type, field by field.

:data:`SCHEMA` holds it, read from the SDL below at import time: object types with their fields
(and the root fields' arguments), input types, enums and scalars, in the order MLflow's schema
lists them (``__schema { types }`` answers in that order), followed by GraphQL's introspection
types.  Descriptions are left out (introspection answers null for them).  ``LongString`` is
MLflow's scalar for 64-bit integers, written as strings.  The only directive is MLflow's
``@component(name: String!)`` on queries and mutations.

:func:`suggestions` and :func:`did_you_mean` phrase "Did you mean ...?" as graphql-core
does: the names within an edit distance of about 40% of the typed name (insertions,
deletions, substitutions and swaps of neighbours, ignoring case), nearest first, at most five.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "META_FIELDS",
    "SCHEMA",
    "Argument",
    "FieldDef",
    "Schema",
    "TypeDef",
    "TypeRef",
    "did_you_mean",
    "introspect_schema",
    "introspect_type",
    "parse_type_ref",
    "suggestions",
]

_SDL = """
type Query {
  mlflowGetExperiment(input: MlflowGetExperimentInput): MlflowGetExperimentResponse
  mlflowGetMetricHistoryBulkInterval(input: MlflowGetMetricHistoryBulkIntervalInput):
    MlflowGetMetricHistoryBulkIntervalResponse
  mlflowGetRun(input: MlflowGetRunInput): MlflowGetRunResponse
  mlflowListArtifacts(input: MlflowListArtifactsInput): MlflowListArtifactsResponse
  mlflowSearchModelVersions(input: MlflowSearchModelVersionsInput):
    MlflowSearchModelVersionsResponse
  test(inputString: String): Test
  mlflowSearchRuns(input: MlflowSearchRunsInput): MlflowSearchRunsResponse
}
type MlflowGetExperimentResponse { experiment: MlflowExperiment apiError: ApiError }
type MlflowExperiment {
  experimentId: String name: String artifactLocation: String lifecycleStage: String
  lastUpdateTime: LongString creationTime: LongString tags: [MlflowExperimentTag!]
  effectiveTraceArchivalRetention: String workspace: String
}
scalar String
scalar LongString
type MlflowExperimentTag { key: String value: String }
type ApiError {
  code: String message: String helpUrl: String traceId: String errorDetails: [ErrorDetail]
}
type ErrorDetail { field: String message: String }
input MlflowGetExperimentInput { experimentId: String }
type MlflowGetMetricHistoryBulkIntervalResponse {
  metrics: [MlflowMetricWithRunId!] apiError: ApiError
}
type MlflowMetricWithRunId {
  key: String value: Float timestamp: LongString step: LongString runId: String
}
scalar Float
input MlflowGetMetricHistoryBulkIntervalInput {
  runIds: [String] metricKey: String startStep: Int endStep: Int maxResults: Int
}
scalar Int
type MlflowGetRunResponse { run: MlflowRunExtension apiError: ApiError }
type MlflowRunExtension {
  info: MlflowRunInfo data: MlflowRunData inputs: MlflowRunInputs outputs: MlflowRunOutputs
  experiment: MlflowExperiment modelVersions: [MlflowModelVersion!]
}
type MlflowRunInfo {
  runId: String runUuid: String runName: String experimentId: String userId: String
  status: MlflowRunStatus startTime: LongString endTime: LongString artifactUri: String
  lifecycleStage: String
}
enum MlflowRunStatus { RUNNING SCHEDULED FINISHED FAILED KILLED }
type MlflowRunData {
  metrics: [MlflowMetricExtension!] params: [MlflowParam!] tags: [MlflowRunTag!]
}
type MlflowMetricExtension {
  key: String value: Float timestamp: LongString step: LongString datasetName: String
  datasetDigest: String modelId: String runId: String
}
type MlflowParam { key: String value: String }
type MlflowRunTag { key: String value: String }
type MlflowRunInputs { datasetInputs: [MlflowDatasetInput!] modelInputs: [MlflowModelInput!] }
type MlflowDatasetInput { tags: [MlflowInputTag!] dataset: MlflowDataset }
type MlflowInputTag { key: String value: String }
type MlflowDataset {
  name: String digest: String sourceType: String source: String schema: String profile: String
}
type MlflowModelInput { modelId: String }
type MlflowRunOutputs { modelOutputs: [MlflowModelOutput!] }
type MlflowModelOutput { modelId: String step: LongString }
type MlflowModelVersion {
  name: String version: String creationTimestamp: LongString lastUpdatedTimestamp: LongString
  userId: String currentStage: String description: String source: String runId: String
  status: MlflowModelVersionStatus statusMessage: String tags: [MlflowModelVersionTag!]
  runLink: String aliases: [String] modelId: String modelParams: [MlflowModelParam!]
  modelMetrics: [MlflowModelMetric!] deploymentJobState: MlflowModelVersionDeploymentJobState
}
enum MlflowModelVersionStatus { PENDING_REGISTRATION FAILED_REGISTRATION READY }
type MlflowModelVersionTag { key: String value: String }
type MlflowModelParam { name: String value: String }
type MlflowModelMetric {
  key: String value: Float timestamp: LongString step: LongString datasetName: String
  datasetDigest: String modelId: String runId: String
}
type MlflowModelVersionDeploymentJobState {
  jobId: String runId: String jobState: MlflowDeploymentJobConnectionState
  runState: MlflowModelVersionDeploymentJobStateDeploymentJobRunState currentTaskName: String
}
enum MlflowDeploymentJobConnectionState {
  DEPLOYMENT_JOB_CONNECTION_STATE_UNSPECIFIED NOT_SET_UP CONNECTED NOT_FOUND
  REQUIRED_PARAMETERS_CHANGED
}
enum MlflowModelVersionDeploymentJobStateDeploymentJobRunState {
  DEPLOYMENT_JOB_RUN_STATE_UNSPECIFIED NO_VALID_DEPLOYMENT_JOB_FOUND RUNNING SUCCEEDED FAILED
  PENDING APPROVAL
}
input MlflowGetRunInput { runId: String runUuid: String }
type MlflowListArtifactsResponse {
  rootUri: String files: [MlflowFileInfo!] nextPageToken: String apiError: ApiError
}
type MlflowFileInfo { path: String isDir: Boolean fileSize: LongString }
scalar Boolean
input MlflowListArtifactsInput { runId: String runUuid: String path: String pageToken: String }
type MlflowSearchModelVersionsResponse {
  modelVersions: [MlflowModelVersion!] nextPageToken: String apiError: ApiError
}
input MlflowSearchModelVersionsInput {
  filter: String maxResults: LongString orderBy: [String] pageToken: String
}
type Test { output: String }
type MlflowSearchRunsResponse {
  runs: [MlflowRunExtension!] nextPageToken: String apiError: ApiError
}
input MlflowSearchRunsInput {
  experimentIds: [String] filter: String runViewType: MlflowViewType = null maxResults: Int
  orderBy: [String] pageToken: String
}
enum MlflowViewType { ACTIVE_ONLY DELETED_ONLY ALL }
type Mutation {
  mlflowSearchDatasets(input: MlflowSearchDatasetsInput): MlflowSearchDatasetsResponse
  mlflowSearchRuns(input: MlflowSearchRunsInput): MlflowSearchRunsResponse
  testMutation(inputString: String): TestMutation
}
type MlflowSearchDatasetsResponse {
  datasetSummaries: [MlflowDatasetSummary!] apiError: ApiError
}
type MlflowDatasetSummary { experimentId: String name: String digest: String context: String }
input MlflowSearchDatasetsInput { experimentIds: [String] }
type TestMutation { output: String }
type __Schema {
  description: String types: [__Type!]! queryType: __Type! mutationType: __Type
  subscriptionType: __Type directives: [__Directive!]!
}
type __Type {
  kind: __TypeKind! name: String description: String specifiedByURL: String
  fields(includeDeprecated: Boolean = false): [__Field!] interfaces: [__Type!]
  possibleTypes: [__Type!] enumValues(includeDeprecated: Boolean = false): [__EnumValue!]
  inputFields(includeDeprecated: Boolean = false): [__InputValue!] ofType: __Type
  isOneOf: Boolean
}
enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT LIST NON_NULL }
type __Field {
  name: String! description: String args(includeDeprecated: Boolean = false): [__InputValue!]!
  type: __Type! isDeprecated: Boolean! deprecationReason: String
}
type __InputValue {
  name: String! description: String type: __Type! defaultValue: String isDeprecated: Boolean!
  deprecationReason: String
}
type __EnumValue {
  name: String! description: String isDeprecated: Boolean! deprecationReason: String
}
type __Directive {
  name: String! description: String isRepeatable: Boolean! locations: [__DirectiveLocation!]!
  args(includeDeprecated: Boolean = false): [__InputValue!]!
}
enum __DirectiveLocation {
  QUERY MUTATION SUBSCRIPTION FIELD FRAGMENT_DEFINITION FRAGMENT_SPREAD INLINE_FRAGMENT
  VARIABLE_DEFINITION SCHEMA SCALAR OBJECT FIELD_DEFINITION ARGUMENT_DEFINITION INTERFACE UNION
  ENUM ENUM_VALUE INPUT_OBJECT INPUT_FIELD_DEFINITION
}
"""


@dataclass(frozen=True)
class TypeRef:
    """A type as written: a named type, or a list of one (``of``), possibly non-null."""

    name: str | None = None
    of: TypeRef | None = None  # the item type of a list
    non_null: bool = False

    @property
    def named(self) -> str:
        """The named type at the bottom."""
        if self.of is not None:
            return self.of.named
        assert self.name is not None
        return self.name

    def __str__(self) -> str:
        inner = f"[{self.of}]" if self.of is not None else str(self.name)
        return inner + ("!" if self.non_null else "")


@dataclass(frozen=True)
class Argument:
    name: str
    type: TypeRef
    default: str | None = None  # as written in the SDL


@dataclass
class FieldDef:
    name: str
    type: TypeRef
    args: dict[str, Argument] = field(default_factory=dict)
    default: str | None = None  # an input field's, as written in the SDL


@dataclass
class TypeDef:
    """One named type; *kind* as introspection names it."""

    name: str
    kind: str  # SCALAR, OBJECT, INPUT_OBJECT or ENUM
    fields: dict[str, FieldDef] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)  # an enum's


@dataclass
class Schema:
    types: dict[str, TypeDef]
    query: str = "Query"
    mutation: str = "Mutation"
    #: name -> (locations, arguments)
    directives: dict[str, tuple[list[str], dict[str, Argument]]] = field(default_factory=dict)

    def root(self, kind: str) -> TypeDef | None:
        """The root type of an operation kind ("query", "mutation"; None for others)."""
        name = {"query": self.query, "mutation": self.mutation}.get(kind)
        return self.types[name] if name else None


_TYPE_TOKEN = re.compile(r"\s*(\[|\]|!|[_A-Za-z][_0-9A-Za-z]*)")


def parse_type_ref(text: str) -> TypeRef:
    """``[Foo!]!`` and the like as a :class:`TypeRef` (ValueError when it is not one)."""
    tokens = _TYPE_TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text):
        raise ValueError(f"not a type: {text!r}")
    ref, rest = _type_ref(tokens)
    if rest:
        raise ValueError(f"not a type: {text!r}")
    return ref


def _type_ref(tokens: list[str]) -> tuple[TypeRef, list[str]]:
    if not tokens:
        raise ValueError("a type is missing")
    head, rest = tokens[0], tokens[1:]
    if head == "[":
        inner, rest = _type_ref(rest)
        if not rest or rest[0] != "]":
            raise ValueError("an unclosed list type")
        ref, rest = TypeRef(of=inner), rest[1:]
    elif head in ("]", "!"):
        raise ValueError(f"unexpected {head!r} in a type")
    else:
        ref = TypeRef(name=head)
    if rest and rest[0] == "!":
        return TypeRef(ref.name, ref.of, True), rest[1:]
    return ref, rest


_DEFINITION = re.compile(r"(type|input|enum)\s+(\w+)\s*\{([^}]*)\}|scalar\s+(\w+)")
_FIELD = re.compile(
    r"(\w+)\s*(?:\(([^)]*)\))?\s*:\s*(\[?\s*\w+\s*!?\s*\]?\s*!?)(?:\s*=\s*(\w+))?",
)
_ARG = re.compile(r"(\w+)\s*:\s*(\[?\s*\w+\s*!?\s*\]?\s*!?)(?:\s*=\s*(\w+))?")


def _parse_sdl(sdl: str) -> Schema:
    types: dict[str, TypeDef] = {}
    for match in _DEFINITION.finditer(sdl):
        keyword, name, body, scalar = match.groups()
        if scalar:
            types[scalar] = TypeDef(scalar, "SCALAR")
        elif keyword == "enum":
            types[name] = TypeDef(name, "ENUM", values=body.split())
        else:
            kind = "OBJECT" if keyword == "type" else "INPUT_OBJECT"
            fields = {}
            for f in _FIELD.finditer(body):
                fname, args, ftype, default = f.groups()
                arguments = {
                    a.group(1): Argument(a.group(1), parse_type_ref(a.group(2)), a.group(3))
                    for a in _ARG.finditer(args or "")
                }
                fields[fname] = FieldDef(fname, parse_type_ref(ftype), arguments, default)
            types[name] = TypeDef(name, kind, fields)
    component = {"name": Argument("name", parse_type_ref("String!"))}
    return Schema(types, directives={"component": (["QUERY", "MUTATION"], component)})


SCHEMA = _parse_sdl(_SDL)

#: The introspection fields of the query root, and ``__typename`` of every object type.
META_FIELDS: dict[str, FieldDef] = {
    "__schema": FieldDef("__schema", parse_type_ref("__Schema!")),
    "__type": FieldDef(
        "__type",
        parse_type_ref("__Type"),
        {"name": Argument("name", parse_type_ref("String!"))},
    ),
    "__typename": FieldDef("__typename", parse_type_ref("String!")),
}


def _distance(a: str, b: str, limit: int) -> int | None:
    """Edits (insert, delete, substitute, swap neighbours) from *a* to *b*, both lower-cased;
    None when over *limit*."""
    if a == b:
        return 0
    if a.lower() == b.lower():
        return 1
    x, y = a.lower(), b.lower()
    if abs(len(x) - len(y)) > limit:
        return None
    prev2: list[int] = []
    prev = list(range(len(y) + 1))
    for i in range(1, len(x) + 1):
        row = [i] + [0] * len(y)
        for j in range(1, len(y) + 1):
            cost = 0 if x[i - 1] == y[j - 1] else 1
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and x[i - 1] == y[j - 2] and x[i - 2] == y[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1] if prev[-1] <= limit else None


def _natural(name: str) -> list[tuple[int, int | str]]:
    """Sort key comparing runs of digits as numbers."""
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.findall(r"\d+|\D+", name)]


def suggestions(typed: str, options: list[str]) -> list[str]:
    """The *options* close to *typed*, nearest first (graphql-core's choice and order)."""
    limit = int(len(typed) * 0.4) + 1
    near = {o: d for o in options if (d := _distance(typed, o, limit)) is not None}
    return sorted(near, key=lambda o: (near[o], _natural(o)))


def did_you_mean(names: list[str], prefix: str = "") -> str:
    """`` Did you mean 'a', 'b', or 'c'?`` (empty without names; at most five)."""
    if not names:
        return ""
    quoted = [f"'{n}'" for n in names[:5]]
    if len(quoted) == 1:
        listed = quoted[0]
    elif len(quoted) == 2:
        listed = f"{quoted[0]} or {quoted[1]}"
    else:
        listed = ", ".join(quoted[:-1]) + f", or {quoted[-1]}"
    return f" Did you mean {prefix + ' ' if prefix else ''}{listed}?"


# Introspection: the schema described as __Schema/__Type/... objects (dicts keyed by their
# GraphQL field names; a value may be a function, called when the field is selected, so that
# types referring to each other are described only as deep as the query asks).


def _input_value(argument: Argument) -> dict[str, Any]:
    return {
        "name": argument.name,
        "description": None,
        "type": lambda: introspect_type(argument.type),
        "defaultValue": argument.default,
        "isDeprecated": False,
        "deprecationReason": None,
    }


def _field_object(definition: FieldDef) -> dict[str, Any]:
    return {
        "name": definition.name,
        "description": None,
        "args": lambda: [_input_value(a) for a in definition.args.values()],
        "type": lambda: introspect_type(definition.type),
        "isDeprecated": False,
        "deprecationReason": None,
    }


def introspect_type(ref: TypeRef, schema: Schema | None = None) -> dict[str, Any]:
    """A ``__Type`` object for *ref* (wrappers as LIST and NON_NULL types, as GraphQL does)."""
    found = schema or SCHEMA
    blank: dict[str, Any] = {
        "name": None,
        "description": None,
        "specifiedByURL": None,
        "fields": None,
        "interfaces": None,
        "possibleTypes": None,
        "enumValues": None,
        "inputFields": None,
        "ofType": None,
        "isOneOf": None,
    }
    if ref.non_null:
        inner = TypeRef(ref.name, ref.of, False)
        return {**blank, "kind": "NON_NULL", "ofType": lambda: introspect_type(inner, found)}
    if ref.of is not None:
        item = ref.of
        return {**blank, "kind": "LIST", "ofType": lambda: introspect_type(item, found)}
    t = found.types[ref.named]
    out = {**blank, "kind": t.kind, "name": t.name}
    if t.kind == "OBJECT":
        out["fields"] = lambda: [_field_object(f) for f in t.fields.values()]
        out["interfaces"] = []
    elif t.kind == "INPUT_OBJECT":
        out["inputFields"] = lambda: [
            _input_value(Argument(f.name, f.type, f.default)) for f in t.fields.values()
        ]
        out["isOneOf"] = False
    elif t.kind == "ENUM":
        out["enumValues"] = [
            {"name": v, "description": None, "isDeprecated": False, "deprecationReason": None}
            for v in t.values
        ]
    return out


def introspect_schema(schema: Schema | None = None) -> dict[str, Any]:
    """The ``__Schema`` object: every type in the schema's order, the roots, the directives."""
    found = schema or SCHEMA
    return {
        "description": None,
        "types": lambda: [introspect_type(TypeRef(name), found) for name in found.types],
        "queryType": lambda: introspect_type(TypeRef(found.query), found),
        "mutationType": lambda: introspect_type(TypeRef(found.mutation), found),
        "subscriptionType": None,
        "directives": [
            {
                "name": name,
                "description": None,
                "isRepeatable": False,
                "locations": locations,
                "args": [_input_value(a) for a in arguments.values()],
            }
            for name, (locations, arguments) in found.directives.items()
        ],
    }
