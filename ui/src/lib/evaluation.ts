// What `mlflow.evaluate` (and `mltrail.evaluate`) records in a run, read back for the UI.
//
// One call of evaluate writes, in the run:
// - an entry {name, hash, model, path?} appended to the JSON list in the `mlflow.datasets` tag;
// - the dataset as a run input, whose `mlflow.data.context` tag is the call's `metric_prefix`
//   (no context tag without a prefix);
// - metrics named `<prefix><metric>` (`val_accuracy_score`, custom metrics' aggregates as
//   `<prefix><name>/<prefix><aggregate>`);
// - at the artifact root: plots `<prefix><plot>.png` (confusion_matrix, roc_curve_plot, ...),
//   the per-row table `<prefix>eval_results_table.json` (only with per-row metrics) and, for a
//   multiclass classifier, `per_class_metrics.csv` (never prefixed).
//
// An evaluation here is one prefix: its datasets, metrics, plots and table. Two calls without a
// prefix share one (their metrics overwrite each other's; the latest values are shown).

import type { Run } from "../api/types";
import { tagValue } from "./columns";

export const DATASETS_TAG = "mlflow.datasets";
export const CONTEXT_TAG = "mlflow.data.context";
export const TABLE_FILE = "eval_results_table.json";
export const PER_CLASS_FILE = "per_class_metrics.csv";

/** The plots MLflow's default evaluator logs, in the order the UI shows them. */
export const KNOWN_PLOTS = [
  "confusion_matrix",
  "roc_curve_plot",
  "precision_recall_curve_plot",
  "lift_curve_plot",
  "calibration_curve_plot",
  "shap_beeswarm_plot",
  "shap_summary_plot",
  "shap_feature_importance_plot",
] as const;

/** One entry of the `mlflow.datasets` tag, with what the run's dataset input adds. */
export interface EvalDataset {
  name: string;
  /** The evaluation dataset's hash (MLflow's md5 of its data; not the input's digest). */
  hash: string;
  /** The evaluated model: a logged model id (`m-...`) or a model URI. */
  model: string;
  path?: string | undefined;
  /** The digest of the matching run input, when there is one. */
  digest?: string | undefined;
  /** Rows in the dataset (the input's profile), when known. */
  rows?: number | undefined;
}

export interface Evaluation {
  /** The metric prefix ("" without one). */
  prefix: string;
  datasets: EvalDataset[];
  /** Full metric keys of this evaluation, sorted. */
  metrics: string[];
  /** Artifact paths of its plots (known ones first, in KNOWN_PLOTS order). */
  plots: string[];
  /** Artifact path of its per-row table, or null. */
  table: string | null;
}

/** The entries of a run's `mlflow.datasets` tag (none when absent or unreadable). */
export function datasetsTag(run: Run): EvalDataset[] {
  const raw = tagValue(run, DATASETS_TAG);
  if (!raw) return [];
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  const out: EvalDataset[] = [];
  for (const item of list) {
    if (!item || typeof item !== "object") continue;
    const o = item as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));
    out.push({ name: str(o.name) || "dataset", hash: str(o.hash), model: str(o.model), path: typeof o.path === "string" ? o.path : undefined });
  }
  return out;
}

/** True when the run records an evaluation in its tags (what the runs table can tell). */
export const isEvaluation = (run: Run): boolean => datasetsTag(run).length > 0;

/** The distinct names of the datasets a run was evaluated on, in order. */
export function evaluatedOn(run: Run): string[] {
  return [...new Set(datasetsTag(run).map((d) => d.name))];
}

/** The plot name of an artifact of an evaluation with `prefix` ("roc_curve_plot"), or null. */
function plotName(path: string, prefix: string): string | null {
  if (path.includes("/") || !path.startsWith(prefix) || !/\.png$/i.test(path)) return null;
  const name = path.slice(prefix.length, -4);
  if ((KNOWN_PLOTS as readonly string[]).includes(name)) return name;
  // With a prefix, any image under it is the evaluation's (a custom artifact of the evaluator).
  return prefix ? name : null;
}

/** The base name of a plot path of an evaluation: "val_roc_curve_plot.png" -> "roc_curve_plot". */
export function plotKey(path: string, prefix: string): string {
  return plotName(path, prefix) ?? path.replace(/\.png$/i, "");
}

/** Metric names MLflow's default evaluators log (classifier and regressor), prefix removed. */
const DEFAULT_METRICS = new Set([
  "score", "example_count", "accuracy_score", "recall_score", "precision_score", "f1_score", "log_loss",
  "roc_auc", "precision_recall_auc", "true_negatives", "false_positives", "false_negatives", "true_positives",
  "mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "sum_on_target", "mean_on_target",
  "r2_score", "max_error", "mean_absolute_percentage_error",
]);

/** Whether a metric key (prefix removed) is one an evaluation logs. */
function isEvalMetric(rest: string, prefix: string): boolean {
  if (rest.startsWith("system/")) return false;
  // With a prefix, everything under it; without, MLflow's defaults and custom metrics'
  // aggregates ("<name>/<aggregate>").
  return prefix !== "" || DEFAULT_METRICS.has(rest) || rest.includes("/");
}

