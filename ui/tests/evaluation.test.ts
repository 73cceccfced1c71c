import { describe, expect, it } from "vitest";
import type { Run } from "../src/api/types";
import { compareRows, comparePlots, evalColumns } from "../src/lib/evalCompare";
import { datasetsTag, evaluatedOn, evaluationLabel, evaluationsOf, isEvaluation, metricBase, plotKey } from "../src/lib/evaluation";

function run(id: string, opts: { tags?: Record<string, string>; metrics?: Record<string, number | string>; inputs?: { name: string; digest: string; context?: string; rows?: number }[] }): Run {
  return {
    info: { run_id: id, experiment_id: "1", status: "FINISHED", lifecycle_stage: "active" },
    data: {
      tags: Object.entries(opts.tags ?? {}).map(([key, value]) => ({ key, value })),
      metrics: Object.entries(opts.metrics ?? {}).map(([key, value]) => ({ key, value, timestamp: 0, step: 0 })),
    },
    inputs: {
      dataset_inputs: (opts.inputs ?? []).map((d) => ({
        dataset: { name: d.name, digest: d.digest, source_type: "code", source: "{}", profile: d.rows === undefined ? undefined : JSON.stringify({ num_rows: d.rows }) },
        tags: d.context === undefined ? [] : [{ key: "mlflow.data.context", value: d.context }],
      })),
    },
  } as Run;
}

// What MLflow 3.17 recorded for one binary classifier evaluated without a prefix.
const BINARY_TAG = '[{"name":"dataset","hash":"383226c2f070f66877cf4d54ac61eb67","model":"m-035f"}]';
const BINARY_FILES = ["calibration_curve_plot.png", "confusion_matrix.png", "lift_curve_plot.png", "precision_recall_curve_plot.png", "roc_curve_plot.png", "model"];
const binary = run("a", {
  tags: { "mlflow.datasets": BINARY_TAG },
  metrics: { accuracy_score: 0.96, f1_score: 0.96, log_loss: 0.138, true_positives: 96, example_count: 200, score: 0.96, training_loss: 0.5, "system/cpu": 3 },
  inputs: [{ name: "dataset", digest: "3a8c4073", rows: 200 }],
});

// Two evaluations in one run, with the prefixes val_ and test_ (and a custom per-row metric).
const TWO_TAG = '[{"name":"val-set","hash":"8a92","model":"m-5d22"},{"name":"test-set","hash":"ab1f","model":"m-5d22"}]';
const TWO_FILES = [
  "per_class_metrics.csv", "test_calibration_curve_plot.png", "test_confusion_matrix.png", "test_eval_results_table.json",
  "test_roc_curve_plot.png", "val_confusion_matrix.png", "val_eval_results_table.json", "val_roc_curve_plot.png", "val_custom.png",
];
const two = run("b", {
  tags: { "mlflow.datasets": TWO_TAG },
  metrics: { val_accuracy_score: 0.8, "val_abs_err/val_mean": 0.3, test_accuracy_score: 0.75, test_log_loss: 0.6, accuracy: 0.9 },
  inputs: [
    { name: "val-set", digest: "b6d6530c", context: "val_", rows: 150 },
    { name: "test-set", digest: "e5349589", context: "test_", rows: 150 },
  ],
});

describe("the mlflow.datasets tag", () => {
  it("reads its entries and says whether a run is an evaluation", () => {
    expect(datasetsTag(binary)).toEqual([{ name: "dataset", hash: "383226c2f070f66877cf4d54ac61eb67", model: "m-035f", path: undefined }]);
    expect(isEvaluation(binary)).toBe(true);
    expect(evaluatedOn(two)).toEqual(["val-set", "test-set"]);
    expect(isEvaluation(run("c", { tags: { "mlflow.datasets": "not json" } }))).toBe(false);
    expect(isEvaluation(run("c", { tags: { "mlflow.datasets": '{"name": "x"}' } }))).toBe(false);
    expect(isEvaluation(run("c", {}))).toBe(false);
  });
});

