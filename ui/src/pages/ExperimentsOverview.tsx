// The home page: every active experiment in a table (name, runs, last run, created,
// description, tags), so a new user sees what holds runs instead of landing in whichever
// experiment comes first, which may be empty.

import { useEffect, useMemo, useState } from "react";
import { searchRuns } from "../api/endpoints";
import { ErrorBox, Empty, Loading } from "../components/common";
import { Markdown } from "../components/lazy";
import {
  type OverviewSort,
  RUN_COUNT_CAP,
  type RunsSummary,
  experimentDescription,
  experimentTags,
  runCountLabel,
  sortExperiments,
  summarizeRuns,
} from "../lib/experimentsOverview";
import { useExperiments } from "../lib/experiments";
import { formatTime, relativeTime } from "../lib/format";
import { Link, enc, navigate, useLocation } from "../lib/router";

/** Searches of the experiments' runs under way at once. */
const PARALLEL = 4;

/** The runs summary of each experiment, filled in as the searches answer. */
function useRunSummaries(ids: readonly string[]): Map<string, RunsSummary | Error> {
  const [done, setDone] = useState<Map<string, RunsSummary | Error>>(() => new Map());
  const key = ids.join(",");
  useEffect(() => {
    const ctl = new AbortController();
    const queue = [...ids];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const expId = id;
        try {
          const r = await searchRuns(
            { experiment_ids: [expId], max_results: RUN_COUNT_CAP, order_by: ["attributes.start_time DESC"], run_view_type: "ACTIVE_ONLY" },
            ctl.signal,
          );
          if (ctl.signal.aborted) return;
          const summary = summarizeRuns(r.runs ?? [], r.next_page_token);
          setDone((m) => new Map(m).set(expId, summary));
        } catch (e) {
          if (ctl.signal.aborted) return;
          setDone((m) => new Map(m).set(expId, e instanceof Error ? e : new Error(String(e))));
        }
      }
    };
    for (let i = 0; i < PARALLEL; i++) void worker();
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return done;
}

const SORTS: { id: OverviewSort; label: string }[] = [
  { id: "name", label: "Name" },
  { id: "runs", label: "Runs" },
  { id: "last", label: "Last run" },
  { id: "created", label: "Created" },
];

export function ExperimentsOverview() {
  const loc = useLocation();
  const sort = (SORTS.find((s) => s.id === loc.search.get("sort"))?.id ?? "name") as OverviewSort;
  const { all, loaded, error } = useExperiments();
  const active = useMemo(() => all.filter((e) => e.lifecycle_stage === "active"), [all]);
  const summaries = useRunSummaries(useMemo(() => active.map((e) => e.experiment_id), [active]));
  const counted = useMemo(() => {
    const m = new Map<string, RunsSummary>();
    for (const [id, s] of summaries) if (!(s instanceof Error)) m.set(id, s);
    return m;
  }, [summaries]);
  const rows = useMemo(() => sortExperiments(active, counted, sort), [active, counted, sort]);
  const now = Date.now();

  if (error) return <div className="page"><ErrorBox error={error} what="Cannot list experiments" /></div>;
  if (!loaded) return <div className="page"><Loading what="experiments" /></div>;
  return (
    <div className="page" data-testid="experiments-overview-page">
      <div className="title-row">
        <h1>Experiments</h1>
        <span className="muted small">{active.length} active</span>
        <span className="spacer" />
        <Link href="/experiments/all">All runs of every experiment</Link>
      </div>
      {!active.length ? (
        <Empty>No experiments yet. Create one with “+ New”, or log a run with mltrail.start_run().</Empty>
      ) : (
        <div className="card" style={{ padding: 0 }}>
          <table className="plain experiments-overview" data-testid="experiments-overview">
            <thead>
              <tr>
                {SORTS.map((s) => (
                  <th key={s.id} className={s.id === "runs" ? "num" : ""} aria-sort={sort === s.id ? (s.id === "name" ? "ascending" : "descending") : "none"}>
                    <button
                      className="sort-head"
                      title={s.id === "name" ? "Sort by name" : `Sort by ${s.label.toLowerCase()}, most recent or most first`}
                      onClick={() => navigate(s.id === "name" ? loc.path : `${loc.path}?sort=${s.id}`, { replace: true })}
                    >
                      {s.label}
                      {sort === s.id ? <span className="sort-mark"> {s.id === "name" ? "▲" : "▼"}</span> : null}
                    </button>
                  </th>
                ))}
                <th>Description</th>
                <th>Tags</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => {
                const s = summaries.get(e.experiment_id);
                const description = experimentDescription(e);
                const empty = s && !(s instanceof Error) && s.count === 0;
                return (
                  <tr key={e.experiment_id} data-testid="overview-row" data-experiment-id={e.experiment_id} className={empty ? "inactive" : ""}>
                    <td className="overview-name">
                      <Link href={`/experiments/${enc(e.experiment_id)}`}>{e.name}</Link>
                    </td>
                    <td className="num" data-testid="overview-runs">
                      {s === undefined ? <span className="muted">…</span> : s instanceof Error ? <span className="muted" title={s.message}>?</span> : runCountLabel(s)}
                    </td>
                    <td className="nowrap" data-testid="overview-last-run">
                      {s && !(s instanceof Error) && s.last ? (
                        <>
                          <Link href={`/runs/${enc(s.last.id)}`}>{s.last.name}</Link>{" "}
                          <span className="muted small" title={formatTime(s.last.start)}>{relativeTime(s.last.start, now)}</span>
                        </>
                      ) : s && !(s instanceof Error) ? <span className="muted">no runs yet</span> : null}
                    </td>
                    <td className="nowrap" title={formatTime(e.creation_time)}>{formatTime(e.creation_time)}</td>
                    <td className="model-description" data-testid="overview-description">{description ? <Markdown text={description} /> : null}</td>
                    <td data-testid="overview-tags">
                      {experimentTags(e).map((t) => (
                        <span key={t.key} className="tag-chip" title={`${t.key} = ${t.value}`}>
                          {t.key}: {t.value}
                        </span>
                      ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <div className="muted small">
        Runs are counted up to {RUN_COUNT_CAP} per experiment ({RUN_COUNT_CAP}+ means more); deleted runs are not counted.
      </div>
    </div>
  );
}
