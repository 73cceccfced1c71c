// Every server call the UI makes, in one place.

import { PACKED_SERIES_MEDIA_TYPE, decodePackedSeries } from "../lib/packedSeries";
import { API, ApiError, MLTRAIL_API, get, post, postForBytes, request } from "./client";
import type * as G from "./generated";
import type {
  Experiment,
  ListArtifactsResponse,
  ListLoggedModelArtifactsResponse,
  LoggedModel,
  Metric,
  MetricHistoryResponse,
  MetricSeries,
  MetricSeriesResponse,
  MetricSummary,
  ModelVersion,
  RegisteredModel,
  Run,
  SearchExperimentsResponse,
  SearchLoggedModelsResponse,
  SearchModelVersionsResponse,
  SearchRegisteredModelsResponse,
  SearchRunsRequest,
  SearchRunsResponse,
  ViewType,
  WireNumber,
} from "./types";

// --- Experiments ------------------------------------------------------------------------------

export async function searchExperiments(
  viewType: ViewType = "ACTIVE_ONLY",
  filter?: string,
  signal?: AbortSignal,
): Promise<Experiment[]> {
  const out: Experiment[] = [];
  let token: string | undefined;
  do {
    const r = await post<SearchExperimentsResponse>(
      `${API}/experiments/search`,
      { max_results: 1000, view_type: viewType, filter, order_by: ["name ASC"], page_token: token } satisfies G.PostMlflowExperimentsSearchRequest,
      signal,
    );
    out.push(...(r.experiments ?? []));
    token = r.next_page_token || undefined;
  } while (token && out.length < 20000);
  return out;
}

export const getExperiment = (id: string, signal?: AbortSignal) =>
  get<{ experiment: Experiment }>(`${API}/experiments/get`, { experiment_id: id } satisfies G.GetMlflowExperimentsGetQuery, signal).then(
    (r) => r.experiment,
  );
export const createExperiment = (name: string) =>
  post<G.PostMlflowExperimentsCreateResponse>(`${API}/experiments/create`, { name } satisfies G.PostMlflowExperimentsCreateRequest).then(
    (r) => {
      if (!r.experiment_id) throw new ApiError(200, "INVALID_RESPONSE", "The server's answer holds no experiment_id");
      return r.experiment_id;
    },
  );
export const renameExperiment = (id: string, newName: string) =>
  post(`${API}/experiments/update`, { experiment_id: id, new_name: newName } satisfies G.PostMlflowExperimentsUpdateRequest);
export const deleteExperiment = (id: string) =>
  post(`${API}/experiments/delete`, { experiment_id: id } satisfies G.PostMlflowExperimentsDeleteRequest);
export const restoreExperiment = (id: string) =>
  post(`${API}/experiments/restore`, { experiment_id: id } satisfies G.PostMlflowExperimentsRestoreRequest);

// --- Runs -------------------------------------------------------------------------------------

export const searchRuns = (req: SearchRunsRequest, signal?: AbortSignal) =>
  post<SearchRunsResponse>(`${API}/runs/search`, req, signal);
export const getRun = (id: string, signal?: AbortSignal) =>
  get<{ run: Run }>(`${API}/runs/get`, { run_id: id } satisfies G.GetMlflowRunsGetQuery, signal).then((r) => r.run);
export const deleteRun = (id: string) => post(`${API}/runs/delete`, { run_id: id } satisfies G.PostMlflowRunsDeleteRequest);
export const restoreRun = (id: string) => post(`${API}/runs/restore`, { run_id: id } satisfies G.PostMlflowRunsRestoreRequest);
export const setRunTag = (id: string, key: string, value: string) =>
  post(`${API}/runs/set-tag`, { run_id: id, key, value } satisfies G.PostMlflowRunsSetTagRequest);
export const deleteRunTag = (id: string, key: string) =>
  post(`${API}/runs/delete-tag`, { run_id: id, key } satisfies G.PostMlflowRunsDeleteTagRequest);
export const renameRun = (id: string, name: string) =>
  post(`${API}/runs/update`, { run_id: id, run_name: name } satisfies G.PostMlflowRunsUpdateRequest);
/** mltrail extension: move runs to another experiment. */
export const moveRuns = (runIds: string[], experimentId: string) =>
  post(`${MLTRAIL_API}/runs/move`, { run_ids: runIds, experiment_id: experimentId } satisfies G.PostMltrailRunsMoveRequest);

// --- Metric series ----------------------------------------------------------------------------

export function toNumber(v: WireNumber | null | undefined): number {
  if (typeof v === "number") return v;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return NaN;
}

