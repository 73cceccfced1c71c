import type { Run } from "../api/types";
import { type Column, cellExport } from "./columns";
import { toCsv } from "./csv";

const HEADER_PREFIX: Record<Column["kind"], string> = {
  attr: "",
  param: "params.",
  tag: "tags.",
  metric: "metrics.",
  metricmin: "min(metrics.",
  metricmax: "max(metrics.",
};

export function columnHeader(c: Column): string {
  if (c.kind === "attr") return c.key === "run_name" ? "run_name" : c.key;
  const close = c.kind === "metricmin" || c.kind === "metricmax" ? ")" : "";
  return HEADER_PREFIX[c.kind] + c.key + close;
}

/** The table view as CSV: a run_id column first, then the visible columns, full precision. */
export function runsToCsv(runs: readonly Run[], columns: readonly Column[]): string {
  const cols = columns.filter((c) => !(c.kind === "attr" && c.key === "run_id"));
  const rows: string[][] = [["run_id", ...cols.map(columnHeader)]];
  for (const r of runs) rows.push([r.info.run_id, ...cols.map((c) => cellExport(r, c))]);
  return toCsv(rows);
}

export function download(filename: string, content: string | Blob, type = "text/csv;charset=utf-8") {
  const url = URL.createObjectURL(typeof content === "string" ? new Blob([content], { type }) : content);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
