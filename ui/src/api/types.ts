// The wire shapes the UI uses, named from the types generated out of the server's OpenAPI
// document (./generated.ts, written by scripts/gen_ui_api_types.py).
//
// The schema declares almost every field optional (MLflow's JSON leaves empty fields out);
// `Narrow` marks the few the UI relies on as present, or gives them a narrower type, and the
// compiler checks each such type against the schema's: a field renamed, removed or retyped on
// the server breaks `npm run typecheck` here instead of the page at run time.

import type * as G from "./generated";

/** The element type of an (optional) array type. */
type Item<T> = NonNullable<T> extends readonly (infer U)[] ? U : never;
/** The type of a property of an (optional) object type, made present. */
type Prop<T, K extends keyof NonNullable<T>> = NonNullable<NonNullable<T>[K]>;
/**
 * T with the properties of P in place of its own: every key of P must be one of T's and every
 * type in P assignable to T's (so narrowing, or making a field required, is all it can do).
 */
type Narrow<T, P extends { [K in keyof P]: K extends keyof T ? T[K] : never }> = Omit<T, keyof P> & P;

type WireRun = Item<G.PostMlflowRunsSearchResponse["runs"]>;
type WireRunData = Prop<WireRun, "data">;
type WireDatasetInput = Item<Prop<WireRun, "inputs">["dataset_inputs"]>;
type WireModel = Prop<G.GetMlflowRegisteredModelsGetResponse, "registered_model">;

export type RunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";
export type ViewType = NonNullable<G.PostMlflowRunsSearchRequest["run_view_type"]>;
export type LifecycleStage = "active" | "deleted";

export type KeyValue = Narrow<Item<WireRunData["tags"]>, { key: string; value: string }>;

export type Experiment = Narrow<
  Item<G.PostMlflowExperimentsSearchResponse["experiments"]>,
  { experiment_id: string; name: string; lifecycle_stage: LifecycleStage; tags?: KeyValue[] }
>;

/** A metric value; MLflow sends NaN and the infinities as strings. */
export type WireNumber = Prop<Item<WireRunData["metrics"]>, "value">;

export type Metric = Narrow<Item<WireRunData["metrics"]>, { key: string; value: WireNumber; timestamp: number }>;

/** Latest, min, max and count of one metric of a run (made by the UI from a one-bucket series). */
export interface MetricSummary {
  key: string;
  latest: WireNumber;
  min: WireNumber;
  max: WireNumber;
  count: number;
  step?: number | undefined;
}

export type RunInfo = Narrow<
  Prop<WireRun, "info">,
  { run_id: string; experiment_id: string; status: RunStatus; lifecycle_stage: LifecycleStage }
>;

export type Dataset = Narrow<
  Prop<WireDatasetInput, "dataset">,
  { name: string; digest: string; source_type: string; source: string }
>;

export type DatasetInput = Narrow<WireDatasetInput, { tags?: KeyValue[]; dataset: Dataset }>;

export type RunData = Narrow<WireRunData, { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] }> & {
  /** Filled in by the UI (see `metricSummaries`), not sent by the server. */
  metric_summaries?: MetricSummary[];
};

/** MLflow 3: a logged model the run produced (`runs/outputs`), at a step. */
export type ModelOutput = Narrow<Item<Prop<WireRun, "outputs">["model_outputs"]>, { model_id: string }>;

export type Run = Narrow<
  WireRun,
  {
    info: RunInfo;
    data: RunData;
    inputs?: Narrow<Prop<WireRun, "inputs">, { dataset_inputs?: DatasetInput[] }>;
    outputs?: { model_outputs?: ModelOutput[] };
  }
>;

export type SearchRunsRequest = Narrow<G.PostMlflowRunsSearchRequest, { experiment_ids: string[] }>;
export type SearchRunsResponse = Narrow<G.PostMlflowRunsSearchResponse, { runs?: Run[] }>;
export type SearchExperimentsResponse = Narrow<G.PostMlflowExperimentsSearchResponse, { experiments?: Experiment[] }>;

export type FileInfo = Narrow<Item<G.GetMlflowArtifactsListResponse["files"]>, { path: string; is_dir: boolean }>;
export type ListArtifactsResponse = Narrow<G.GetMlflowArtifactsListResponse, { files?: FileInfo[] }>;

export type MetricHistoryResponse = Narrow<G.GetMlflowMetricsGetHistoryResponse, { metrics?: Metric[] }>;

/**
 * mltrail extension, columnar: one entry per (run, key), reduced on the server to at most
 * `max_buckets` buckets over [start_step, end_step]; `exact` when not reduced.
 */
export type MetricSeries = Narrow<
  Item<G.PostMltrailMetricsSeriesResponse["series"]>,
  {
    run_id: string;
    key: string;
    exact: boolean;
    steps: number[];
    timestamps: number[];
    last: WireNumber[];
    min: WireNumber[];
    max: WireNumber[];
  }
>;
export type MetricSeriesResponse = Narrow<G.PostMltrailMetricsSeriesResponse, { series: MetricSeries[] }>;

// --- Registry -------------------------------------------------------------------------------

export type ModelVersionStatus = "PENDING_REGISTRATION" | "READY" | "FAILED_REGISTRATION";

export type ModelVersion = Narrow<
  Prop<G.GetMlflowModelVersionsGetResponse, "model_version">,
  { name: string; version: string; status?: ModelVersionStatus; tags?: KeyValue[] }
>;

export type RegisteredModelAlias = Narrow<Item<WireModel["aliases"]>, { alias: string; version: string }>;

export type RegisteredModel = Narrow<
  WireModel,
  { name: string; latest_versions?: ModelVersion[]; tags?: KeyValue[]; aliases?: RegisteredModelAlias[] }
>;

export type SearchRegisteredModelsResponse = Narrow<
  G.GetMlflowRegisteredModelsSearchResponse,
  { registered_models?: RegisteredModel[] }
>;
export type SearchModelVersionsResponse = Narrow<G.GetMlflowModelVersionsSearchResponse, { model_versions?: ModelVersion[] }>;

// --- Logged models (MLflow 3) ----------------------------------------------------------------

type WireLoggedModel = Prop<G.GetMlflowLoggedModelsModelIdResponse, "model">;
export type LoggedModelStatus = NonNullable<Prop<WireLoggedModel, "info">["status"]>;

export type LoggedModelInfo = Narrow<
  Prop<WireLoggedModel, "info">,
  { model_id: string; experiment_id: string; name: string; tags?: KeyValue[] }
>;

export type LoggedModelMetric = Narrow<
  Item<Prop<WireLoggedModel, "data">["metrics"]>,
  { key: string; value: WireNumber }
>;

export type LoggedModel = Narrow<
  WireLoggedModel,
  { info: LoggedModelInfo; data?: { params?: KeyValue[]; metrics?: LoggedModelMetric[] } }
>;

export type SearchLoggedModelsResponse = Narrow<G.PostMlflowLoggedModelsSearchResponse, { models?: LoggedModel[] }>;
export type ListLoggedModelArtifactsResponse = Narrow<
  G.GetMlflowLoggedModelsModelIdArtifactsDirectoriesResponse,
  { files?: FileInfo[] }
>;

export type ErrorBody = G.ErrorSchema;
