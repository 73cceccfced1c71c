import { describe, expect, it } from "vitest";
import type { Experiment, Run } from "../src/api/types";
import {
  type RunsSummary,
  experimentDescription,
  experimentTags,
  runCountLabel,
  sortExperiments,
  summarizeRuns,
} from "../src/lib/experimentsOverview";

const exp = (id: string, name: string, created: number, tags: Record<string, string> = {}): Experiment =>
  ({
    experiment_id: id,
    name,
    lifecycle_stage: "active",
    creation_time: created,
    tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
  }) as Experiment;
const run = (id: string, start: number): Run => ({
  info: { run_id: id, run_name: `r-${id}`, experiment_id: "1", status: "FINISHED", start_time: start, lifecycle_stage: "active" },
  data: {},
});

describe("summarizeRuns", () => {
  it("counts the runs and takes the first (newest) as the last run", () => {
    const s = summarizeRuns([run("b", 20), run("a", 10)], undefined);
    expect(s).toEqual({ count: 2, more: false, last: { id: "b", name: "r-b", start: 20 } });
    expect(runCountLabel(s)).toBe("2");
  });
  it("says when there are more runs than counted, and when there are none", () => {
    expect(runCountLabel(summarizeRuns([run("a", 1)], "next"))).toBe("1+");
    expect(summarizeRuns([], undefined)).toEqual({ count: 0, more: false, last: null });
  });
});

describe("an experiment's description and tags", () => {
  const e = exp("1", "x", 1, { "mlflow.note.content": "**hi**", team: "vision", "mltrail.x": "y", area: "cv" });
  it("reads the description from mlflow.note.content and leaves system tags out", () => {
    expect(experimentDescription(e)).toBe("**hi**");
    expect(experimentTags(e).map((t) => t.key)).toEqual(["area", "team"]);
    expect(experimentDescription(exp("2", "y", 1))).toBe("");
  });
});

describe("sortExperiments", () => {
  const a = exp("1", "alpha", 300);
  const b = exp("2", "beta", 100);
  const c = exp("3", "gamma", 200);
  const summaries = new Map<string, RunsSummary>([
    ["1", { count: 0, more: false, last: null }],
    ["2", { count: 5, more: true, last: { id: "x", name: "x", start: 50 } }],
  ]);
  it("sorts by name, runs, last run and creation", () => {
    expect(sortExperiments([c, b, a], summaries, "name").map((e) => e.name)).toEqual(["alpha", "beta", "gamma"]);
    expect(sortExperiments([a, b, c], summaries, "runs").map((e) => e.name)).toEqual(["beta", "alpha", "gamma"]);
    expect(sortExperiments([a, b, c], summaries, "last").map((e) => e.name)).toEqual(["beta", "alpha", "gamma"]);
    expect(sortExperiments([b, c, a], summaries, "created").map((e) => e.name)).toEqual(["alpha", "gamma", "beta"]);
  });
});
