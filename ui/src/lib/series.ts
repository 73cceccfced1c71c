// Turning reduced metric series into chart data: x per axis mode, smoothing, alignment of
// many series on one pixel grid, and grouping (mean with a min-max band). Pure functions.

import type { MetricSeries, WireNumber } from "../api/types";
import type { XAxis } from "./urlState";

const num = (v: WireNumber | null | undefined): number => {
  if (typeof v === "number") return v;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return NaN;
};

export interface XY {
  x: number[];
  y: (number | null)[];
  lo: (number | null)[];
  hi: (number | null)[];
  steps: number[];
}

/** One series as x/y arrays for the chosen x axis (seconds for time axes). */
export function toXY(s: MetricSeries, xAxis: XAxis, runStart?: number): XY {
  const n = s.steps.length;
  const x = new Array<number>(n);
  const t0 = runStart ?? s.timestamps[0] ?? 0;
  for (let i = 0; i < n; i++) {
    if (xAxis === "step") x[i] = s.steps[i]!;
    else if (xAxis === "time") x[i] = s.timestamps[i]! / 1000;
    else x[i] = (s.timestamps[i]! - t0) / 1000;
  }
  const fin = (v: number) => (Number.isFinite(v) ? v : null);
  const y = s.last.map((v) => fin(num(v)));
  const lo = (s.min ?? s.last).map((v) => fin(num(v)));
  const hi = (s.max ?? s.last).map((v) => fin(num(v)));
  // The wall-time axis can be out of step order (clock changes): keep x ascending.
  if (xAxis !== "step") {
    let sorted = true;
    for (let i = 1; i < n; i++) if (x[i]! < x[i - 1]!) sorted = false;
    if (!sorted) {
      const idx = x.map((_, i) => i).sort((a, b) => x[a]! - x[b]!);
      return {
        x: idx.map((i) => x[i]!),
        y: idx.map((i) => y[i]!),
        lo: idx.map((i) => lo[i]!),
        hi: idx.map((i) => hi[i]!),
        steps: idx.map((i) => s.steps[i]!),
      };
    }
  }
  return { x, y, lo, hi, steps: [...s.steps] };
}

/** Exponential moving average with bias correction (0 = none); gaps stay gaps. */
export function smooth(y: readonly (number | null)[], weight: number): (number | null)[] {
  if (!weight) return [...y];
  const out: (number | null)[] = new Array(y.length);
  let last = 0;
  let count = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (v === null || v === undefined) {
      out[i] = null;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    count++;
    out[i] = last / (1 - Math.pow(weight, count));
  }
  return out;
}

/** Values that a log axis cannot draw (<= 0) become gaps. */
export function forLog(y: readonly (number | null)[]): (number | null)[] {
  return y.map((v) => (v !== null && v > 0 ? v : null));
}

export interface Aligned {
  x: number[];
  ys: (number | null)[][];
}

/**
 * Put many series on one x grid of at most `buckets` slots over their common range, so that a
 * chart gets one shared x array (what uPlot wants) without the cost of joining every distinct
 * x. With `buckets` near the chart's width in pixels the shift is under a pixel. Series that
 * already share their x values (and are short) are kept exact.
 */
export function align(series: readonly { x: readonly number[]; y: readonly (number | null)[] }[], buckets: number): Aligned {
  if (!series.length) return { x: [], ys: [] };
  const first = series[0]!;
  const same = series.every((s) => s.x.length === first.x.length && s.x.every((v, i) => v === first.x[i]));
  if (same && first.x.length <= buckets * 2) return { x: [...first.x], ys: series.map((s) => [...s.y]) };
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    if (s.x.length) {
      lo = Math.min(lo, s.x[0]!);
      hi = Math.max(hi, s.x[s.x.length - 1]!);
    }
  }
  if (!Number.isFinite(lo)) return { x: [], ys: series.map(() => []) };
  // Distinct x values, if few, are exact; else a grid.
  const distinct = new Set<number>();
  for (const s of series) {
    for (const v of s.x) {
      distinct.add(v);
      if (distinct.size > buckets) break;
    }
    if (distinct.size > buckets) break;
  }
  let x: number[];
  let slot: (v: number) => number;
  if (distinct.size <= buckets) {
    x = [...distinct].sort((a, b) => a - b);
    const index = new Map(x.map((v, i) => [v, i]));
    slot = (v) => index.get(v)!;
  } else {
    const n = Math.max(2, Math.floor(buckets));
    const width = (hi - lo) / (n - 1) || 1;
    x = Array.from({ length: n }, (_, i) => (i === n - 1 ? hi : lo + i * width));
    slot = (v) => Math.min(n - 1, Math.max(0, Math.round((v - lo) / width)));
  }
  const ys = series.map((s) => {
    const out = new Array<number | null>(x.length).fill(null);
    for (let i = 0; i < s.x.length; i++) {
      const v = s.y[i];
      if (v !== null && v !== undefined) out[slot(s.x[i]!)] = v;
    }
    return out;
  });
  return { x, ys };
}

/** Mean, min and max across aligned series, slot by slot (null where none has a value). */
export function aggregate(ys: readonly (readonly (number | null)[])[], length: number) {
  const mean = new Array<number | null>(length).fill(null);
  const min = new Array<number | null>(length).fill(null);
  const max = new Array<number | null>(length).fill(null);
  for (let i = 0; i < length; i++) {
    let sum = 0;
    let n = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const y of ys) {
      const v = y[i];
      if (v === null || v === undefined) continue;
      sum += v;
      n++;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (n) {
      mean[i] = sum / n;
      min[i] = lo;
      max[i] = hi;
    }
  }
  return { mean, min, max };
}

/** Carry the last value forward over gaps (for group means of series on different grids). */
export function fillForward(y: readonly (number | null)[]): (number | null)[] {
  const out = [...y];
  let seen: number | null = null;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === null) out[i] = seen;
    else seen = out[i]!;
  }
  return out;
}

export const PALETTE = [
  "#2f6fe0", "#e0662f", "#23a35a", "#c23a8f", "#8a5cf6", "#d4a017", "#1aa3b8", "#e04848",
  "#6b8e23", "#9c6b4a", "#5c7cfa", "#f08c00", "#0ca678", "#ae3ec9", "#495057", "#f03e3e",
];
export const colorAt = (i: number) => PALETTE[i % PALETTE.length]!;
