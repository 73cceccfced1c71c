// Evaluations of several runs side by side: one column per (run, evaluation), the first the
// baseline; one row per metric (prefix removed, so `val_f1_score` of one run meets `f1_score`
// of another), with the best value and each value's difference to the baseline's.

import { toNumber } from "../api/endpoints";
import type { Run } from "../api/types";
import { type Direction, type Diff, bestIndex, diffAgainst, metricDirection } from "./evalMetrics";
import { type Evaluation, evaluationLabel, metricBase, plotKey } from "./evaluation";

export interface EvalColumn {
  run: Run;
  /** The run's position among the runs compared (for its colour). */
  runIndex: number;
  evaluation: Evaluation;
  label: string;
}

export interface CompareRow {
  metric: string;
  direction: Direction;
  values: (number | undefined)[];
  best: number | null;
  /** Against the first column (null for the first and where a value is missing). */
  diffs: (Diff | null)[];
}

/** The columns of runs' evaluations, keeping those on datasets named in `datasets` (all when empty). */
export function evalColumns(runs: readonly { run: Run; evaluations: Evaluation[] }[], datasets: readonly string[] = []): EvalColumn[] {
  const out: EvalColumn[] = [];
  runs.forEach(({ run, evaluations }, runIndex) => {
    for (const evaluation of evaluations) {
      if (datasets.length && !evaluation.datasets.some((d) => datasets.includes(d.name))) continue;
      out.push({ run, runIndex, evaluation, label: evaluationLabel(evaluation) });
    }
  });
  return out;
}

/** The value of metric `base` in a column (undefined when that evaluation has none). */
function valueIn(col: EvalColumn, base: string): number | undefined {
  const key = col.evaluation.metrics.find((k) => metricBase(k, col.evaluation.prefix) === base);
  if (key === undefined) return undefined;
  const m = col.run.data.metrics?.find((x) => x.key === key);
  return m ? toNumber(m.value) : undefined;
}

/** The metric rows of the columns, metrics in name order. */
export function compareRows(cols: readonly EvalColumn[]): CompareRow[] {
  const bases = new Set<string>();
  for (const c of cols) for (const k of c.evaluation.metrics) bases.add(metricBase(k, c.evaluation.prefix));
  return [...bases].sort().map((metric) => {
    const direction = metricDirection(metric);
    const values = cols.map((c) => valueIn(c, metric));
    return {
      metric,
      direction,
      values,
      best: bestIndex(values, direction),
      diffs: values.map((v, i) => (i === 0 ? null : diffAgainst(v, values[0], direction))),
    };
  });
}

/** The plots of the columns by plot name (known plots first): for each, a path per column or null. */
export function comparePlots(cols: readonly EvalColumn[]): { name: string; paths: (string | null)[] }[] {
  const names: string[] = [];
  for (const c of cols) for (const p of c.evaluation.plots) {
    const k = plotKey(p, c.evaluation.prefix);
    if (!names.includes(k)) names.push(k);
  }
  return names.map((name) => ({
    name,
    paths: cols.map((c) => c.evaluation.plots.find((p) => plotKey(p, c.evaluation.prefix) === name) ?? null),
  }));
}
