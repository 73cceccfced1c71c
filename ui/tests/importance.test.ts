import { describe, expect, it } from "vitest";
import { chartEntries, importanceType, numericEntries, topBars } from "../src/lib/importance";

describe("importanceType", () => {
  it("reads the type from XGBoost's and LightGBM's file names", () => {
    expect(importanceType("feature_importance_weight.json")).toBe("weight");
    expect(importanceType("sub/dir/feature_importance_total_gain.json")).toBe("total_gain");
    expect(importanceType("feature_importance.json")).toBe("");
    expect(importanceType("feature_importance_gain.png")).toBeNull();
    expect(importanceType("importance.json")).toBeNull();
  });
});

describe("numericEntries", () => {
  it("takes a flat object of finite numbers, in the file's order", () => {
    expect(numericEntries({ b: 2, a: 1.5 })).toEqual([
      { name: "b", value: 2 },
      { name: "a", value: 1.5 },
    ]);
  });
  it("refuses anything else", () => {
    for (const v of [null, 3, "x", [1, 2], {}, { a: 1, b: "2" }, { a: { b: 1 } }, { a: [1] }, { a: null }, { a: true }])
      expect(numericEntries(v)).toBeNull();
  });
});

describe("chartEntries", () => {
  it("charts an importance file even with one feature, other files from two numbers", () => {
    expect(chartEntries("feature_importance_split.json", { f0: 3 })).toEqual([{ name: "f0", value: 3 }]);
    expect(chartEntries("scores.json", { f0: 3 })).toBeNull();
    expect(chartEntries("scores.json", { f0: 3, f1: 1 })).toHaveLength(2);
    expect(chartEntries("config.json", { lr: 0.1, layers: [64, 32] })).toBeNull();
  });
});

describe("topBars", () => {
  it("sorts largest first and keeps the first `limit`", () => {
    const entries = Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, value: (i * 7) % 40 }));
    const { bars, total, byMagnitude } = topBars(entries, 30);
    expect(total).toBe(40);
    expect(byMagnitude).toBe(false);
    expect(bars).toHaveLength(30);
    expect(bars.map((b) => b.value)).toEqual(Array.from({ length: 30 }, (_, i) => 39 - i));
  });
  it("keeps the file's order for ties", () => {
    const { bars } = topBars([{ name: "a", value: 1 }, { name: "b", value: 2 }, { name: "c", value: 1 }]);
    expect(bars.map((b) => b.name)).toEqual(["b", "a", "c"]);
  });
  it("orders by magnitude when some values are negative", () => {
    const { bars, byMagnitude } = topBars([{ name: "a", value: 0.5 }, { name: "b", value: -2 }, { name: "c", value: 1 }]);
    expect(byMagnitude).toBe(true);
    expect(bars.map((b) => b.name)).toEqual(["b", "c", "a"]);
  });
});
