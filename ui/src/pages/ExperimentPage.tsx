import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, isAbort } from "../api/client";
import { deleteRun, metricSummaries, moveRuns, restoreRun, searchRuns } from "../api/endpoints";
import type { MetricSummary, Run, SearchRunsRequest } from "../api/types";
import { ColumnChooser } from "../components/ColumnChooser";
import { ErrorBox, Empty, Loading } from "../components/common";
import { FilterBox } from "../components/FilterBox";
import { ExperimentTabs } from "./LoggedModels";
import { RunsTable } from "../components/RunsTable";
import { type Column, columnsFromIds, defaultColumnIds } from "../lib/columns";
import { reloadExperiments, useExperiments } from "../lib/experiments";
import { download, runsToCsv } from "../lib/export";
import { useInterval } from "../lib/hooks";
import { isEvaluation } from "../lib/evaluation";
import { keysOfRuns, valuesOf } from "../lib/runKeys";
import { enc, navigate, useLocation } from "../lib/router";
import { FIRST_PAGE, firstPage, runsQuery, startFirstPage } from "../lib/runsQuery";
import { type ViewState, formatView, parseView } from "../lib/urlState";

const NEXT_PAGE = 500;
const LIVE_MS = 3000;

const EMPTY_SUMMARIES = new Map<string, Map<string, MetricSummary>>();

/** Runs with their min/max summaries attached (for the min and max columns). */
function withSummaries(runs: Run[], summaries: Map<string, Map<string, MetricSummary>>): Run[] {
  return runs.map((r) => {
    const s = summaries.get(r.info.run_id);
    return s ? { ...r, data: { ...r.data, metric_summaries: [...s.values()] } } : r;
  });
}

interface RunsState {
  runs: Run[];
  token: string | undefined;
  loading: boolean;
  error: unknown;
  done: boolean; // first page arrived
}

