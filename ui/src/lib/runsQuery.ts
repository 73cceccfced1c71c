// The runs request of an experiment's table, from the view in the URL, and its first page
// started as early as possible: by the inline script of index.html while the app still loads
// (for the page the browser opened), or by a click on a column header before React re-renders.
// The page takes over a request already under way for the same body instead of asking again.

import { getRun, searchRuns } from "../api/endpoints";
import type { Run, SearchRunsRequest, SearchRunsResponse, ViewType } from "../api/types";
import { columnsFromIds } from "./columns";
import type { ViewState } from "./urlState";

export const FIRST_PAGE = 100;

const VIEW_TYPES: Record<ViewState["view"], ViewType> = { active: "ACTIVE_ONLY", deleted: "DELETED_ONLY", all: "ALL" };

/** The search of the runs table of experiments `ids` for a view (without paging). */
export function runsQuery(ids: string[], view: ViewState): SearchRunsRequest {
  const column = columnsFromIds([view.sort.column])[0];
  const order = column?.orderBy ? [`${column.orderBy} ${view.sort.desc ? "DESC" : "ASC"}`] : [];
  return {
    experiment_ids: ids,
    filter: view.filter || undefined,
    run_view_type: VIEW_TYPES[view.view],
    order_by: order,
  } as SearchRunsRequest;
}

/** The body of the first page's request (the key of a request under way). */
export const firstPageBody = (query: SearchRunsRequest): SearchRunsRequest => ({ ...query, max_results: FIRST_PAGE });

/** What the inline script of index.html leaves: the body it sent and the response's text. */
interface Prefetched {
  body: string;
  response: Promise<Response>;
}

declare global {
  interface Window {
    __mltrailRunsPrefetch?: Prefetched | undefined;
    __mltrailRunPrefetch?: { id: string; response: Promise<Response> } | undefined;
  }
}

/** The run of a run's page: the one index.html asked for while the app loaded, else a request. */
export function runOfPage(runId: string, signal: AbortSignal): Promise<Run> {
  const early = window.__mltrailRunPrefetch;
  window.__mltrailRunPrefetch = undefined; // for the first page load only
  if (!early || early.id !== runId) return getRun(runId, signal);
  return early.response.then(async (r) => {
    if (!r.ok) return getRun(runId, signal); // the page's own request reports the error
    return ((await r.json()) as { run: Run }).run;
  }, () => getRun(runId, signal));
}

const underWay = new Map<string, Promise<SearchRunsResponse>>();

/** Start the first page of `query` now (kept until the page asks for it). */
export function startFirstPage(query: SearchRunsRequest): void {
  const body = firstPageBody(query);
  const key = JSON.stringify(body);
  if (underWay.has(key)) return;
  underWay.clear(); // only the latest click's page is wanted
  const p = searchRuns(body);
  p.catch(() => undefined); // an error is the page's to show, when it asks
  underWay.set(key, p);
}

/** The first page of `query`: one under way for the same body if any, else a new request. */
export function firstPage(query: SearchRunsRequest, signal: AbortSignal): Promise<SearchRunsResponse> {
  const body = firstPageBody(query);
  const key = JSON.stringify(body);
  const early = window.__mltrailRunsPrefetch;
  if (early) {
    window.__mltrailRunsPrefetch = undefined; // for the first page load only
    if (early.body === key) {
      return early.response.then(async (r) => {
        if (!r.ok) return searchRuns(body, signal); // the page's own request reports the error
        return (await r.json()) as SearchRunsResponse;
      }, () => searchRuns(body, signal));
    }
  }
  const started = underWay.get(key);
  if (started) {
    underWay.delete(key);
    return started;
  }
  return searchRuns(body, signal);
}
