// Pure facts about MLflow 3's logged models, as the pages show them.

import type { LoggedModel, LoggedModelStatus, ModelOutput, ModelVersion, Run } from "../api/types";

const MODEL_ID = /^m-[0-9a-f]{8,64}$/i;

/** Whether a string is a logged model's id (`m-<hex>`). */
export const isModelId = (s: string): boolean => MODEL_ID.test(s);

/**
 * The logged model a registered version was made from: its `model_id` field, else its source
 * when that is `models:/m-<hex>` or a logged model's artifact location
 * (`<root>/<experiment>/models/m-<hex>/artifacts`). Null for sources under a run's artifacts.
 */
export function modelIdOfVersion(source: string | undefined, modelId?: string | undefined): string | null {
  if (modelId && isModelId(modelId)) return modelId;
  if (!source) return null;
  const uri = /^models:\/(m-[0-9a-f]+)\/?$/i.exec(source);
  if (uri) return uri[1]!;
  const location = /\/models\/(m-[0-9a-f]+)\/artifacts\/?$/i.exec(source);
  return location ? location[1]! : null;
}

/** The registered versions MLflow's client records on a logged model (tag `mlflow.modelVersions`). */
export function registeredVersionsOf(model: LoggedModel): { name: string; version: string }[] {
  const raw = model.info.tags?.find((t) => t.key === "mlflow.modelVersions")?.value;
  if (!raw) return [];
  try {
    const list: unknown = JSON.parse(raw);
    if (!Array.isArray(list)) return [];
    return list.flatMap((x: unknown) => {
      if (typeof x !== "object" || x === null) return [];
      const { name, version } = x as { name?: unknown; version?: unknown };
      return typeof name === "string" && (typeof version === "string" || typeof version === "number")
        ? [{ name, version: String(version) }]
        : [];
    });
  } catch {
    return [];
  }
}

/**
 * A logged model's registered versions: those recorded in its tag, and those among `versions`
 * (e.g. its source run's) made from it; sorted by name, then version number.
 */
export function versionsOfModel(model: LoggedModel, versions: ModelVersion[]): { name: string; version: string }[] {
  const out = new Map(registeredVersionsOf(model).map((v) => [`${v.name}\u0000${v.version}`, v]));
  for (const v of versions) {
    if (modelIdOfVersion(v.source, v.model_id) === model.info.model_id) out.set(`${v.name}\u0000${v.version}`, { name: v.name, version: v.version });
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name) || Number(a.version) - Number(b.version));
}

const STATUS: Record<LoggedModelStatus, string> = {
  LOGGED_MODEL_PENDING: "Pending",
  LOGGED_MODEL_READY: "Ready",
  LOGGED_MODEL_UPLOAD_FAILED: "Upload failed",
};

export const statusLabel = (status: LoggedModelStatus | undefined): string => (status ? STATUS[status] : "");

/**
 * The ids of the logged models a run produced that a search by `source_run_id` did not
 * return (a model logged into the run from elsewhere), in the run's order, without repeats.
 */
export function missingOutputs(run: Run, found: LoggedModel[]): string[] {
  const have = new Set(found.map((m) => m.info.model_id));
  const out: string[] = [];
  for (const o of run.outputs?.model_outputs ?? ([] as ModelOutput[])) {
    if (!have.has(o.model_id)) {
      have.add(o.model_id);
      out.push(o.model_id);
    }
  }
  return out;
}
