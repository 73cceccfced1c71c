import { describe, expect, it } from "vitest";
import { bestIndex, diffAgainst, formatDelta, groupMetrics, metricDirection } from "../src/lib/evalMetrics";

describe("metricDirection", () => {
  it("knows MLflow's default metrics", () => {
    for (const m of ["accuracy_score", "precision_score", "recall_score", "f1_score", "roc_auc", "precision_recall_auc", "r2_score", "score", "true_positives"])
      expect(metricDirection(m), m).toBe("higher");
    for (const m of ["log_loss", "mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "max_error", "mean_absolute_percentage_error", "false_negatives"])
      expect(metricDirection(m), m).toBe("lower");
    for (const m of ["example_count", "sum_on_target", "mean_on_target"]) expect(metricDirection(m), m).toBeNull();
  });

  it("reads other names for what they say, and custom aggregates by the metric's name", () => {
    expect(metricDirection("val_error_rate")).toBe("lower");
    expect(metricDirection("my_loss")).toBe("lower");
    expect(metricDirection("balanced_accuracy")).toBe("higher");
    expect(metricDirection("abs_err/mean")).toBe("lower");
    expect(metricDirection("toxicity/ratio")).toBe("lower");
    expect(metricDirection("exact_match/v1")).toBe("higher");
    expect(metricDirection("abs_err/variance")).toBeNull();
    expect(metricDirection("widgets")).toBeNull();
  });
});

describe("groupMetrics", () => {
  it("groups by kind, the rest as custom metrics, empty groups left out", () => {
    const keys = ["val_accuracy_score", "val_true_positives", "val_example_count", "val_abs_err/val_mean", "val_log_loss"];
    const groups = groupMetrics(keys, (k) => k.slice(4).replace("/val_", "/"));
    expect(groups).toEqual([
      { title: "Classification", keys: ["val_accuracy_score", "val_log_loss"] },
      { title: "Confusion counts", keys: ["val_true_positives"] },
      { title: "Data", keys: ["val_example_count"] },
      { title: "Custom metrics", keys: ["val_abs_err/val_mean"] },
    ]);
  });
});

describe("bestIndex", () => {
  it("takes the highest or lowest, the first on ties, none without a direction", () => {
    expect(bestIndex([0.5, 0.9, 0.9], "higher")).toBe(1);
    expect(bestIndex([0.5, 0.1, undefined], "lower")).toBe(1);
    expect(bestIndex([0.5, 0.9], null)).toBeNull();
  });
  it("has no best for one value or all equal; NaN and missing values never win", () => {
    expect(bestIndex([0.5, undefined], "higher")).toBeNull();
    expect(bestIndex([0.5, 0.5], "higher")).toBeNull();
    expect(bestIndex([NaN, 0.2, 0.3], "lower")).toBe(1);
  });
});

describe("diffAgainst", () => {
  it("says better or worse by direction, with the relative change", () => {
    expect(diffAgainst(0.9, 0.8, "higher")).toEqual({ delta: 0.09999999999999998, relative: 0.12499999999999997, change: "better" });
    expect(diffAgainst(0.9, 0.8, "lower")!.change).toBe("worse");
    expect(diffAgainst(3, 3, "lower")!.change).toBe("same");
    expect(diffAgainst(4, 3, null)!.change).toBe("changed");
    expect(diffAgainst(1, 0, "higher")!.relative).toBeNull();
    expect(diffAgainst(undefined, 0.5, "higher")).toBeNull();
    expect(diffAgainst(0.5, NaN, "higher")).toBeNull();
  });
  it("formats a delta with its sign", () => {
    expect(formatDelta(0.25, String)).toBe("+0.25");
    expect(formatDelta(-2, String)).toBe("\u22122");
    expect(formatDelta(0, String)).toBe("±0");
  });
});
