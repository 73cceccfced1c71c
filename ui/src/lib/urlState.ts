// The view state kept in the URL, so that any view can be shared as a link.
//
// Everything is a query parameter with a short name; defaults are left out so links stay short.

import { DEFAULT_COLUMNS } from "./columns";

export type RunView = "active" | "deleted" | "all";
export type XAxis = "step" | "time" | "relative";

export interface SortState {
  column: string; // a column id, e.g. "metric:acc"
  desc: boolean;
}

export interface ViewState {
  filter: string;
  sort: SortState;
  columns: string[];
  selected: string[];
  view: RunView;
  xAxis: XAxis;
  logScale: boolean;
  smoothing: number; // 0 (none) .. 0.99
  groupBy: string; // a param key, "" for none
  chartKeys: string[]; // metric keys to chart, [] for all
}

export const DEFAULT_SORT: SortState = { column: "attr:start_time", desc: true };

export const DEFAULT_VIEW: ViewState = {
  filter: "",
  sort: DEFAULT_SORT,
  columns: DEFAULT_COLUMNS,
  selected: [],
  view: "active",
  xAxis: "step",
  logScale: false,
  smoothing: 0,
  groupBy: "",
  chartKeys: [],
};

// Lists are comma-joined: run ids, metric/param keys and column ids never hold a comma.
const listOf = (s: string | null): string[] => (s ? s.split(",").filter((x) => x !== "") : []);
const listTo = (xs: readonly string[]): string => xs.join(",");

export function parseSort(s: string | null): SortState {
  if (!s) return DEFAULT_SORT;
  const desc = s.startsWith("-");
  const column = desc ? s.slice(1) : s;
  return column.includes(":") ? { column, desc } : DEFAULT_SORT;
}

export function formatSort(s: SortState): string {
  return (s.desc ? "-" : "") + s.column;
}

export function parseView(search: string | URLSearchParams): ViewState {
  const p = typeof search === "string" ? new URLSearchParams(search) : search;
  const view = p.get("view");
  const x = p.get("x");
  const smoothing = Number(p.get("smooth") ?? "0");
  const cols = p.get("cols");
  return {
    filter: p.get("q") ?? "",
    sort: parseSort(p.get("sort")),
    columns: cols === null ? DEFAULT_COLUMNS : listOf(cols),
    selected: listOf(p.get("sel")),
    view: view === "deleted" || view === "all" ? view : "active",
    xAxis: x === "time" || x === "relative" ? x : "step",
    logScale: p.get("log") === "1",
    smoothing: Number.isFinite(smoothing) ? Math.min(0.99, Math.max(0, smoothing)) : 0,
    groupBy: p.get("group") ?? "",
    chartKeys: listOf(p.get("charts")),
  };
}

/** The query string for a state; only what differs from the defaults is written. */
export function formatView(state: Partial<ViewState>, base: URLSearchParams = new URLSearchParams()): string {
  const p = new URLSearchParams(base);
  const set = (k: string, v: string | null) => (v === null ? p.delete(k) : p.set(k, v));
  if (state.filter !== undefined) set("q", state.filter ? state.filter : null);
  if (state.sort !== undefined) {
    const s = formatSort(state.sort);
    set("sort", s === formatSort(DEFAULT_SORT) ? null : s);
  }
  if (state.columns !== undefined) {
    const same =
      state.columns.length === DEFAULT_COLUMNS.length &&
      state.columns.every((c, i) => c === DEFAULT_COLUMNS[i]);
    set("cols", same ? null : listTo(state.columns));
  }
  if (state.selected !== undefined) set("sel", state.selected.length ? listTo(state.selected) : null);
  if (state.view !== undefined) set("view", state.view === "active" ? null : state.view);
  if (state.xAxis !== undefined) set("x", state.xAxis === "step" ? null : state.xAxis);
  if (state.logScale !== undefined) set("log", state.logScale ? "1" : null);
  if (state.smoothing !== undefined) set("smooth", state.smoothing ? String(state.smoothing) : null);
  if (state.groupBy !== undefined) set("group", state.groupBy || null);
  if (state.chartKeys !== undefined) set("charts", state.chartKeys.length ? listTo(state.chartKeys) : null);
  const s = p.toString();
  return s ? `?${s}` : "";
}