let seriesEndpointMissing = false;
let packedEndpointMissing = false;
const SERIES_MAX_RUNS = 1000;
const SERIES_MAX_KEYS = 100;

export interface SeriesRequest {
  runIds: string[];
  keys: string[];
  maxBuckets: number;
  startStep?: number | undefined;
  endStep?: number | undefined;
  /** The per-bucket lists wanted besides steps (default all); absent ones come back empty or as `last`. */
  fields?: SeriesField[] | undefined;
}

export type SeriesField = "timestamps" | "last" | "min" | "max";

/** One series request: packed float64 arrays (no number as text), or JSON from an older server. */
async function seriesCall(body: G.PostMltrailMetricsSeriesPackedRequest, signal?: AbortSignal): Promise<MetricSeries[]> {
  if (!packedEndpointMissing) {
    return decodePackedSeries(await postForBytes(`${MLTRAIL_API}/metrics/series-packed`, body, PACKED_SERIES_MEDIA_TYPE, signal));
  }
  const r = await post<MetricSeriesResponse>(`${MLTRAIL_API}/metrics/series`, body satisfies G.PostMltrailMetricsSeriesRequest, signal);
  if (!body.fields) return r.series;
  return r.series.map((s) => ({ ...s, timestamps: s.timestamps ?? [], min: s.min ?? s.last, max: s.max ?? s.last }));
}

/**
 * Reduced series for charts. Uses the bulk bucketed endpoint when the server has it, else
 * MLflow's get-history-bulk-interval (one key, up to 100 runs, max_results points per run):
 * never a whole long history.
 */
export async function metricSeries(req: SeriesRequest, signal?: AbortSignal): Promise<MetricSeries[]> {
  if (!packedEndpointMissing || !seriesEndpointMissing) {
    try {
      // The server takes at most 1000 runs and 100 keys per request.
      const calls: Promise<MetricSeries[]>[] = [];
      for (let i = 0; i < req.runIds.length; i += SERIES_MAX_RUNS) {
        for (let j = 0; j < req.keys.length; j += SERIES_MAX_KEYS) {
          const body = {
            run_ids: req.runIds.slice(i, i + SERIES_MAX_RUNS),
            metric_keys: req.keys.slice(j, j + SERIES_MAX_KEYS),
            max_buckets: req.maxBuckets,
            start_step: req.startStep,
            end_step: req.endStep,
            fields: req.fields,
          } satisfies G.PostMltrailMetricsSeriesPackedRequest;
          calls.push(seriesCall(body, signal));
        }
      }
      return (await Promise.all(calls)).flat();
    } catch (e) {
      // A missing endpoint (an older or a non-mltrail server), not a missing run.
      const missing = e instanceof ApiError && (e.isMissingEndpoint || e.status === 405 || (e.status === 404 && e.code !== "RESOURCE_DOES_NOT_EXIST"));
      if (!missing) throw e;
      if (packedEndpointMissing) seriesEndpointMissing = true;
      else packedEndpointMissing = true;
      if (!seriesEndpointMissing) return metricSeries(req, signal);
    }
  }
  const out: MetricSeries[] = [];
  const maxResults = Math.max(1, Math.min(2500, Math.round(req.maxBuckets)));
  for (const key of req.keys) {
    for (let i = 0; i < req.runIds.length; i += 100) {
      const chunk = req.runIds.slice(i, i + 100);
      const r = await get<{ metrics?: Metric[] }>(
        `${API}/metrics/get-history-bulk-interval`,
        {
          run_ids: chunk,
          metric_key: key,
          max_results: maxResults,
          start_step: req.startStep,
          end_step: req.endStep,
        } satisfies G.GetMlflowMetricsGetHistoryBulkIntervalQuery,
        signal,
      );
      const byRun = new Map<string, Metric[]>();
      for (const m of r.metrics ?? []) {
        const id = m.run_id ?? "";
        let list = byRun.get(id);
        if (!list) byRun.set(id, (list = []));
        list.push(m);
      }
      for (const id of chunk) {
        const points = (byRun.get(id) ?? []).sort((a, b) => (a.step ?? 0) - (b.step ?? 0));
        const values = points.map((p) => p.value);
        out.push({
          run_id: id,
          key,
          exact: false,
          count: points.length,
          steps: points.map((p) => p.step ?? 0),
          timestamps: points.map((p) => p.timestamp),
          last: values,
          min: values,
          max: values,
        });
      }
    }
  }
  return out;
}

/**
 * Latest, min, max and count of metrics of runs: each series reduced to one bucket on the
 * server (its last point, and the min and max over the whole history). Keyed by run id, then key.
 */
