import { describe, expect, it } from "vitest";
import { fitText, parallelLayout } from "../src/lib/parallel";

const measure = (t: string) => t.length * 7; // a monospace stand-in for the canvas

describe("fitText", () => {
  it("keeps text that fits and cuts the rest with an ellipsis", () => {
    expect(fitText("params.lr", 100, measure)).toBe("params.lr");
    const cut = fitText("params.a_very_long_parameter_name", 70, measure);
    expect(cut.endsWith("…")).toBe(true);
    expect(measure(cut)).toBeLessThanOrEqual(70);
  });
});

describe("parallelLayout", () => {
  const axes = [
    { title: "params.param_00_", values: ["0", "0"] },
    { title: "params.optimizer", values: ["adam", "sgd"] },
    { title: "metrics.acc", values: ["0.886540", "0.853776"] },
  ];
  it("leaves room at both ends for the titles and the last axis' values", () => {
    const l = parallelLayout(axes, measure, { minWidth: 300 });
    // The first title is centred on its axis: half of it must fit left of the axis.
    expect(l.xs[0]! - measure(l.titles[0]!) / 2).toBeGreaterThanOrEqual(0);
    // The last axis' values are drawn right of it.
    const last = l.xs[2]!;
    for (const v of l.values[2]!) expect(last + 4 + measure(v)).toBeLessThanOrEqual(l.width);
    expect(last + measure(l.titles[2]!) / 2).toBeLessThanOrEqual(l.width);
  });
  it("cuts titles longer than the room between axes", () => {
    const l = parallelLayout([{ title: "params." + "x".repeat(60), values: [] }, ...axes], measure, { spacing: 100, minWidth: 300 });
    expect(l.titles[0]!.endsWith("…")).toBe(true);
    expect(measure(l.titles[0]!)).toBeLessThanOrEqual(90);
  });
  it("gives the labels the room of axes spread wider than the spacing", () => {
    const long = [{ title: "params." + "x".repeat(40), values: ["1"] }, ...axes];
    const tight = parallelLayout(long, measure, { spacing: 100, minWidth: 300 });
    const wide = parallelLayout(long, measure, { spacing: 100, minWidth: 1200 });
    expect(wide.titles[0]!.length).toBeGreaterThan(tight.titles[0]!.length);
    const step = wide.xs[1]! - wide.xs[0]!;
    for (const t of wide.titles) expect(measure(t)).toBeLessThanOrEqual(step - 10);
    expect(wide.xs[0]! - measure(wide.titles[0]!) / 2).toBeGreaterThanOrEqual(0);
  });
  it("spreads the axes over the width asked", () => {
    const l = parallelLayout(axes, measure, { minWidth: 1000 });
    expect(l.width).toBe(1000);
    expect(l.xs[1]! - l.xs[0]!).toBeCloseTo(l.xs[2]! - l.xs[1]!);
  });
});
