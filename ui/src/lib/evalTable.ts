// The per-row table of an evaluation (`eval_results_table.json`, written by `mlflow.log_table`
// as pandas' "split" form: {"columns": [...], "data": [[...], ...]}), parsed once, then sorted
// and paged as an order of row indexes (the rows themselves are never copied).

export type Cell = string | number | boolean | null | object;

export interface EvalTable {
  columns: string[];
  rows: Cell[][];
  /** Per column: every non-null value is a number. */
  numeric: boolean[];
}

export class TableFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TableFormatError";
  }
}

/** Parse the JSON text of a table; throws TableFormatError when it is not one. */
export function parseEvalTable(text: string): EvalTable {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new TableFormatError(`Not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!doc || typeof doc !== "object" || !Array.isArray((doc as { columns?: unknown }).columns) || !Array.isArray((doc as { data?: unknown }).data))
    throw new TableFormatError('Not a table: expected {"columns": [...], "data": [[...], ...]}');
  const columns = ((doc as { columns: unknown[] }).columns).map(String);
  const rows = (doc as { data: unknown[] }).data.map((r) => (Array.isArray(r) ? (r as Cell[]) : [r as Cell]));
  const numeric = columns.map((_, c) => {
    let any = false;
    for (const r of rows) {
      const v = r[c];
      if (v === null || v === undefined) continue;
      if (typeof v !== "number") return false;
      any = true;
    }
    return any;
  });
  return { columns, rows, numeric };
}

export interface SortSpec {
  column: number;
  desc: boolean;
}

/** A cell as text (objects and lists as JSON; null and missing as ""). */
export function cellText(v: Cell | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/**
 * Row indexes in the order of `sort` (the file's order without one). Numbers compare as
 * numbers, anything else as text (numerically aware); empty cells go last either way, and
 * equal cells keep the file's order.
 */
export function sortedOrder(table: EvalTable, sort: SortSpec | null): number[] {
  const order = table.rows.map((_, i) => i);
  if (!sort || sort.column < 0 || sort.column >= table.columns.length) return order;
  const c = sort.column;
  const sign = sort.desc ? -1 : 1;
  const empty = (v: Cell | undefined) => v === null || v === undefined || (typeof v === "number" && Number.isNaN(v));
  if (table.numeric[c]) {
    const key = table.rows.map((r) => (empty(r[c]) ? null : (r[c] as number)));
    order.sort((a, b) => {
      const x = key[a]!, y = key[b]!;
      if (x === null || y === null) return x === y ? a - b : x === null ? 1 : -1;
      return x === y ? a - b : (x < y ? -1 : 1) * sign;
    });
  } else {
    const key = table.rows.map((r) => (empty(r[c]) ? null : cellText(r[c])));
    order.sort((a, b) => {
      const x = key[a]!, y = key[b]!;
      if (x === null || y === null) return x === y ? a - b : x === null ? 1 : -1;
      return collator.compare(x, y) * sign || a - b;
    });
  }
  return order;
}

/** The next sort after a click on column `c`: ascending, then descending, then none. */
export function nextSort(current: SortSpec | null, c: number): SortSpec | null {
  if (!current || current.column !== c) return { column: c, desc: false };
  return current.desc ? null : { column: c, desc: true };
}

export interface Page {
  /** 0-based page, clamped to the pages there are. */
  page: number;
  pages: number;
  start: number;
  end: number;
}

/** Page `page` of `total` rows, `size` a page (clamped: a page past the end is the last). */
export function pageOf(total: number, size: number, page: number): Page {
  const pages = Math.max(1, Math.ceil(total / Math.max(1, size)));
  const p = Math.min(Math.max(0, Math.floor(page)), pages - 1);
  return { page: p, pages, start: p * size, end: Math.min(total, (p + 1) * size) };
}
