// Evaluation metrics: which way is better, how they are grouped on a page, and how runs compare.

/** "higher": greater is better; "lower": smaller is better; null: neither (a count, a mean). */
export type Direction = "higher" | "lower" | null;

const HIGHER = new Set([
  "score", "accuracy_score", "recall_score", "precision_score", "f1_score", "roc_auc", "precision_recall_auc",
  "r2_score", "true_positives", "true_negatives", "exact_match", "bleu", "rouge1", "rouge2", "rougeL", "rougeLsum",
  "answer_similarity", "answer_correctness", "answer_relevance", "faithfulness", "relevance",
]);
const LOWER = new Set([
  "log_loss", "mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "max_error",
  "mean_absolute_percentage_error", "false_positives", "false_negatives", "toxicity", "latency",
]);
const NEITHER = new Set(["example_count", "sum_on_target", "mean_on_target", "token_count"]);

/**
 * Which way a metric is better, from its name without the evaluation's prefix: MLflow's
 * default and builtin metrics by name, else by what the name says (an error or a loss is
 * better lower; an accuracy, precision, recall, F-score, AUC or R² higher). Custom metrics'
 * aggregates ("abs_err/mean") are judged by the metric's name.
 */
export function metricDirection(base: string): Direction {
  const name = base.includes("/") ? base.slice(0, base.indexOf("/")) : base;
  const agg = base.includes("/") ? base.slice(base.indexOf("/") + 1) : "";
  // The spread of a metric is no quality (variance, p90 of latency is, but of a score not).
  if (agg === "variance") return null;
  for (const n of [base, name]) {
    if (HIGHER.has(n)) return "higher";
    if (LOWER.has(n)) return "lower";
    if (NEITHER.has(n)) return null;
  }
  const n = name.toLowerCase();
  if (/(error|(^|_)err($|_)|loss|mse|mae|rmse|mape|perplexity|latency|toxicity)/.test(n)) return "lower";
  if (/(accuracy|precision|recall|f1|auc|r2|bleu|rouge|similarity|correctness|exact_match)/.test(n)) return "higher";
  return null;
}

export interface MetricGroup {
  title: string;
  keys: string[];
}

const GROUPS: [string, (base: string) => boolean][] = [
  ["Classification", (b) => ["accuracy_score", "precision_score", "recall_score", "f1_score", "roc_auc", "precision_recall_auc", "log_loss"].includes(b)],
  ["Confusion counts", (b) => ["true_positives", "false_positives", "true_negatives", "false_negatives"].includes(b)],
  ["Regression", (b) => ["mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "max_error", "mean_absolute_percentage_error", "r2_score"].includes(b)],
  ["Data", (b) => ["example_count", "sum_on_target", "mean_on_target"].includes(b)],
  ["Model's own score", (b) => b === "score"],
];

/** Metrics grouped for display (fixed groups, then "Custom metrics"); empty groups left out. */
export function groupMetrics(keys: readonly string[], base: (key: string) => string): MetricGroup[] {
  const groups: MetricGroup[] = GROUPS.map(([title]) => ({ title, keys: [] }));
  const custom: MetricGroup = { title: "Custom metrics", keys: [] };
  for (const k of keys) {
    const i = GROUPS.findIndex(([, test]) => test(base(k)));
    (i >= 0 ? groups[i]! : custom).keys.push(k);
  }
  return [...groups, custom].filter((g) => g.keys.length);
}

/** The index of the best value (the first on ties), or null when there is no best. */
export function bestIndex(values: readonly (number | undefined)[], direction: Direction): number | null {
  if (!direction) return null;
  let best: number | null = null;
  let seen = 0;
  values.forEach((v, i) => {
    if (v === undefined || Number.isNaN(v)) return;
    seen++;
    if (best === null || (direction === "higher" ? v > values[best]! : v < values[best]!)) best = i;
  });
  // One value is no comparison; all equal has no best either.
  if (seen < 2) return null;
  const present = values.filter((v): v is number => v !== undefined && !Number.isNaN(v));
  return present.every((v) => v === present[0]) ? null : best;
}

export type Change = "better" | "worse" | "same" | "changed";

export interface Diff {
  /** value - baseline */
  delta: number;
  /** The change relative to the baseline (null when the baseline is 0 or not finite). */
  relative: number | null;
  change: Change;
}

/** A value against the baseline's (null when either is missing or not a number). */
export function diffAgainst(value: number | undefined, baseline: number | undefined, direction: Direction): Diff | null {
  if (value === undefined || baseline === undefined || Number.isNaN(value) || Number.isNaN(baseline)) return null;
  const delta = value - baseline;
  const relative = baseline !== 0 && Number.isFinite(baseline) && Number.isFinite(delta) ? delta / Math.abs(baseline) : null;
  let change: Change;
  if (value === baseline) change = "same";
  else if (!direction) change = "changed";
  else change = (direction === "higher") === value > baseline ? "better" : "worse";
  return { delta, relative, change };
}

/** A signed delta for display: "+0.0123", "−4" (a true minus sign), "±0". */
export function formatDelta(delta: number, format: (v: number) => string): string {
  if (delta === 0) return "±0";
  const s = format(Math.abs(delta));
  return delta > 0 ? `+${s}` : `\u2212${s}`;
}