export function ExperimentPage({ idsParam }: { idsParam: string }) {
  const loc = useLocation();
  const view = useMemo(() => parseView(loc.search), [loc.search]);
  const exps = useExperiments();
  const ids = useMemo(() => {
    if (idsParam === "all") return exps.loaded ? exps.all.filter((e) => e.lifecycle_stage === "active").map((e) => e.experiment_id) : null;
    return idsParam.split(",").filter(Boolean);
  }, [idsParam, exps.loaded, exps.all]);

  const setView = useCallback(
    (patch: Partial<ViewState>, push = false) => {
      navigate(loc.path + formatView(patch, loc.search), { replace: !push });
    },
    [loc.path, loc.search],
  );

  const explicitColumns = loc.search.has("cols");

  // --- Runs, page by page ----------------------------------------------------------------------
  const [state, setState] = useState<RunsState>({ runs: [], token: undefined, loading: true, error: null, done: false });
  const query = useMemo(
    (): SearchRunsRequest | null => (ids ? runsQuery(ids, view) : null),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [ids, view.filter, view.view, view.sort.column, view.sort.desc],
  );
  const queryKey = JSON.stringify(query);
  const ctl = useRef<AbortController | null>(null);
  const [fetchMs, setFetchMs] = useState<number | null>(null);

  useEffect(() => {
    if (!query) return;
    ctl.current?.abort();
    const c = new AbortController();
    ctl.current = c;
    setState((s) => ({ ...s, loading: true, error: null }));
    const t0 = performance.now();
    firstPage(query, c.signal).then(
      (r) => {
        if (c.signal.aborted) return;
        setFetchMs(performance.now() - t0);
        setState({ runs: r.runs ?? [], token: r.next_page_token || undefined, loading: false, error: null, done: true });
      },
      (error: unknown) => {
        if (c.signal.aborted || isAbort(error)) return;
        setState({ runs: [], token: undefined, loading: false, error, done: true });
      },
    );
    return () => c.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [queryKey]);

  const loadMore = useCallback(() => {
    if (!query || state.loading || !state.token) return;
    const c = ctl.current;
    const token = state.token;
    setState((s) => ({ ...s, loading: true }));
    searchRuns({ ...query, max_results: NEXT_PAGE, page_token: token }, c?.signal).then(
      (r) => {
        if (c?.signal.aborted) return;
        setState((s) => ({ ...s, runs: [...s.runs, ...(r.runs ?? [])], token: r.next_page_token || undefined, loading: false }));
      },
      (error: unknown) => {
        if (c?.signal.aborted || isAbort(error)) return;
        setState((s) => ({ ...s, loading: false, error }));
      },
    );
  }, [query, state.loading, state.token]);

  // --- Live updates of running runs -------------------------------------------------------------
  const [now, setNow] = useState(() => Date.now());
  const running = useMemo(() => state.runs.filter((r) => r.info.status === "RUNNING").map((r) => r.info.run_id), [state.runs]);
  useInterval(
    () => {
      if (!ids || !running.length || document.hidden) return;
      setNow(Date.now());
      const chunk = running.slice(0, 100);
      searchRuns({
        experiment_ids: ids,
        filter: `attributes.run_id IN (${chunk.map((id) => `'${id}'`).join(", ")})`,
        run_view_type: "ALL",
        max_results: chunk.length,
      }).then(
        (r) => {
          const fresh = new Map((r.runs ?? []).map((x) => [x.info.run_id, x]));
          if (!fresh.size) return;
          setState((s) => ({ ...s, runs: s.runs.map((x) => fresh.get(x.info.run_id) ?? x) }));
        },
        () => undefined,
      );
    },
    running.length ? LIVE_MS : null,
  );

  // --- Keys for autocomplete and columns: those of the runs loaded so far ----------------------
  const keys = useMemo(() => keysOfRuns(state.runs.slice(0, 2000)), [state.runs]);
  const values = useCallback((field: string) => valuesOf(state.runs, field), [state.runs]);

  // Without columns in the URL: the name and status, the first few params (those that differ
  // first) and metrics seen, then the times, user and source (lib/columns.defaultColumnIds).
  // Runs of several experiments: which one each belongs to, right after the run's name.
  const several = idsParam === "all" || (ids?.length ?? 0) > 1;
  const columnIds = useMemo(
    () => (explicitColumns ? view.columns : defaultColumnIds(view.columns, keys, state.runs.slice(0, 2000), { several })),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [explicitColumns, view.columns, keys, several],
  );
  const columns = useMemo(() => columnsFromIds(columnIds), [columnIds]);

  // --- Min and max columns: one-bucket series of the loaded runs, fetched when shown ------------
  const rangeKeys = useMemo(
    () => [...new Set(columns.filter((c) => c.kind === "metricmin" || c.kind === "metricmax").map((c) => c.key))],
    [columns],
  );
  const rangeKeyList = rangeKeys.join(",");
  const [summaryState, setSummaryState] = useState<{ keys: string; map: Map<string, Map<string, MetricSummary>> }>(
    () => ({ keys: "", map: new Map() }),
  );
  const summaries = summaryState.keys === rangeKeyList ? summaryState.map : EMPTY_SUMMARIES;
  useEffect(() => {
    if (!rangeKeys.length) return;
    // Only runs not summarized yet, and running runs (their values move).
    const ids = state.runs
      .filter((r) => !summaries.has(r.info.run_id) || r.info.status === "RUNNING")
      .map((r) => r.info.run_id);
    if (!ids.length) return;
    const c = new AbortController();
    const keysAsked = rangeKeyList;
    metricSummaries(ids, rangeKeys, c.signal).then(
      (fresh) =>
        setSummaryState((old) => {
          const next = new Map(old.keys === keysAsked ? old.map : undefined);
          for (const id of ids) next.set(id, fresh.get(id) ?? new Map());
          return { keys: keysAsked, map: next };
        }),
      () => undefined,
    );
    return () => c.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state.runs, rangeKeyList]);
  const shownRuns = useMemo(
    () => (rangeKeys.length ? withSummaries(state.runs, summaries) : state.runs),
    [state.runs, summaries, rangeKeys.length],
  );

  // --- Selection and actions ----------------------------------------------------------------------
  const selected = useMemo(() => new Set(view.selected), [view.selected]);
  // The selected runs that are evaluations (mlflow.datasets tag), in the table's order.
  const evaluatedIds = useMemo(
    () => state.runs.filter((r) => selected.has(r.info.run_id) && isEvaluation(r)).map((r) => r.info.run_id),
    [state.runs, selected],
  );
  const evaluatedSelected = evaluatedIds.length;
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [moveOpen, setMoveOpen] = useState(false);
  const bulk = async (label: string, fn: (id: string) => Promise<unknown>) => {
    setBusy(label);
    setActionError(null);
    try {
      for (const id of view.selected) await fn(id);
      setView({ selected: [] });
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(null);
      forceReload();
    }
  };
  const [reloadTick, setReloadTick] = useState(0);
  const forceReload = () => setReloadTick((t) => t + 1);
  useEffect(() => {
    if (reloadTick === 0 || !query) return;
    searchRuns({ ...query, max_results: Math.max(FIRST_PAGE, state.runs.length) }).then(
      (r) => setState({ runs: r.runs ?? [], token: r.next_page_token || undefined, loading: false, error: null, done: true }),
      (error: unknown) => setState((s) => ({ ...s, error })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [reloadTick]);

  const exportCsv = async () => {
    if (!query) return;
    setBusy("Exporting");
    try {
      let runs = state.runs;
      let token = state.token;
      while (token && runs.length < 100000) {
        const r = await searchRuns({ ...query, max_results: 5000, page_token: token });
        runs = [...runs, ...(r.runs ?? [])];
        token = r.next_page_token || undefined;
      }
      let chosen = view.selected.length ? runs.filter((r) => selected.has(r.info.run_id)) : runs;
      if (rangeKeys.length) chosen = withSummaries(chosen, await metricSummaries(chosen.map((r) => r.info.run_id), rangeKeys));
      const name = idsParam === "all" ? "all-experiments" : `experiment-${idsParam.replace(/,/g, "-")}`;
      download(`${name}-runs.csv`, runsToCsv(chosen, columns));
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(null);
    }
  };

  const onSort = (c: Column) => {
    const sort = { column: c.id, desc: view.sort.column === c.id ? !view.sort.desc : c.numeric };
    if (ids) startFirstPage(runsQuery(ids, { ...view, sort })); // before React re-renders
    setView({ sort }, true);
  };

  // --- Header ----------------------------------------------------------------------------------------
  const title =
    idsParam === "all"
      ? "All experiments"
      : (ids ?? []).map((id) => exps.byId.get(id)?.name ?? `Experiment ${id}`).join(", ");
  const single = ids && ids.length === 1 ? exps.byId.get(ids[0]!) : undefined;
  const filterError = state.error instanceof ApiError && state.error.code === "INVALID_PARAMETER_VALUE" ? state.error : null;

  return (
    <div className="page fill">
      <div className="title-row">
        <h1 data-testid="experiment-title">{title}</h1>
        {single ? (
          <span className="muted small">
            id {single.experiment_id}
            {single.lifecycle_stage === "deleted" ? " · deleted" : ""} · {single.artifact_location}
          </span>
        ) : null}
        <span className="spacer" />
        <span className="muted small" data-testid="run-count">
          {state.done && !state.error ? `${state.runs.length}${state.token ? "+" : ""} runs` : ""}
          {fetchMs !== null ? ` · ${Math.round(fetchMs)} ms` : ""}
        </span>
      </div>
      {ids && ids.length === 1 && idsParam !== "all" ? <ExperimentTabs experimentId={ids[0]!} current="runs" /> : null}
      <div className="toolbar">
        <FilterBox
          value={view.filter}
          keys={keys}
          values={values}
          onSubmit={(filter) => setView({ filter, selected: [] }, true)}
          bad={!!filterError}
          errorPosition={filterError?.position ?? null}
        />
        <select
          aria-label="Which runs"
          value={view.view}
          onChange={(e) => setView({ view: e.target.value as ViewState["view"], selected: [] }, true)}
        >
          <option value="active">Active runs</option>
          <option value="deleted">Deleted runs</option>
          <option value="all">All runs</option>
        </select>
        <ColumnChooser columns={columnIds} keys={keys} onChange={(columns) => setView({ columns })} />
        <button onClick={() => void exportCsv()} disabled={!!busy || !state.runs.length} title="Download the view as CSV (the selected runs, or all that match)">
          Export CSV
        </button>
      </div>
      {filterError ? <ErrorBox error={filterError} what="Bad filter" /> : state.error ? (
        <div className="toolbar">
          <ErrorBox error={state.error} what="Cannot load runs" />
          <button onClick={forceReload}>Retry</button>
        </div>
      ) : null}
      {actionError ? <ErrorBox error={actionError} /> : null}
      {view.selected.length ? (
        <div className="toolbar" data-testid="selection-bar">
          <strong>{view.selected.length} selected</strong>
          <button className="primary" onClick={() => navigate(`/compare?runs=${view.selected.map(enc).join(",")}`)}>
            Compare
          </button>
          {evaluatedSelected >= 2 ? (
            <button
              onClick={() => navigate(`/compare?runs=${evaluatedIds.map(enc).join(",")}&tab=evaluation`)}
              title={`Compare the evaluations of the ${evaluatedSelected} selected runs that are evaluations`}
              data-testid="compare-evaluations"
            >
              Compare evaluations ({evaluatedSelected})
            </button>
          ) : null}
          {view.view !== "active" ? (
            <button disabled={!!busy} onClick={() => void bulk("Restoring", restoreRun)}>
              Restore
            </button>
          ) : null}
          {view.view !== "deleted" ? (
            <button
              className="danger"
              disabled={!!busy}
              onClick={() => window.confirm(`Delete ${view.selected.length} run(s)? They can be restored.`) && void bulk("Deleting", deleteRun)}
            >
              Delete
            </button>
          ) : null}
          <div className="rel">
            <button onClick={() => setMoveOpen((o) => !o)} disabled={!!busy}>
              Move to…
            </button>
            {moveOpen ? (
              <div className="popover" style={{ top: "110%", left: 0 }}>
                {exps.all
                  .filter((e) => e.lifecycle_stage === "active")
                  .map((e) => (
                    <div key={e.experiment_id}>
                      <button
                        className="link"
                        onClick={async () => {
                          setMoveOpen(false);
                          setBusy("Moving");
                          try {
                            await moveRuns(view.selected, e.experiment_id);
                            setView({ selected: [] });
                            forceReload();
                            void reloadExperiments();
                          } catch (err) {
                            setActionError(err);
                          } finally {
                            setBusy(null);
                          }
                        }}
                      >
                        {e.name}
                      </button>
                    </div>
                  ))}
              </div>
            ) : null}
          </div>
          <button className="link" onClick={() => setView({ selected: [] })}>
            Clear
          </button>
          {busy ? <span className="muted">{busy}…</span> : null}
        </div>
      ) : busy ? (
        <span className="muted">{busy}…</span>
      ) : null}
      {!state.done ? (
        <Loading what="runs" />
      ) : !state.runs.length && !state.error ? (
        <Empty>
          {view.filter ? "No run matches this filter." : view.view === "deleted" ? "No deleted runs." : "No runs in this experiment yet. Log one with mltrail.start_run()."}
        </Empty>
      ) : state.runs.length ? (
        <RunsTable
          runs={shownRuns}
          columns={columns}
          sort={view.sort}
          onSort={onSort}
          selected={selected}
          onSelect={(ids) => setView({ selected: ids })}
          hasMore={!!state.token}
          loadMore={loadMore}
          now={now}
        />
      ) : null}
    </div>
  );
}