describe("evaluationsOf", () => {
  it("finds one evaluation without a prefix: dataset with its input, default metrics, known plots in order", () => {
    const [e, ...rest] = evaluationsOf(binary, BINARY_FILES);
    expect(rest).toEqual([]);
    expect(e!.prefix).toBe("");
    expect(e!.datasets).toEqual([{ name: "dataset", hash: "383226c2f070f66877cf4d54ac61eb67", model: "m-035f", path: undefined, digest: "3a8c4073", rows: 200 }]);
    // Not the run's other metrics (training_loss) nor system metrics.
    expect(e!.metrics).toEqual(["accuracy_score", "example_count", "f1_score", "log_loss", "score", "true_positives"]);
    expect(e!.plots).toEqual(["confusion_matrix.png", "roc_curve_plot.png", "precision_recall_curve_plot.png", "lift_curve_plot.png", "calibration_curve_plot.png"]);
    expect(e!.table).toBeNull();
  });

  it("splits a run evaluated on two datasets by their prefixes", () => {
    const evs = evaluationsOf(two, TWO_FILES);
    expect(evs.map((e) => e.prefix)).toEqual(["test_", "val_"]);
    const [test, val] = evs;
    expect(test!.datasets.map((d) => [d.name, d.digest])).toEqual([["test-set", "e5349589"]]);
    expect(test!.metrics).toEqual(["test_accuracy_score", "test_log_loss"]);
    expect(test!.plots).toEqual(["test_confusion_matrix.png", "test_roc_curve_plot.png", "test_calibration_curve_plot.png"]);
    expect(test!.table).toBe("test_eval_results_table.json");
    expect(val!.metrics).toEqual(["val_abs_err/val_mean", "val_accuracy_score"]);
    expect(val!.plots).toEqual(["val_confusion_matrix.png", "val_roc_curve_plot.png", "val_custom.png"]);
    expect(evaluationLabel(val!)).toBe("val-set (val_)");
  });

  it("before the artifacts are listed, from the tags and inputs alone", () => {
    const evs = evaluationsOf(two, null);
    expect(evs.map((e) => [e.prefix, e.datasets[0]!.name, e.plots.length])).toEqual([["test_", "test-set", 0], ["val_", "val-set", 0]]);
  });

  it("finds an evaluation from its files when the tag is missing, and none in a plain run", () => {
    const untagged = run("d", { metrics: { accuracy_score: 0.5 } });
    const [e] = evaluationsOf(untagged, ["eval_results_table.json", "roc_curve_plot.png"]);
    expect(e).toMatchObject({ prefix: "", datasets: [], metrics: ["accuracy_score"], plots: ["roc_curve_plot.png"], table: "eval_results_table.json" });
    expect(evaluationsOf(run("e", { metrics: { acc: 1 } }), ["plot.png", "model"])).toEqual([]);
  });

  it("takes no autologged training plot for an evaluation", () => {
    // sklearn autologging: training_* metrics and plots, no mlflow.datasets tag
    const autologged = run("h", { metrics: { training_accuracy_score: 0.9, training_log_loss: 0.2 } });
    const files = ["training_confusion_matrix.png", "training_roc_curve.png", "estimator.html"];
    expect(evaluationsOf(autologged, files)).toEqual([]);
    // ... and in a run also evaluated, they stay out of the evaluation.
    const both = run("i", { tags: { "mlflow.datasets": BINARY_TAG }, metrics: { training_accuracy_score: 0.9, accuracy_score: 0.8 } });
    const [e, ...rest] = evaluationsOf(both, [...files, "confusion_matrix.png"]);
    expect(rest).toEqual([]);
    expect(e!.plots).toEqual(["confusion_matrix.png"]);
    expect(e!.metrics).toEqual(["accuracy_score"]);
  });

  it("puts two evaluations without a prefix together", () => {
    const r = run("f", {
      tags: { "mlflow.datasets": '[{"name":"a","hash":"1","model":"m"},{"name":"b","hash":"2","model":"m"}]' },
      metrics: { r2_score: 0.9 },
    });
    const evs = evaluationsOf(r, []);
    expect(evs).toHaveLength(1);
    expect(evs[0]!.datasets.map((d) => d.name)).toEqual(["a", "b"]);
    expect(evaluationLabel(evs[0]!)).toBe("a, b");
  });
});

