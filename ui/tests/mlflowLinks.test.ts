import { describe, expect, it } from "vitest";
import { idList, mlflowTarget, sortColumn } from "../src/lib/mlflowLinks";

const hash = (h: string, search = "") => mlflowTarget("/", search, h);
const path = (p: string, search = "") => mlflowTarget(p, search, "");

describe("MLflow's hash links", () => {
  it("opens the run the client's 'View run at' link names", () => {
    expect(hash("#/experiments/3/runs/0123abcd")).toBe("/runs/0123abcd");
    // a workspace query after the run id is MLflow's, not part of the id
    expect(hash("#/experiments/3/runs/0123abcd?workspace=team%20a")).toBe("/runs/0123abcd");
  });
  it("opens the experiment the 'View experiment at' link names, with its search and sort", () => {
    expect(hash("#/experiments/3")).toBe("/experiments/3");
    expect(hash("#/experiments/3/runs")).toBe("/experiments/3");
    expect(hash("#/experiments/3/overview")).toBe("/experiments/3");
    expect(hash("#/experiments/3/traces")).toBe("/experiments/3");
    const q = hash("#/experiments/3?searchFilter=metrics.acc%20%3E%200.9&orderByKey=metrics.%60acc%60&orderByAsc=false");
    expect(q).toBe(`/experiments/3?${new URLSearchParams({ q: "metrics.acc > 0.9", sort: "-metric:acc" })}`);
  });
  it("maps a run's tabs and artifact paths", () => {
    expect(hash("#/experiments/1/runs/r1/model-metrics")).toBe("/runs/r1?tab=metrics");
    expect(hash("#/experiments/1/runs/r1/system-metrics")).toBe("/runs/r1?tab=system");
    expect(hash("#/experiments/1/runs/r1/artifacts")).toBe("/runs/r1?tab=artifacts");
    expect(hash("#/experiments/1/runs/r1/artifactPath/model/MLmodel")).toBe("/runs/r1?tab=artifacts&path=model%2FMLmodel");
    expect(hash("#/experiments/1/runs/r1/artifacts/plots/a.png")).toBe("/runs/r1?tab=artifacts&path=plots%2Fa.png");
    expect(hash("#/experiments/1/runs/r1/overview")).toBe("/runs/r1");
    expect(hash("#/runs/r1")).toBe("/runs/r1");
    expect(hash("#/experiments/1/evaluation-runs/r1")).toBe("/runs/r1");
  });
  it("maps logged models (MLflow 3)", () => {
    expect(hash("#/experiments/2/models")).toBe("/experiments/2/models");
    expect(hash("#/experiments/2/models/m-0123456789abcdef")).toBe("/experiments/2/models/m-0123456789abcdef");
    expect(hash("#/experiments/2/models/m-0123456789abcdef/artifacts")).toBe("/experiments/2/models/m-0123456789abcdef?tab=artifacts");
    expect(hash("#/experiments/2/models/m-0123456789abcdef/details")).toBe("/experiments/2/models/m-0123456789abcdef");
  });
  it("maps the registry, names kept encoded once", () => {
    expect(hash("#/models")).toBe("/models");
    expect(hash("#/models/my%20model")).toBe("/models/my%20model");
    expect(hash("#/models/my%20model/versions/3")).toBe("/models/my%20model/versions/3");
    expect(hash("#/models/iris/compare-versions")).toBe("/models/iris");
  });
  it("maps comparisons", () => {
    expect(hash('#/compare-runs?runs=["a","b"]&experiments=["1"]')).toBe("/compare?runs=a%2Cb");
    expect(hash('#/metric/acc?runs=["a","b"]&experiments=["1"]&plot_metric_keys=["acc","loss"]')).toBe(
      "/compare?runs=a%2Cb&charts=acc%2Closs",
    );
    expect(hash('#/compare-experiments/s?experiments=["1","2"]')).toBe("/experiments/1,2");
  });
  it("sends the home page and the experiments list home", () => {
    expect(hash("#/")).toBe("/");
    expect(hash("#/experiments")).toBe("/");
  });
  it("leaves links to pages mltrail does not have, and bad escapes, alone", () => {
    expect(hash("#/prompts/my-prompt")).toBeNull();
    expect(hash("#/experiments/1/runs/%E0%A4%A")).toBeNull();
    expect(mlflowTarget("/runs/abc", "", "#section")).toBeNull();
  });
});

describe("MLflow 3's path links", () => {
  it("maps the paths mltrail names otherwise", () => {
    expect(path("/experiments/4/runs/r9")).toBe("/runs/r9");
    expect(path("/experiments/4/runs/r9/artifacts/model/MLmodel")).toBe("/runs/r9?tab=artifacts&path=model%2FMLmodel");
    expect(path("/experiments/4/runs")).toBe("/experiments/4");
    expect(path("/experiments/4/overview")).toBe("/experiments/4");
    expect(path("/runs/r9/model-metrics")).toBe("/runs/r9?tab=metrics");
    expect(path("/experiments/4/models/m-abcdef0123/artifacts")).toBe("/experiments/4/models/m-abcdef0123?tab=artifacts");
  });
  it("leaves mltrail's own paths alone", () => {
    for (const p of ["/", "/experiments/4", "/experiments/4,5", "/experiments/all", "/runs/r9", "/compare", "/models", "/models/iris", "/models/iris/versions/2", "/experiments/4/models", "/experiments/4/models/m-abcdef0123"]) {
      expect(path(p, "?q=x")).toBeNull();
    }
  });
});

describe("helpers", () => {
  it("reads id lists as MLflow writes them, or comma-separated", () => {
    expect(idList('["a", "b"]')).toEqual(["a", "b"]);
    expect(idList("a, b,,c")).toEqual(["a", "b", "c"]);
    expect(idList(null)).toEqual([]);
  });
  it("maps MLflow's sort keys to column ids", () => {
    expect(sortColumn("metrics.`val loss`")).toBe("metric:val loss");
    expect(sortColumn("params.lr")).toBe("param:lr");
    expect(sortColumn("tags.`team`")).toBe("tag:team");
    expect(sortColumn("attributes.start_time")).toBe("attr:start_time");
    expect(sortColumn("nonsense")).toBeNull();
  });
});
