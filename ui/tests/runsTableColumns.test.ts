import { describe, expect, it } from "vitest";
import type { Run } from "../src/api/types";
import {
  DEFAULT_COLUMNS,
  cellExport,
  cellText,
  cellTitle,
  columnsFromIds,
  defaultColumnIds,
  keyColumnWidth,
  paramsThatDifferFirst,
  sourceFileName,
} from "../src/lib/columns";

const run = (id: string, params: Record<string, string>, tags: Record<string, string> = {}): Run => ({
  info: { run_id: id, run_name: id, experiment_id: "1", status: "FINISHED", start_time: 1, lifecycle_stage: "active" },
  data: {
    params: Object.entries(params).map(([key, value]) => ({ key, value })),
    tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
  },
});

describe("sourceFileName", () => {
  it("keeps the last part of a path or URL", () => {
    expect(sourceFileName("/home/ana/projects/train_imagenet.py")).toBe("train_imagenet.py");
    expect(sourceFileName("C:\\work\\fit.py")).toBe("fit.py");
    expect(sourceFileName("https://github.com/org/repo/")).toBe("repo");
    expect(sourceFileName("<console>")).toBe("<console>");
    expect(sourceFileName("train.py")).toBe("train.py");
  });
});

describe("the source column", () => {
  const r = run("a", {}, { "mlflow.source.name": "/home/ana/projects/vision/train.py" });
  const [source] = columnsFromIds(["attr:source"]);
  it("shows the file name, the whole path in its tooltip and in the CSV export", () => {
    expect(cellText(r, source!)).toBe("train.py");
    expect(cellTitle(r, source!)).toBe("/home/ana/projects/vision/train.py");
    expect(cellExport(r, source!)).toBe("/home/ana/projects/vision/train.py");
  });
  it("titles other cells with their text", () => {
    const [name] = columnsFromIds(["attr:run_name"]);
    expect(cellTitle(r, name!)).toBe("a");
  });
});

describe("paramsThatDifferFirst", () => {
  it("puts the params whose value differs between runs first, each group in its order", () => {
    const runs = [run("a", { seed: "1", lr: "0.1", depth: "3" }), run("b", { seed: "1", lr: "0.01", depth: "3" })];
    expect(paramsThatDifferFirst(["depth", "lr", "seed"], runs)).toEqual(["lr", "depth", "seed"]);
  });
  it("counts a param some runs lack as differing", () => {
    const runs = [run("a", { seed: "1" }), run("b", {})];
    expect(paramsThatDifferFirst(["seed", "x"], runs)).toEqual(["seed", "x"]);
  });
});

describe("defaultColumnIds", () => {
  const runs = [run("a", { seed: "1", lr: "0.1" }), run("b", { seed: "1", lr: "0.01" })];
  const keys = { params: ["lr", "seed"], metrics: ["acc", "system/cpu"] };
  it("puts params and metrics right after the name and status, the times, user and source after them", () => {
    expect(defaultColumnIds(DEFAULT_COLUMNS, keys, runs)).toEqual([
      "attr:run_name",
      "attr:status",
      "param:lr",
      "param:seed",
      "metric:acc",
      "attr:start_time",
      "attr:duration",
      "attr:user_id",
      "attr:source",
    ]);
  });
  it("adds the experiment after the name when several are shown, and caps the params", () => {
    const ids = defaultColumnIds(DEFAULT_COLUMNS, keys, runs, { several: true, params: 1 });
    expect(ids.slice(0, 4)).toEqual(["attr:run_name", "attr:experiment_id", "attr:status", "param:lr"]);
    expect(ids).not.toContain("param:seed");
  });
});

describe("keyColumnWidth", () => {
  it("fits the key's name, within bounds", () => {
    expect(keyColumnWidth("lr")).toBe(100);
    expect(keyColumnWidth("final_accuracy")).toBeGreaterThan(keyColumnWidth("param_01_x"));
    expect(keyColumnWidth("x".repeat(80))).toBe(170);
  });
});
