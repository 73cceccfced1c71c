// Wire types of the tracking server's REST API (MLflow's JSON shapes plus mltrail's extensions).

export type RunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";
export type ViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";
export type LifecycleStage = "active" | "deleted";

export interface KeyValue {
  key: string;
  value: string;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: LifecycleStage;
  last_update_time?: number;
  creation_time?: number;
  tags?: KeyValue[];
}

/** A metric value; MLflow sends NaN and the infinities as strings. */
export type WireNumber = number | "NaN" | "Infinity" | "-Infinity";

export interface Metric {
  key: string;
  value: WireNumber;
  timestamp: number;
  step?: number;
  run_id?: string;
}

/** Latest, min, max and count of one metric of a run (from a one-bucket series request). */
export interface MetricSummary {
  key: string;
  latest: WireNumber;
  min: WireNumber;
  max: WireNumber;
  count: number;
  step?: number;
}

export interface RunInfo {
  run_id: string;
  run_uuid?: string;
  run_name?: string;
  experiment_id: string;
  user_id?: string;
  status: RunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage: LifecycleStage;
}

export interface Dataset {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
}

export interface DatasetInput {
  tags?: KeyValue[];
  dataset: Dataset;
}

export interface RunData {
  metrics?: Metric[];
  params?: KeyValue[];
  tags?: KeyValue[];
  /** Filled in by the UI (see `metricSummaries`), not sent by the server. */
  metric_summaries?: MetricSummary[];
}

export interface Run {
  info: RunInfo;
  data: RunData;
  inputs?: { dataset_inputs?: DatasetInput[] };
}

export interface SearchRunsRequest {
  experiment_ids: string[];
  filter?: string;
  run_view_type?: ViewType;
  max_results?: number;
  order_by?: string[];
  page_token?: string;
}

export interface SearchRunsResponse {
  runs?: Run[];
  next_page_token?: string;
}

export interface SearchExperimentsResponse {
  experiments?: Experiment[];
  next_page_token?: string;
}

export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

export interface ListArtifactsResponse {
  root_uri?: string;
  files?: FileInfo[];
  next_page_token?: string;
}

export interface MetricHistoryResponse {
  metrics?: Metric[];
  next_page_token?: string;
}

/**
 * mltrail extension (issue 3 item 6), columnar: one entry per (run, key), reduced on the server
 * to at most `max_buckets` buckets over [start_step, end_step]; `exact` when not reduced.
 */
export interface MetricSeries {
  run_id: string;
  key: string;
  exact: boolean;
  count?: number;
  steps: number[];
  timestamps: number[];
  last: WireNumber[];
  min: WireNumber[];
  max: WireNumber[];
}

export interface MetricSeriesResponse {
  series: MetricSeries[];
}

// --- Registry -------------------------------------------------------------------------------

export type ModelVersionStatus = "PENDING_REGISTRATION" | "READY" | "FAILED_REGISTRATION";

export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  current_stage?: string;
  description?: string;
  source?: string;
  run_id?: string;
  run_link?: string;
  status?: ModelVersionStatus;
  status_message?: string;
  tags?: KeyValue[];
  aliases?: string[];
}

export interface RegisteredModelAlias {
  alias: string;
  version: string;
}

export interface RegisteredModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  description?: string;
  latest_versions?: ModelVersion[];
  tags?: KeyValue[];
  aliases?: RegisteredModelAlias[];
}

export interface SearchRegisteredModelsResponse {
  registered_models?: RegisteredModel[];
  next_page_token?: string;
}

export interface SearchModelVersionsResponse {
  model_versions?: ModelVersion[];
  next_page_token?: string;
}

export interface ErrorBody {
  error_code: string;
  message: string;
}
