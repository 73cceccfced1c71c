import { describe, expect, it } from "vitest";
import type { Run } from "../src/api/types";
import { cellText, columnsFromIds } from "../src/lib/columns";
import { parseCsv } from "../src/lib/csv";
import { runsToCsv } from "../src/lib/export";

const run = (id: string, extra: Partial<Run["data"]> = {}): Run => ({
  info: {
    run_id: id,
    run_name: `run,${id}`,
    experiment_id: "1",
    status: "FINISHED",
    start_time: Date.UTC(2024, 0, 2, 3, 4, 5),
    end_time: Date.UTC(2024, 0, 2, 3, 4, 35),
    lifecycle_stage: "active",
  },
  data: extra,
});

describe("runsToCsv", () => {
  it("writes a header and one row per run with full-precision values", () => {
    const cols = columnsFromIds(["attr:run_name", "attr:start_time", "attr:duration", "param:lr", "metric:acc", "metricmax:acc", "tag:team"]);
    const csv = runsToCsv(
      [
        run("a", {
          params: [{ key: "lr", value: "0.001" }],
          metrics: [{ key: "acc", value: 0.123456789, timestamp: 1, step: 0 }],
          metric_summaries: [{ key: "acc", latest: 0.123456789, min: 0.1, max: 0.9, count: 3 }],
          tags: [{ key: "team", value: 'say "hi"' }],
        }),
        run("b", { metrics: [{ key: "acc", value: "NaN", timestamp: 1 }] }),
      ],
      cols,
    );
    const rows = parseCsv(csv).rows;
    expect(rows[0]).toEqual(["run_id", "run_name", "start_time", "duration", "params.lr", "metrics.acc", "max(metrics.acc)", "tags.team"]);
    expect(rows[1]).toEqual(["a", "run,a", "2024-01-02T03:04:05.000Z", "30", "0.001", "0.123456789", "0.9", 'say "hi"']);
    expect(rows[2]).toEqual(["b", "run,b", "2024-01-02T03:04:05.000Z", "30", "", "NaN", "", ""]);
  });
});

describe("the experiment column", () => {
  it("exports the experiment's id, and shows the id while no name is known", () => {
    const cols = columnsFromIds(["attr:run_name", "attr:experiment_id"]);
    expect(cellText(run("a"), cols[1]!)).toBe("1");
    const rows = parseCsv(runsToCsv([run("a")], cols)).rows;
    expect(rows[0]).toEqual(["run_id", "run_name", "experiment_id"]);
    expect(rows[1]).toEqual(["a", "run,a", "1"]);
  });
});
