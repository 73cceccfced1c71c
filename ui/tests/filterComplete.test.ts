import { describe, expect, it } from "vitest";
import { applySuggestion, complete, tokenize } from "../src/lib/filterComplete";

const keys = { params: ["lr", "optimizer", "my param"], metrics: ["acc", "val/loss", "f1 score"], tags: ["team"] };
const labels = (src: string, caret = src.length, values?: (f: string) => string[]) =>
  complete(src, caret, keys, values).items.map((s) => s.label);

describe("tokenize", () => {
  it("keeps back-quoted keys with their entity", () => {
    const t = tokenize("metrics.`f1 score` > 0.5").filter((x) => x.kind !== "ws");
    expect(t.map((x) => x.text)).toEqual(["metrics.`f1 score`", ">", "0.5"]);
  });
  it("marks an unterminated string open", () => {
    const t = tokenize("params.a = 'ad");
    expect(t[t.length - 1]).toMatchObject({ kind: "string", closed: false });
  });
});

describe("complete", () => {
  it("offers entities and attributes at the start", () => {
    const l = labels("");
    expect(l).toContain("metrics.");
    expect(l).toContain("params.");
    expect(l).toContain("status");
  });
  it("offers an entity's keys after its prefix, quoting odd ones", () => {
    expect(labels("metrics.")).toEqual(["metrics.acc", "metrics.val/loss", "metrics.`f1 score`"]);
    expect(labels("params.my")).toEqual(["params.`my param`"]);
    expect(labels("param.o")).toEqual(["param.optimizer"]);
  });
  it("finds keys from a bare word", () => {
    expect(labels("acc")).toContain("metrics.acc");
  });
  it("offers numeric operators for metrics and string ones for params", () => {
    expect(labels("metrics.acc ")).toContain(">=");
    expect(labels("metrics.acc ")).not.toContain("LIKE");
    expect(labels("params.lr ")).toContain("LIKE");
    expect(labels("params.lr ")).toContain("IN");
  });
  it("completes IS NOT NULL", () => {
    expect(labels("tags.team IS ")).toEqual(["NULL", "NOT NULL"]);
  });
  it("offers statuses as values", () => {
    expect(labels("status = ")).toContain("'FINISHED'");
    expect(labels("status = 'FA")).toEqual(["'FAILED'"]);
  });
  it("offers known values of a param", () => {
    const values = (f: string) => (f === "params.optimizer" ? ["adam", "sgd"] : []);
    expect(labels("params.optimizer = ", undefined, values)).toEqual(["'adam'", "'sgd'"]);
  });
  it("offers AND / OR after a comparison, and fields after them", () => {
    expect(labels("metrics.acc > 0.5 ")).toEqual(["AND", "OR"]);
    expect(labels("metrics.acc > 0.5 O")).toEqual(["OR"]);
    expect(labels("metrics.acc > 0.5 OR (par")).toContain("params.");
  });
  it("handles parentheses, NOT and min()", () => {
    expect(labels("(metrics.acc > 1 OR params.lr = '1') ")).toEqual(["AND", "OR"]);
    expect(labels("NOT metrics.acc ")).toContain("<");
    expect(labels("min(metrics.acc) ")).toContain("<=");
  });
  it("completes in the middle of the text", () => {
    const src = "metrics.a > 1 AND params.lr = '2'";
    const c = complete(src, "metrics.a".length, keys);
    expect(c.items.map((s) => s.label)).toEqual(["metrics.acc", "metrics.val/loss"]);
    const applied = applySuggestion(src, c, c.items[0]!);
    expect(applied.text).toBe("metrics.acc  > 1 AND params.lr = '2'");
    expect(applied.caret).toBe("metrics.acc ".length);
  });
});