/**
 * The evaluations of a run, from its `mlflow.datasets` tag, its dataset inputs and the files
 * at its artifact root (`rootFiles`; null when not listed yet). Empty for a run that is none.
 */
export function evaluationsOf(run: Run, rootFiles: readonly string[] | null): Evaluation[] {
  const tagged = datasetsTag(run);
  const inputs = run.inputs?.dataset_inputs ?? [];
  const files = rootFiles ?? [];
  const byPrefix = new Map<string, Evaluation>();
  const at = (prefix: string): Evaluation => {
    let e = byPrefix.get(prefix);
    if (!e) byPrefix.set(prefix, (e = { prefix, datasets: [], metrics: [], plots: [], table: null }));
    return e;
  };
  // Prefixes seen in artifacts: those of per-row tables; and in a run with the tag, its plots
  // without a prefix. (A plot name alone is no proof: sklearn's autologging writes
  // `training_confusion_matrix.png`; a prefixed evaluation's prefix comes from its dataset.)
  for (const f of files) {
    if (f.includes("/")) continue;
    if (f.endsWith(TABLE_FILE)) at(f.slice(0, -TABLE_FILE.length));
    if (tagged.length && KNOWN_PLOTS.some((p) => f === `${p}.png`)) at("");
  }
  // Datasets: each tag entry joins the input of the same name (in order), whose context is the prefix.
  const used = new Set<number>();
  for (const d of tagged) {
    const i = inputs.findIndex((x, j) => !used.has(j) && x.dataset.name === d.name);
    const input = i >= 0 ? inputs[i] : undefined;
    if (i >= 0) used.add(i);
    const context = input?.tags?.find((t) => t.key === CONTEXT_TAG)?.value;
    let rows: number | undefined;
    try {
      const profile = input?.dataset.profile ? (JSON.parse(input.dataset.profile) as { num_rows?: unknown }) : {};
      rows = typeof profile.num_rows === "number" ? profile.num_rows : undefined;
    } catch {
      rows = undefined;
    }
    // A context that prefixes no metric or table (one such as "training") is no prefix.
    const prefix = context !== undefined && (byPrefix.has(context) || hasMetricPrefix(run, context)) ? context : "";
    at(prefix).datasets.push({ ...d, digest: input?.dataset.digest, rows });
  }
  if (!byPrefix.size) return [];
  const prefixes = [...byPrefix.keys()].sort((a, b) => b.length - a.length); // longest first
  for (const m of run.data.metrics ?? []) {
    const prefix = prefixes.find((p) => m.key.startsWith(p) && isEvalMetric(m.key.slice(p.length), p));
    if (prefix !== undefined) at(prefix).metrics.push(m.key);
  }
  for (const f of files) {
    const prefix = prefixes.find((p) => plotName(f, p) !== null);
    if (prefix !== undefined) at(prefix).plots.push(f);
    if (f.endsWith(TABLE_FILE) && !f.includes("/")) at(f.slice(0, -TABLE_FILE.length)).table = f;
  }
  const order = (e: Evaluation, path: string) => {
    const i = (KNOWN_PLOTS as readonly string[]).indexOf(plotKey(path, e.prefix));
    return i < 0 ? KNOWN_PLOTS.length : i;
  };
  const out = [...byPrefix.values()];
  for (const e of out) {
    e.metrics.sort();
    e.plots.sort((a, b) => order(e, a) - order(e, b) || a.localeCompare(b));
  }
  // An evaluation is what has datasets, metrics or files (a stray prefix with none is dropped).
  return out
    .filter((e) => e.datasets.length || e.plots.length || e.table)
    .sort((a, b) => a.prefix.localeCompare(b.prefix));
}

function hasMetricPrefix(run: Run, prefix: string): boolean {
  return prefix !== "" && (run.data.metrics ?? []).some((m) => m.key.startsWith(prefix) && m.key.length > prefix.length);
}

/** A short label of an evaluation: its datasets' names, and its prefix when it has one. */
export function evaluationLabel(e: Evaluation): string {
  const names = [...new Set(e.datasets.map((d) => d.name))];
  const base = names.length ? names.join(", ") : "evaluation";
  return e.prefix ? `${base} (${e.prefix})` : base;
}

/** A metric key without its evaluation's prefix ("val_f1_score" -> "f1_score"; aggregates too). */
export function metricBase(key: string, prefix: string): string {
  if (!prefix || !key.startsWith(prefix)) return key;
  const rest = key.slice(prefix.length);
  // Custom metrics' aggregates repeat the prefix after the slash: "abs_err/val_mean".
  const slash = rest.indexOf("/");
  if (slash >= 0 && rest.startsWith(prefix, slash + 1)) return `${rest.slice(0, slash + 1)}${rest.slice(slash + 1 + prefix.length)}`;
  return rest;
}