export async function metricSummaries(
  runIds: string[],
  keys: string[],
  signal?: AbortSignal,
): Promise<Map<string, Map<string, MetricSummary>>> {
  const out = new Map<string, Map<string, MetricSummary>>();
  if (!runIds.length || !keys.length) return out;
  for (const s of await metricSeries({ runIds, keys, maxBuckets: 1 }, signal)) {
    const n = s.last.length;
    if (!n) continue;
    let byKey = out.get(s.run_id);
    if (!byKey) out.set(s.run_id, (byKey = new Map()));
    const nums = (xs: WireNumber[]) => xs.map(toNumber).filter((v) => !Number.isNaN(v));
    const lows = nums(s.min);
    const highs = nums(s.max);
    byKey.set(s.key, {
      key: s.key,
      latest: s.last[n - 1]!,
      min: lows.length ? Math.min(...lows) : "NaN",
      max: highs.length ? Math.max(...highs) : "NaN",
      count: s.count ?? n,
      step: s.steps[n - 1],
    });
  }
  return out;
}

/** A short history (e.g. for a table cell); pages up to `limit` points at most. */
export async function metricHistory(runId: string, key: string, limit = 10000): Promise<Metric[]> {
  const out: Metric[] = [];
  let token: string | undefined;
  do {
    const r = await get<MetricHistoryResponse>(`${API}/metrics/get-history`, {
      run_id: runId,
      metric_key: key,
      max_results: Math.min(limit, 25000),
      page_token: token,
    } satisfies G.GetMlflowMetricsGetHistoryQuery);
    out.push(...(r.metrics ?? []));
    token = r.next_page_token || undefined;
  } while (token && out.length < limit);
  return out;
}

// --- Artifacts --------------------------------------------------------------------------------

export async function listArtifacts(runId: string, path: string, signal?: AbortSignal) {
  const files: NonNullable<ListArtifactsResponse["files"]> = [];
  let token: string | undefined;
  let root: string | undefined;
  do {
    const r = await get<ListArtifactsResponse>(
      `${API}/artifacts/list`,
      { run_id: runId, path: path || undefined, page_token: token } satisfies G.GetMlflowArtifactsListQuery,
      signal,
    );
    root = r.root_uri;
    files.push(...(r.files ?? []));
    token = r.next_page_token || undefined;
  } while (token);
  return { root, files };
}

/** URL of one artifact file (MLflow's UI route `/get-artifact`, served by any artifact store). */
export function artifactUrl(runId: string, path: string): string {
  return `/get-artifact?path=${encodeURIComponent(path)}&run_uuid=${encodeURIComponent(runId)}`;
}

// --- Registry ---------------------------------------------------------------------------------

export async function searchRegisteredModels(filter?: string, signal?: AbortSignal) {
  const out: RegisteredModel[] = [];
  let token: string | undefined;
  do {
    const r = await get<SearchRegisteredModelsResponse>(
      `${API}/registered-models/search`,
      { filter: filter || undefined, max_results: 1000, page_token: token, order_by: ["name ASC"] } satisfies G.GetMlflowRegisteredModelsSearchQuery,
      signal,
    );
    out.push(...(r.registered_models ?? []));
    token = r.next_page_token || undefined;
  } while (token && out.length < 20000);
  return out;
}

export const getRegisteredModel = (name: string, signal?: AbortSignal) =>
  get<{ registered_model: RegisteredModel }>(`${API}/registered-models/get`, { name } satisfies G.GetMlflowRegisteredModelsGetQuery, signal).then(
    (r) => r.registered_model,
  );
export const createRegisteredModel = (name: string) =>
  post<{ registered_model: RegisteredModel }>(`${API}/registered-models/create`, { name } satisfies G.PostMlflowRegisteredModelsCreateRequest);
export const updateRegisteredModel = (name: string, description: string) =>
  request("PATCH", `${API}/registered-models/update`, { name, description } satisfies G.PatchMlflowRegisteredModelsUpdateRequest);
export const setModelTag = (name: string, key: string, value: string) =>
  post(`${API}/registered-models/set-tag`, { name, key, value } satisfies G.PostMlflowRegisteredModelsSetTagRequest);
export const deleteModelTag = (name: string, key: string) =>
  request("DELETE", `${API}/registered-models/delete-tag`, { name, key } satisfies G.DeleteMlflowRegisteredModelsDeleteTagRequest);
export const setAlias = (name: string, alias: string, version: string) =>
  post(`${API}/registered-models/alias`, { name, alias, version } satisfies G.PostMlflowRegisteredModelsAliasRequest);
