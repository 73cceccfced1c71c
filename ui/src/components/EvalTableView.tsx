// An evaluation's per-row table: fetched and parsed once, sorted by a click on a column
// header (ascending, descending, off), shown a page at a time.

import { useMemo, useState } from "react";
import { fetchRaw } from "../api/client";
import { type EvalTable, type SortSpec, cellText, nextSort, pageOf, parseEvalTable, sortedOrder } from "../lib/evalTable";
import { formatNumber } from "../lib/format";
import { useAsync } from "../lib/hooks";
import { ErrorBox, Loading } from "./common";

const PAGE_SIZES = [25, 50, 100, 250];

export function EvalTableLoader({ url, name }: { url: string; name: string }) {
  const table = useAsync(async (signal) => parseEvalTable(await (await fetchRaw(url, signal)).text()), [url]);
  if (table.error) return <ErrorBox error={table.error} what={`Cannot read ${name}`} />;
  if (!table.data) return <Loading what={name} />;
  return <EvalTableView table={table.data} name={name} />;
}

function Cell({ value, numeric }: { value: unknown; numeric: boolean }) {
  if (numeric && typeof value === "number") return <td className="num">{formatNumber(value)}</td>;
  const text = cellText(value as never);
  const short = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return <td title={short === text ? undefined : text}>{short}</td>;
}

export function EvalTableView({ table, name }: { table: EvalTable; name: string }) {
  const [sort, setSort] = useState<SortSpec | null>(null);
  const [size, setSize] = useState(50);
  const [page, setPage] = useState(0);
  const order = useMemo(() => sortedOrder(table, sort), [table, sort]);
  const p = pageOf(order.length, size, page);
  const go = (n: number) => setPage(Math.min(Math.max(0, n), p.pages - 1));
  return (
    <div className="eval-table" data-testid="eval-table" data-table={name}>
      <div className="toolbar small">
        <span className="muted" data-testid="eval-table-count">
          {order.length.toLocaleString()} rows · {table.columns.length} columns
        </span>
        <span className="spacer" />
        <label>
          Rows per page{" "}
          <select aria-label="Rows per page" value={size} onChange={(e) => (setSize(Number(e.target.value)), setPage(0))}>
            {PAGE_SIZES.map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </label>
        <button onClick={() => go(0)} disabled={p.page === 0} aria-label="First page">«</button>
        <button onClick={() => go(p.page - 1)} disabled={p.page === 0} aria-label="Previous page">‹</button>
        <span data-testid="eval-table-page">
          {order.length ? `${(p.start + 1).toLocaleString()}–${p.end.toLocaleString()}` : "0"} of {order.length.toLocaleString()} · page {p.page + 1} of {p.pages}
        </span>
        <button onClick={() => go(p.page + 1)} disabled={p.page >= p.pages - 1} aria-label="Next page">›</button>
        <button onClick={() => go(p.pages - 1)} disabled={p.page >= p.pages - 1} aria-label="Last page">»</button>
      </div>
      <div className="eval-table-scroll">
        <table className="plain">
          <thead>
            <tr>
              <th className="num muted">#</th>
              {table.columns.map((c, i) => (
                <th
                  key={i}
                  className={table.numeric[i] ? "num" : ""}
                  aria-sort={sort?.column === i ? (sort.desc ? "descending" : "ascending") : "none"}
                >
                  <button className="sort-head" onClick={() => (setSort(nextSort(sort, i)), setPage(0))} title={`Sort by ${c}`}>
                    {c}
                    <span className="sort-mark">{sort?.column === i ? (sort.desc ? " ▼" : " ▲") : ""}</span>
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {order.slice(p.start, p.end).map((r) => (
              <tr key={r} data-row={r}>
                <td className="num muted">{r + 1}</td>
                {table.columns.map((_, c) => <Cell key={c} value={table.rows[r]![c]} numeric={table.numeric[c]!} />)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
