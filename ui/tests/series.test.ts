import { describe, expect, it } from "vitest";
import type { MetricSeries } from "../src/api/types";
import { aggregate, align, forLog, smooth, toXY } from "../src/lib/series";

const series = (steps: number[], values: (number | "NaN")[]): MetricSeries => ({
  run_id: "r",
  key: "k",
  exact: true,
  steps,
  timestamps: steps.map((s) => 1_000_000 + s * 1000),
  last: values,
  min: values,
  max: values,
});

describe("toXY", () => {
  it("maps step, wall time and relative time axes", () => {
    const s = series([0, 1, 2], [1, "NaN", 3]);
    expect(toXY(s, "step").x).toEqual([0, 1, 2]);
    expect(toXY(s, "step").y).toEqual([1, null, 3]);
    expect(toXY(s, "time").x).toEqual([1000, 1001, 1002]);
    expect(toXY(s, "relative", 999_000).x).toEqual([1, 2, 3]);
  });
});

describe("smooth", () => {
  it("is the identity at 0 and bias-corrected otherwise", () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const s = smooth([4, null, 4, 4], 0.9);
    expect(s[0]).toBeCloseTo(4);
    expect(s[1]).toBeNull();
    expect(s[3]).toBeCloseTo(4);
  });
});

describe("align", () => {
  it("keeps shared x exactly", () => {
    const a = align([{ x: [0, 1, 2], y: [1, 2, 3] }, { x: [0, 1, 2], y: [3, 2, 1] }], 100);
    expect(a.x).toEqual([0, 1, 2]);
    expect(a.ys).toEqual([[1, 2, 3], [3, 2, 1]]);
  });
  it("unions few distinct x values", () => {
    const a = align([{ x: [0, 2], y: [1, 3] }, { x: [1, 2], y: [5, 6] }], 100);
    expect(a.x).toEqual([0, 1, 2]);
    expect(a.ys).toEqual([[1, null, 3], [null, 5, 6]]);
  });
  it("grids many distinct x values to at most `buckets` slots", () => {
    const x1 = Array.from({ length: 1000 }, (_, i) => i * 2);
    const x2 = Array.from({ length: 1000 }, (_, i) => i * 2 + 1);
    const a = align([{ x: x1, y: x1 }, { x: x2, y: x2 }], 50);
    expect(a.x.length).toBe(50);
    expect(a.x[0]).toBe(0);
    expect(a.x[49]).toBe(1999);
    expect(a.ys[0]!.filter((v) => v !== null).length).toBeGreaterThan(40);
  });
});

describe("aggregate and forLog", () => {
  it("computes mean, min and max per slot", () => {
    const g = aggregate([[1, null, 3], [3, null, 5]], 3);
    expect(g.mean).toEqual([2, null, 4]);
    expect(g.min).toEqual([1, null, 3]);
    expect(g.max).toEqual([3, null, 5]);
  });
  it("drops non-positive values on log axes", () => {
    expect(forLog([0, -1, 2, null])).toEqual([null, null, 2, null]);
  });
});
