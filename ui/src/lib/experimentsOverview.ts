// The experiments overview (the UI's home page): one row per experiment with its number of
// runs, its last run, when it was made, its description and its tags. Pure helpers.

import type { Experiment, KeyValue, Run } from "../api/types";
import { runName } from "./columns";
import { isSystemTag } from "./runTags";

/** Runs counted per experiment (one search of at most this many); more show as "100+". */
export const RUN_COUNT_CAP = 100;

export interface RunsSummary {
  count: number;
  /** More runs than counted (the search had a next page). */
  more: boolean;
  last: { id: string; name: string; start: number | undefined } | null;
}

/** What one search of an experiment's runs, newest first, tells about them. */
export function summarizeRuns(runs: readonly Run[], nextPageToken: string | undefined | null): RunsSummary {
  const first = runs[0];
  return {
    count: runs.length,
    more: !!nextPageToken,
    last: first ? { id: first.info.run_id, name: runName(first), start: first.info.start_time ?? undefined } : null,
  };
}

export function runCountLabel(s: RunsSummary): string {
  return `${s.count}${s.more ? "+" : ""}`;
}

/** The experiment's description: MLflow keeps it in the `mlflow.note.content` tag. */
export function experimentDescription(e: Experiment): string {
  return e.tags?.find((t) => t.key === "mlflow.note.content")?.value ?? "";
}

/** The experiment's own tags (not mlflow.* / mltrail.*), sorted by key. */
export function experimentTags(e: Experiment): KeyValue[] {
  return (e.tags ?? []).filter((t) => !isSystemTag(t.key)).sort((a, b) => a.key.localeCompare(b.key));
}

export type OverviewSort = "name" | "runs" | "last" | "created";

/**
 * The experiments in the order asked: by name A-Z; by runs, last run or creation newest or
 * most first (experiments whose runs are not counted yet last, then by name).
 */
export function sortExperiments(
  exps: readonly Experiment[],
  summaries: ReadonlyMap<string, RunsSummary>,
  by: OverviewSort,
): Experiment[] {
  const byName = (a: Experiment, b: Experiment) => a.name.localeCompare(b.name);
  const key = (e: Experiment): number | undefined => {
    const s = summaries.get(e.experiment_id);
    if (by === "created") return e.creation_time ?? undefined;
    if (!s) return undefined;
    if (by === "runs") return s.count + (s.more ? 0.5 : 0);
    return s.last?.start ?? -1;
  };
  if (by === "name") return [...exps].sort(byName);
  return [...exps].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka === kb) return byName(a, b);
    if (ka === undefined) return 1;
    if (kb === undefined) return -1;
    return kb - ka;
  });
}
