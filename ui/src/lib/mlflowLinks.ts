// MLflow's links, read as mltrail's pages.
//
// MLflow's UI routes in the URL's fragment (a hash router: `/#/experiments/1/runs/<id>`), and the
// official client prints such links ("View run at http://host/#/experiments/1/runs/<id>").
// mltrail routes on the path, so a pasted MLflow link reaches the app as "/" plus a fragment.
// MLflow 3 also names pages mltrail has under another path (`/experiments/1/runs/<id>` is
// mltrail's `/runs/<id>`). `mlflowTarget` maps either form to mltrail's own path and query,
// from the route table of MLflow 3's UI (mlflow/server/js, mlflow 3.x):
//
//   /experiments/:experimentId[/runs | /:tabName | /overview/:tab | /s]     the experiment
//   /experiments/:experimentId/runs/:runUuid[/*]                            a run (and its tab)
//   /experiments/:experimentId/evaluation-runs/:runUuid[/*]                 a run
//   /experiments/:experimentId/models[/:loggedModelId[/:tabName]]           logged models
//   /runs/:runUuid, /compare-runs, /metric/*, /compare-experiments/*        runs, comparisons
//   /models, /models/:modelName[/versions/:version | /:subpage...]          the registry

/** mltrail's path (and query) for an MLflow link, or null when it is not one mltrail maps. */
export function mlflowTarget(pathname: string, search: string, hash: string): string | null {
  if (hash.startsWith("#/")) {
    const inner = hash.slice(1);
    const q = inner.indexOf("?");
    const path = q < 0 ? inner : inner.slice(0, q);
    // MLflow's hash router keeps its own query inside the fragment; any outside it also counts.
    const query = new URLSearchParams(q < 0 ? "" : inner.slice(q + 1));
    for (const [k, v] of new URLSearchParams(search)) if (!query.has(k)) query.append(k, v);
    return fromMlflowRoute(segments(path), query, true);
  }
  return fromMlflowRoute(segments(pathname), new URLSearchParams(search), false);
}

function segments(path: string): string[] | null {
  const out: string[] = [];
  for (const s of path.split("/")) {
    if (!s) continue;
    try {
      out.push(decodeURIComponent(s));
    } catch {
      return null;
    }
  }
  return out;
}

const enc = encodeURIComponent;

function withQuery(path: string, query: Record<string, string | null | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

/** A JSON list (`["a","b"]`, as MLflow writes run and experiment ids in its query), or a comma list. */
export function idList(value: string | null): string[] {
  if (!value) return [];
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed)) return parsed.map(String).filter(Boolean);
  } catch {
    /* not JSON: a comma-separated list */
  }
  return value.split(",").map((s) => s.trim()).filter(Boolean);
}

/** MLflow's `orderByKey` (`metrics.\`acc\``, `attributes.start_time`) as a column id of mltrail's. */
export function sortColumn(orderByKey: string | null): string | null {
  if (!orderByKey) return null;
  const m = /^(metrics|params|tags|attributes|attribute|attr|metric|param|tag)\.(.+)$/.exec(orderByKey);
  if (!m) return null;
  const key = m[2]!.replace(/^`(.*)`$/, "$1").replace(/^"(.*)"$/, "$1");
  const kind = m[1]!.startsWith("metric") ? "metric" : m[1]!.startsWith("param") ? "param" : m[1]!.startsWith("tag") ? "tag" : "attr";
  return key ? `${kind}:${key}` : null;
}

/** The experiment page's view state from MLflow's query (`searchFilter`, `orderByKey`, `orderByAsc`). */
function experimentQuery(query: URLSearchParams): Record<string, string | null> {
  const column = sortColumn(query.get("orderByKey"));
  return {
    q: query.get("searchFilter"),
    sort: column ? `${query.get("orderByAsc") === "true" ? "" : "-"}${column}` : null,
  };
}

const RUN_TABS: Record<string, string> = {
  "model-metrics": "metrics",
  "system-metrics": "system",
  artifacts: "artifacts",
  artifactPath: "artifacts",
};

function runTarget(runId: string, rest: string[]): string {
  const tab = RUN_TABS[rest[0] ?? ""];
  const path = tab === "artifacts" && rest.length > 1 ? rest.slice(1).join("/") : null;
  return withQuery(`/runs/${enc(runId)}`, { tab, path });
}

function fromMlflowRoute(s: string[] | null, query: URLSearchParams, hashed: boolean): string | null {
  if (s === null) return null;
  const [head, a, b, c, d] = s;
  if (head === undefined) return hashed ? "/" : null;
  if (head === "experiments") {
    if (a === undefined) return "/";
    const exp = `/experiments/${enc(a)}`;
    if ((b === "runs" || b === "evaluation-runs") && c !== undefined) return runTarget(c, s.slice(4));
    if (b === "models") {
      if (c === undefined) return hashed ? `${exp}/models` : null;
      const model = `${exp}/models/${enc(c)}`;
      if (!hashed && d === undefined) return null; // mltrail's own route
      return d === "artifacts" ? `${model}?tab=artifacts` : model;
    }
    if (b === undefined && !hashed) return null; // mltrail's own route
    // The runs table, the overview and the tabs mltrail has no page for (traces, datasets, ...).
    return withQuery(exp, experimentQuery(query));
  }
  if (head === "runs" && a !== undefined) return !hashed && b === undefined ? null : runTarget(a, s.slice(2));
  if (head === "compare-runs") {
    const runs = idList(query.get("runs"));
    return runs.length ? withQuery("/compare", { runs: runs.join(",") }) : "/";
  }
  if (head === "metric") {
    const runs = idList(query.get("runs"));
    const keys = idList(query.get("plot_metric_keys"));
    const charts = keys.length ? keys : s.slice(1, 2);
    return runs.length ? withQuery("/compare", { runs: runs.join(","), charts: charts.join(",") }) : "/";
  }
  if (head === "compare-experiments") {
    const ids = idList(query.get("experiments"));
    return ids.length ? withQuery(`/experiments/${ids.map(enc).join(",")}`, experimentQuery(query)) : "/";
  }
  if (head === "models") {
    if (!hashed) return null; // the same paths as mltrail's own
    if (a === undefined) return "/models";
    const model = `/models/${enc(a)}`;
    if (b === "versions" && c !== undefined) return `${model}/versions/${enc(c)}`;
    return model;
  }
  return null;
}
