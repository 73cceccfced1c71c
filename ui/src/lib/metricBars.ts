// A metric logged once per run (a final score, a test accuracy) has one point a run: a line
// chart would draw lone dots at step 0 of a 0-100 axis. Such a metric is drawn as bars across
// the runs instead. Pure functions: which series qualify, and where each bar starts and ends.

import type { MetricSeries, WireNumber } from "../api/types";

export interface ValueBar {
  id: string;
  label: string;
  color: string;
  value: number;
  step: number;
}

const num = (v: WireNumber | null | undefined): number =>
  typeof v === "number" ? v : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : NaN;

/**
 * The bars of a metric whose every series has at most one point (at least one has one), in
 * the order of `runs`; null when some run has two points or more (a line chart then).
 * A run without the metric, or with a value that is not finite, has no bar.
 */
export function singleValueBars(
  runs: readonly { id: string; label: string; color: string }[],
  series: readonly MetricSeries[],
): ValueBar[] | null {
  if (!series.length || series.some((s) => s.steps.length > 1)) return null;
  const byRun = new Map(series.map((s) => [s.run_id, s]));
  const bars: ValueBar[] = [];
  for (const r of runs) {
    const s = byRun.get(r.id);
    if (!s || !s.steps.length) continue;
    const value = num(s.last[0]);
    if (Number.isFinite(value)) bars.push({ id: r.id, label: r.label, color: r.color, value, step: s.steps[0]! });
  }
  return bars.length ? bars : null;
}

/**
 * Where each bar lies on a track from 0 to 1: every bar grows from zero (the baseline), so
 * the scale spans zero and the values; negative values grow leftwards from the baseline.
 */
export function barGeometry(values: readonly number[]): { baseline: number; bars: { start: number; width: number }[] } {
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  const span = hi - lo || 1;
  const baseline = (0 - lo) / span;
  return {
    baseline,
    bars: values.map((v) => {
      const at = (v - lo) / span;
      return { start: Math.min(at, baseline), width: Math.abs(at - baseline) };
    }),
  };
}
