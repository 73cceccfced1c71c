import { describe, expect, it } from "vitest";
import type { MetricSeries } from "../src/api/types";
import { barGeometry, singleValueBars } from "../src/lib/metricBars";

const series = (run_id: string, steps: number[], last: (number | string)[]): MetricSeries =>
  ({ run_id, key: "m", steps, last, timestamps: steps.map(() => 0), min: last, max: last, exact: true, count: steps.length }) as unknown as MetricSeries;
const runs = [
  { id: "a", label: "run a", color: "#111" },
  { id: "b", label: "run b", color: "#222" },
  { id: "c", label: "run c", color: "#333" },
];

describe("singleValueBars", () => {
  it("makes one bar a run when every series has at most one point", () => {
    const bars = singleValueBars(runs, [series("b", [3], [0.5]), series("a", [0], [0.8]), series("c", [], [])]);
    expect(bars).toEqual([
      { id: "a", label: "run a", color: "#111", value: 0.8, step: 0 },
      { id: "b", label: "run b", color: "#222", value: 0.5, step: 3 },
    ]);
  });
  it("leaves a metric with a history to the line chart", () => {
    expect(singleValueBars(runs, [series("a", [0, 1], [1, 2]), series("b", [0], [1])])).toBeNull();
  });
  it("draws no bar for NaN, and nothing without any value", () => {
    expect(singleValueBars(runs, [series("a", [0], ["NaN"])])).toBeNull();
    expect(singleValueBars(runs, [])).toBeNull();
  });
});

describe("barGeometry", () => {
  it("grows positive bars from zero at the left", () => {
    const g = barGeometry([0.8, 0.4]);
    expect(g.baseline).toBe(0);
    expect(g.bars).toEqual([
      { start: 0, width: 1 },
      { start: 0, width: 0.5 },
    ]);
  });
  it("puts the baseline inside when values have both signs", () => {
    const g = barGeometry([-1, 3]);
    expect(g.baseline).toBe(0.25);
    expect(g.bars[0]).toEqual({ start: 0, width: 0.25 });
    expect(g.bars[1]).toEqual({ start: 0.25, width: 0.75 });
  });
  it("survives all zeros", () => {
    expect(barGeometry([0, 0]).bars).toEqual([
      { start: 0, width: 0 },
      { start: 0, width: 0 },
    ]);
  });
});
