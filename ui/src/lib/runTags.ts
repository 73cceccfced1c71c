// A run's tags split in two: the user's own, and the system tags that MLflow and mltrail set
// (`mlflow.*`, `mltrail.*`: where the code came from, the git state, the parent run, ...),
// which the run page shows as details of the run rather than as tags to edit.

import type { KeyValue } from "../api/types";

export function isSystemTag(key: string): boolean {
  return key.startsWith("mlflow.") || key.startsWith("mltrail.");
}

/** The user's tags (not system tags), sorted by key. */
export function userTags(tags: readonly KeyValue[] | undefined): KeyValue[] {
  return (tags ?? []).filter((t) => !isSystemTag(t.key)).sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * System tags the run page shows in their own place (the Details rows, the description, the
 * models, the evaluation and autolog badges, the project card); the others are listed under
 * the details as they are.
 */
const SHOWN_ELSEWHERE = new Set([
  "mlflow.user",
  "mlflow.runName",
  "mlflow.source.name",
  "mlflow.source.type",
  "mlflow.source.git.commit",
  "mlflow.source.git.branch",
  "mlflow.source.git.repoURL",
  "mltrail.source.git.dirty",
  "mlflow.parentRunId",
  "mlflow.note.content",
  "mlflow.log-model.history",
  "mlflow.datasets",
  "mlflow.autologging",
]);

const isProjectTag = (key: string) => key.startsWith("mlflow.project.") || key.startsWith("mltrail.project.");

/**
 * The system tags not shown elsewhere on the run page, sorted by key (a project run's
 * `*.project.*` tags too when the page shows its project card).
 */
export function otherSystemTags(tags: readonly KeyValue[] | undefined, projectCard = false): KeyValue[] {
  return (tags ?? [])
    .filter((t) => isSystemTag(t.key) && !SHOWN_ELSEWHERE.has(t.key) && !(projectCard && isProjectTag(t.key)))
    .sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * The state of the run's git work tree when it started (`mltrail.source.git.dirty`): "dirty"
 * (uncommitted changes), "clean", or null when not recorded.
 */
export function gitState(tags: readonly KeyValue[] | undefined): "dirty" | "clean" | null {
  const v = (tags ?? []).find((t) => t.key === "mltrail.source.git.dirty")?.value.trim().toLowerCase();
  if (v === "true") return "dirty";
  if (v === "false") return "clean";
  return null;
}