export const deleteAlias = (name: string, alias: string) =>
  request("DELETE", `${API}/registered-models/alias`, { name, alias } satisfies G.DeleteMlflowRegisteredModelsAliasRequest);

export async function searchModelVersions(filter: string, signal?: AbortSignal) {
  const out: ModelVersion[] = [];
  let token: string | undefined;
  do {
    const r = await get<SearchModelVersionsResponse>(
      `${API}/model-versions/search`,
      { filter, max_results: 1000, page_token: token } satisfies G.GetMlflowModelVersionsSearchQuery,
      signal,
    );
    out.push(...(r.model_versions ?? []));
    token = r.next_page_token || undefined;
  } while (token && out.length < 20000);
  return out;
}

export const getModelVersion = (name: string, version: string, signal?: AbortSignal) =>
  get<{ model_version: ModelVersion }>(`${API}/model-versions/get`, { name, version } satisfies G.GetMlflowModelVersionsGetQuery, signal).then(
    (r) => r.model_version,
  );
/** A new version from a run's model folder, or (with `modelId`, MLflow 3) from a logged model. */
export const createModelVersion = (name: string, source: string, runId: string, modelId?: string) =>
  post<{ model_version: ModelVersion }>(`${API}/model-versions/create`, {
    name,
    source,
    run_id: runId,
    model_id: modelId,
  } satisfies G.PostMlflowModelVersionsCreateRequest).then((r) => r.model_version);
export const updateModelVersion = (name: string, version: string, description: string) =>
  request("PATCH", `${API}/model-versions/update`, { name, version, description } satisfies G.PatchMlflowModelVersionsUpdateRequest);
export const transitionStage = (name: string, version: string, stage: string, archive: boolean) =>
  post(`${API}/model-versions/transition-stage`, {
    name,
    version,
    stage,
    archive_existing_versions: archive,
  } satisfies G.PostMlflowModelVersionsTransitionStageRequest);
export const setVersionTag = (name: string, version: string, key: string, value: string) =>
  post(`${API}/model-versions/set-tag`, { name, version, key, value } satisfies G.PostMlflowModelVersionsSetTagRequest);
export const deleteVersionTag = (name: string, version: string, key: string) =>
  request("DELETE", `${API}/model-versions/delete-tag`, { name, version, key } satisfies G.DeleteMlflowModelVersionsDeleteTagRequest);

// --- Logged models (MLflow 3) -----------------------------------------------------------------

/** The most logged models a page lists (newest first). */
export const MAX_LOGGED_MODELS = 5000;

/** Logged models of experiments, newest first, page by page up to `limit`. */
export async function searchLoggedModels(
  experimentIds: string[],
  filter?: string,
  signal?: AbortSignal,
  limit = MAX_LOGGED_MODELS,
): Promise<{ models: LoggedModel[]; more: boolean }> {
  const models: LoggedModel[] = [];
  let token: string | undefined;
  do {
    const r = await post<SearchLoggedModelsResponse>(
      `${API}/logged-models/search`,
      {
        experiment_ids: experimentIds,
        filter: filter || undefined,
        max_results: Math.min(100, limit - models.length),
        order_by: [{ field_name: "creation_timestamp", ascending: false }],
        page_token: token,
      } satisfies G.PostMlflowLoggedModelsSearchRequest,
      signal,
    );
    models.push(...(r.models ?? []));
    token = r.next_page_token || undefined;
  } while (token && models.length < limit);
  return { models, more: !!token };
}

const loggedModelPath = (id: string) => `${API}/logged-models/${encodeURIComponent(id)}`;

export const getLoggedModel = (id: string, signal?: AbortSignal) =>
  get<{ model: LoggedModel }>(loggedModelPath(id), {} satisfies G.GetMlflowLoggedModelsModelIdQuery, signal).then((r) => r.model);

/** The direct children of a folder of a logged model's artifacts (the server lists them all). */
export async function listLoggedModelArtifacts(id: string, path: string, signal?: AbortSignal) {
  const r = await get<ListLoggedModelArtifactsResponse>(
    `${loggedModelPath(id)}/artifacts/directories`,
    { artifact_directory_path: path || undefined } satisfies G.GetMlflowLoggedModelsModelIdArtifactsDirectoriesQuery,
    signal,
  );
  return { root: r.root_uri, files: r.files ?? [] };
}

/** URL of one file of a logged model. */
export function loggedModelArtifactUrl(id: string, path: string): string {
  return `${loggedModelPath(id)}/artifacts/files?artifact_file_path=${encodeURIComponent(path)}`;
}
