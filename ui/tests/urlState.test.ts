import { describe, expect, it } from "vitest";
import { DEFAULT_COLUMNS, columnsFromIds, parseColumnId, quoteKey } from "../src/lib/columns";
import { DEFAULT_VIEW, formatView, parseView } from "../src/lib/urlState";

describe("URL state", () => {
  it("writes nothing for the defaults", () => {
    expect(formatView(DEFAULT_VIEW)).toBe("");
    expect(parseView("")).toEqual(DEFAULT_VIEW);
  });
  it("round-trips every field", () => {
    const state = {
      filter: "metrics.acc > 0.5 OR (params.lr = '0.1' AND tags.team = 'a&b')",
      sort: { column: "metric:val/loss", desc: false },
      columns: ["attr:run_name", "param:my param", "metricmax:acc"],
      selected: ["abc", "def"],
      view: "all" as const,
      xAxis: "relative" as const,
      logScale: true,
      smoothing: 0.6,
      groupBy: "optimizer",
      chartKeys: ["acc", "val/loss"],
    };
    const qs = formatView(state);
    expect(parseView(qs.slice(1))).toEqual(state);
  });
  it("keeps unrelated parameters and drops ones set back to default", () => {
    const qs = formatView({ filter: "" , view: "active" }, new URLSearchParams("q=x&tab=charts&view=deleted"));
    expect(qs).toBe("?tab=charts");
  });
  it("ignores junk", () => {
    const v = parseView("sort=nonsense&view=bogus&smooth=7&x=weird");
    expect(v.sort).toEqual(DEFAULT_VIEW.sort);
    expect(v.view).toBe("active");
    expect(v.smoothing).toBe(0.99);
    expect(v.xAxis).toBe("step");
  });
  it("empty cols means no columns, absent means defaults", () => {
    expect(parseView("cols=").columns).toEqual([]);
    expect(parseView("").columns).toEqual(DEFAULT_COLUMNS);
  });
});

describe("columns", () => {
  it("maps columns to order_by identifiers", () => {
    expect(parseColumnId("metric:f1 score")?.orderBy).toBe("metrics.`f1 score`");
    expect(parseColumnId("metricmin:loss")?.orderBy).toBe("min(metrics.loss)");
    expect(parseColumnId("param:lr")?.orderBy).toBe("params.lr");
    expect(parseColumnId("attr:start_time")?.orderBy).toBe("attributes.start_time");
    expect(parseColumnId("attr:nope")).toBeNull();
    expect(columnsFromIds(["attr:status", "attr:status", "bad"]).map((c) => c.id)).toEqual(["attr:status"]);
  });
  it("quotes keys the grammar cannot take bare", () => {
    expect(quoteKey("val/loss")).toBe("val/loss");
    expect(quoteKey("a`b c")).toBe("`a``b c`");
  });
});
