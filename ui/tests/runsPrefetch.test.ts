import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { firstPageBody, runsQuery } from "../src/lib/runsQuery";
import { parseView } from "../src/lib/urlState";

// The inline script of index.html that starts an experiment's first page of runs before the
// app loads must build exactly the body the app builds, or the app asks again (slower, not wrong).
const html = readFileSync(new URL("../index.html", import.meta.url), "utf8");
const script = /<script id="runs-prefetch">([\s\S]*?)<\/script>/.exec(html)![1]!;

function prefetched(url: string): string | undefined {
  const u = new URL(url, "http://localhost");
  const win: { __mltrailRunsPrefetch?: { body: string }; __mltrailRunPrefetch?: unknown } = {};
  const sent: string[] = [];
  const fakeFetch = (_path: string, init: { body: string }) => {
    sent.push(init.body);
    return Promise.resolve(null);
  };
  new Function("window", "location", "fetch", script)(win, u, fakeFetch);
  if (win.__mltrailRunPrefetch) return undefined; // a run's page (tested below)
  expect(win.__mltrailRunsPrefetch?.body).toBe(sent[0]);
  return sent[0];
}

function appBody(url: string): string {
  const u = new URL(url, "http://localhost");
  const idsParam = decodeURIComponent(u.pathname.split("/").filter(Boolean)[1]!);
  return JSON.stringify(firstPageBody(runsQuery(idsParam.split(",").filter(Boolean), parseView(u.search))));
}

describe("the inline runs prefetch of index.html", () => {
  const same = [
    "/experiments/1",
    "/experiments/1/",
    "/experiments/1,2,3",
    "/experiments/12?cols=attr:run_name,attr:status,metric:m1,param:p0",
    "/experiments/1?sort=-metric:m1",
    "/experiments/1?sort=metric:val%20loss",
    "/experiments/1?sort=-param:lr&q=metrics.acc%20%3E%200.5%20OR%20params.x%20%3D%20'1'",
    "/experiments/1?sort=tag:a%60b&view=deleted",
    "/experiments/1?sort=attr:run_name&view=all",
    "/experiments/1?sort=-attr:source",
    "/experiments/1?sort=attr:duration",
    "/experiments/1?sort=-metricmin:loss",
    "/experiments/1?sort=metricmax:loss",
    "/experiments/1?sort=nonsense",
    "/experiments/1?view=bogus&q=",
    "/experiments/a%2Cb",
  ];
  for (const url of same) {
    it(`sends the app's body for ${url}`, () => {
      expect(prefetched(url)).toBe(appBody(url));
    });
  }

  it("asks for nothing on other pages, for all experiments or an unknown sort column", () => {
    for (const url of ["/", "/experiments/all", "/runs/abc", "/compare?runs=a,b", "/experiments/1/x", "/experiments/1?sort=attr:nope", "/experiments/1?sort=bad:x"])
      expect(prefetched(url)).toBeUndefined();
  });
});

describe("the inline run prefetch of index.html", () => {
  it("asks a run's page for its run, by id", () => {
    for (const [url, id] of [["/runs/abc", "abc"], ["/runs/abc/?tab=metrics", "abc"], ["/runs/a%20b", "a b"]] as const) {
      const win: { __mltrailRunPrefetch?: { id: string } } = {};
      const asked: string[] = [];
      const fakeFetch = (path: string) => {
        asked.push(path);
        return Promise.resolve(null);
      };
      new Function("window", "location", "fetch", script)(win, new URL(url, "http://localhost"), fakeFetch);
      expect(win.__mltrailRunPrefetch?.id).toBe(id);
      expect(asked).toEqual([`/ajax-api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(id)}`]);
    }
  });
});
