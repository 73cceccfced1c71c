// Runs-table columns: ids, labels, values of a run, and the server order_by for each.

import { toNumber } from "../api/endpoints";
import type { Run } from "../api/types";
import { experimentName } from "./experiments";
import { formatDuration, formatNumber, formatTime } from "./format";

export type ColumnKind = "attr" | "param" | "metric" | "metricmin" | "metricmax" | "tag";

export interface Column {
  id: string; // "<kind>:<key>", the form kept in the URL
  kind: ColumnKind;
  key: string;
  label: string;
  width: number;
  numeric: boolean;
  /** The order_by identifier, or null when the server cannot sort on this column. */
  orderBy: string | null;
}

export const ATTRIBUTE_COLUMNS: Record<string, { label: string; width: number; orderBy: string | null; numeric?: boolean }> = {
  run_name: { label: "Run", width: 220, orderBy: "attributes.run_name" },
  status: { label: "Status", width: 96, orderBy: "attributes.status" },
  start_time: { label: "Started", width: 160, orderBy: "attributes.start_time", numeric: true },
  duration: { label: "Duration", width: 86, orderBy: null, numeric: true },
  user_id: { label: "User", width: 110, orderBy: "attributes.user_id" },
  source: { label: "Source", width: 150, orderBy: "tags.`mlflow.source.name`" },
  git_commit: { label: "Commit", width: 86, orderBy: "tags.`mlflow.source.git.commit`" },
  experiment_id: { label: "Experiment", width: 140, orderBy: "attributes.experiment_id" },
  run_id: { label: "Run ID", width: 120, orderBy: "attributes.run_id" },
  end_time: { label: "Ended", width: 160, orderBy: "attributes.end_time", numeric: true },
};

export const DEFAULT_COLUMNS = ["attr:run_name", "attr:status", "attr:start_time", "attr:duration", "attr:user_id", "attr:source"];

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_.\-/:]*$/;