describe("names without the prefix", () => {
  it("strips the prefix of metrics, aggregates and plots", () => {
    expect(metricBase("val_f1_score", "val_")).toBe("f1_score");
    expect(metricBase("val_abs_err/val_mean", "val_")).toBe("abs_err/mean");
    expect(metricBase("f1_score", "")).toBe("f1_score");
    expect(plotKey("val_roc_curve_plot.png", "val_")).toBe("roc_curve_plot");
    expect(plotKey("confusion_matrix.png", "")).toBe("confusion_matrix");
  });
});

describe("comparing evaluations", () => {
  const other = run("g", {
    tags: { "mlflow.datasets": '[{"name":"dataset","hash":"9","model":"m-2"}]' },
    metrics: { accuracy_score: 0.9, f1_score: 0.97, log_loss: 0.1, example_count: 200 },
  });
  const cols = evalColumns([
    { run: binary, evaluations: evaluationsOf(binary, BINARY_FILES) },
    { run: other, evaluations: evaluationsOf(other, ["confusion_matrix.png"]) },
    { run: two, evaluations: evaluationsOf(two, TWO_FILES) },
  ]);

  it("makes a column per evaluation, and filters them by dataset", () => {
    expect(cols.map((c) => [c.run.info.run_id, c.runIndex, c.label])).toEqual([["a", 0, "dataset"], ["g", 1, "dataset"], ["b", 2, "test-set (test_)"], ["b", 2, "val-set (val_)"]]);
    const only = evalColumns([{ run: two, evaluations: evaluationsOf(two, TWO_FILES) }], ["val-set"]);
    expect(only.map((c) => c.evaluation.prefix)).toEqual(["val_"]);
  });

  it("meets metrics by their names without prefix: best per row, differences to the first column", () => {
    const rows = compareRows(cols);
    const acc = rows.find((r) => r.metric === "accuracy_score")!;
    expect(acc.values).toEqual([0.96, 0.9, 0.75, 0.8]);
    expect(acc.best).toBe(0);
    expect(acc.diffs[0]).toBeNull();
    expect(acc.diffs[1]!.change).toBe("worse");
    expect(acc.diffs[1]!.delta).toBeCloseTo(-0.06);
    const loss = rows.find((r) => r.metric === "log_loss")!;
    expect(loss.direction).toBe("lower");
    expect(loss.best).toBe(1); // 0.1 < 0.138 < 0.6
    expect(loss.diffs[1]!.change).toBe("better");
    expect(loss.values[3]).toBeUndefined();
    expect(loss.diffs[3]).toBeNull();
    const count = rows.find((r) => r.metric === "example_count")!;
    expect(count.best).toBeNull();
    expect(count.diffs[1]!.change).toBe("same");
  });

  it("sets the plots of one name side by side", () => {
    const plots = comparePlots(cols);
    const cm = plots.find((p) => p.name === "confusion_matrix")!;
    expect(cm.paths).toEqual(["confusion_matrix.png", "confusion_matrix.png", "test_confusion_matrix.png", "val_confusion_matrix.png"]);
    const lift = plots.find((p) => p.name === "lift_curve_plot")!;
    expect(lift.paths).toEqual(["lift_curve_plot.png", null, null, null]);
    expect(plots[0]!.name).toBe("confusion_matrix");
  });
});