/** A key as the search grammar wants it: bare when simple, else back-quoted. */
export function quoteKey(key: string): string {
  return SIMPLE_KEY.test(key) ? key : "`" + key.replace(/`/g, "``") + "`";
}

/**
 * The width of a param, metric or tag column: room for its name in the header (about 8.5
 * pixels a character, and the kind's letter), between `min` and 170 pixels.
 */
export function keyColumnWidth(label: string, min = 100): number {
  return Math.max(min, Math.min(170, Math.round(label.length * 8.5 + 44)));
}

export function parseColumnId(id: string): Column | null {
  const i = id.indexOf(":");
  if (i < 0) return null;
  const kind = id.slice(0, i) as ColumnKind;
  const key = id.slice(i + 1);
  if (!key) return null;
  switch (kind) {
    case "attr": {
      const a = ATTRIBUTE_COLUMNS[key];
      if (!a) return null;
      return { id, kind, key, label: a.label, width: a.width, numeric: !!a.numeric, orderBy: a.orderBy };
    }
    case "param":
      return { id, kind, key, label: key, width: keyColumnWidth(key), numeric: false, orderBy: `params.${quoteKey(key)}` };
    case "tag":
      return { id, kind, key, label: key, width: keyColumnWidth(key, 120), numeric: false, orderBy: `tags.${quoteKey(key)}` };
    case "metric":
      return { id, kind, key, label: key, width: keyColumnWidth(key), numeric: true, orderBy: `metrics.${quoteKey(key)}` };
    case "metricmin":
      return { id, kind, key, label: `min ${key}`, width: keyColumnWidth(`min ${key}`), numeric: true, orderBy: `min(metrics.${quoteKey(key)})` };
    case "metricmax":
      return { id, kind, key, label: `max ${key}`, width: keyColumnWidth(`max ${key}`), numeric: true, orderBy: `max(metrics.${quoteKey(key)})` };
    default:
      return null;
  }
}

export function columnsFromIds(ids: readonly string[]): Column[] {
  const out: Column[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    const c = parseColumnId(id);
    if (c) out.push(c);
  }
  return out;
}

export function tagValue(run: Run, key: string): string | undefined {
  return run.data.tags?.find((t) => t.key === key)?.value;
}

export function paramValue(run: Run, key: string): string | undefined {
  return run.data.params?.find((t) => t.key === key)?.value;
}

export function metricValue(run: Run, key: string, which: "latest" | "min" | "max" = "latest"): number | undefined {
  if (which !== "latest") {
    const s = run.data.metric_summaries?.find((m) => m.key === key);
    return s ? toNumber(which === "min" ? s.min : s.max) : undefined;
  }
  const m = run.data.metrics?.find((x) => x.key === key);
  return m ? toNumber(m.value) : undefined;
}

export function runName(run: Run): string {
  return run.info.run_name || tagValue(run, "mlflow.runName") || run.info.run_id.slice(0, 8);
}

export function runDuration(run: Run, now = Date.now()): number | undefined {
  const start = run.info.start_time;
  if (!start) return undefined;
  const end = run.info.end_time || (run.info.status === "RUNNING" ? now : undefined);
  return end ? end - start : undefined;
}

/** The raw value of a cell: numbers for numeric columns, strings otherwise. */
export function cellValue(run: Run, col: Column, now = Date.now()): string | number | undefined {
  switch (col.kind) {
    case "param":
      return paramValue(run, col.key);
    case "tag":
      return tagValue(run, col.key);
    case "metric":
      return metricValue(run, col.key);
    case "metricmin":
      return metricValue(run, col.key, "min");
    case "metricmax":
      return metricValue(run, col.key, "max");
    case "attr":
      switch (col.key) {
        case "run_name":
          return runName(run);
        case "status":
          return run.info.status;
        case "start_time":
          return run.info.start_time;
        case "end_time":
          return run.info.end_time;
        case "duration":
          return runDuration(run, now);
        case "user_id":
          return run.info.user_id || tagValue(run, "mlflow.user");
        case "source":
          return tagValue(run, "mlflow.source.name");
        case "git_commit":
          return tagValue(run, "mlflow.source.git.commit")?.slice(0, 8);
        case "experiment_id":
          return experimentName(run.info.experiment_id) ?? run.info.experiment_id;
        case "run_id":
          return run.info.run_id;
      }
  }
  return undefined;
}

/**
 * The file name of a run's source (`mlflow.source.name`): the last part of a path or URL
 * (`/home/ana/train.py` -> `train.py`, `C:\\work\\fit.py` -> `fit.py`); a name without
 * separators (`<console>`) stays as it is.
 */
export function sourceFileName(source: string): string {
  const trimmed = source.replace(/[/\\]+$/, "");
  const parts = trimmed.split(/[/\\]/);
  return parts[parts.length - 1] || source;
}

/** The text of a cell as the table shows it (the source by its file name). */
export function cellText(run: Run, col: Column, now = Date.now()): string {
  const v = cellValue(run, col, now);
  if (v === undefined) return "";
  if (col.kind === "attr") {
    if (col.key === "start_time" || col.key === "end_time") return formatTime(v as number);
    if (col.key === "duration") return formatDuration(v as number);
    if (col.key === "source") return sourceFileName(String(v));
    return String(v);
  }
  if (typeof v === "number") return formatNumber(v);
  return v;
}

/** A cell's tooltip: its whole text (the source's full path, the whole commit hash). */
export function cellTitle(run: Run, col: Column, now = Date.now()): string {
  if (col.kind === "attr" && col.key === "source") return tagValue(run, "mlflow.source.name") ?? "";
  if (col.kind === "attr" && col.key === "git_commit") return tagValue(run, "mlflow.source.git.commit") ?? "";
  return cellText(run, col, now);
}

/** The attribute columns shown after the params and metrics when the URL names no columns. */
const TRAILING_ATTRIBUTES = new Set(["attr:start_time", "attr:duration", "attr:user_id", "attr:source"]);

/**
 * The columns of a runs table whose URL names none: the run's name and status (and its
 * experiment when several are shown), then the first params and metrics, then the times, the
 * user and the source. Params come before metrics and params whose value differs between the
 * loaded runs before those every run shares, so what tells the runs apart is in view without
 * scrolling sideways.
 */
export function defaultColumnIds(
  base: readonly string[],
  keys: { params: readonly string[]; metrics: readonly string[] },
  runs: readonly Run[],
  opts: { several?: boolean; params?: number; metrics?: number } = {},
): string[] {
  const lead = base.filter((c) => !TRAILING_ATTRIBUTES.has(c));
  const trail = base.filter((c) => TRAILING_ATTRIBUTES.has(c));
  if (opts.several) lead.splice(1, 0, "attr:experiment_id");
  const params = paramsThatDifferFirst(keys.params, runs).slice(0, opts.params ?? 4);
  const metrics = keys.metrics.filter((k) => !k.startsWith("system/")).slice(0, opts.metrics ?? 4);
  return [...lead, ...params.map((k) => `param:${k}`), ...metrics.map((k) => `metric:${k}`), ...trail];
}

/** Param keys, those whose value differs between the runs first (each group in its order). */
export function paramsThatDifferFirst(keys: readonly string[], runs: readonly Run[]): string[] {
  const differs = (k: string) => {
    let first: string | undefined | null = null;
    for (const r of runs) {
      const v = paramValue(r, k);
      if (first === null) first = v;
      else if (v !== first) return true;
    }
    return false;
  };
  const yes: string[] = [];
  const no: string[] = [];
  for (const k of keys) (differs(k) ? yes : no).push(k);
  return [...yes, ...no];
}

/** CSV cell text: full precision numbers and ISO times, so the export round-trips. */
export function cellExport(run: Run, col: Column): string {
  const v = cellValue(run, col);
  if (v === undefined) return "";
  if (col.kind === "attr" && (col.key === "start_time" || col.key === "end_time")) {
    return new Date(v as number).toISOString();
  }
  if (col.kind === "attr" && col.key === "duration") return String((v as number) / 1000);
  if (col.kind === "attr" && col.key === "experiment_id") return run.info.experiment_id;
  return String(v);
}
