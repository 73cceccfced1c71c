// The runs table: virtualized (only the rows in view are in the DOM), sortable on the server,
// nested runs under their parents, multi-select with shift-click, keyboard navigation.

import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { Run } from "../api/types";
import { type Column, cellText, cellTitle, tagValue } from "../lib/columns";
import { Link, enc, navigate } from "../lib/router";
import type { SortState } from "../lib/urlState";
import { StatusBadge } from "./common";
import { EvalBadge } from "./EvalBadge";

const ROW = 30;
const OVERSCAN = 12;

export interface DisplayRow {
  run: Run;
  depth: number;
  childCount: number;
}

/** Put loaded children under their loaded parents; orphans stay at the top level. */
export function nestRuns(runs: readonly Run[], expanded: ReadonlySet<string>): DisplayRow[] {
  const ids = new Set(runs.map((r) => r.info.run_id));
  const children = new Map<string, Run[]>();
  const top: Run[] = [];
  for (const r of runs) {
    const parent = tagValue(r, "mlflow.parentRunId");
    if (parent && parent !== r.info.run_id && ids.has(parent)) {
      let list = children.get(parent);
      if (!list) children.set(parent, (list = []));
      list.push(r);
    } else top.push(r);
  }
  const out: DisplayRow[] = [];
  const seen = new Set<string>();
  const walk = (r: Run, depth: number) => {
    if (seen.has(r.info.run_id)) return;
    seen.add(r.info.run_id);
    const kids = children.get(r.info.run_id) ?? [];
    out.push({ run: r, depth, childCount: kids.length });
    if (kids.length && expanded.has(r.info.run_id)) for (const k of kids) walk(k, depth + 1);
  };
  for (const r of top) walk(r, 0);
  return out;
}

interface Props {
  runs: Run[];
  columns: Column[];
  sort: SortState;
  onSort: (column: Column) => void;
  selected: ReadonlySet<string>;
  onSelect: (ids: string[]) => void;
  hasMore: boolean;
  loadMore: () => void;
  now: number;
}

export function RunsTable(props: Props) {
  const { runs, columns, sort, selected, hasMore, loadMore, now } = props;
  const [expanded, setExpanded] = useState<Set<string>>(() => new Set());
  const rows = useMemo(() => nestRuns(runs, expanded), [runs, expanded]);
  const wrap = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const [focus, setFocus] = useState(-1);
  const anchor = useRef<number | null>(null);

  useLayoutEffect(() => {
    const el = wrap.current;
    if (!el) return;
    setHeight(el.clientHeight);
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Back to the top when the query (and so the first run) changes.
  const firstId = runs[0]?.info.run_id;
  useEffect(() => {
    if (wrap.current) wrap.current.scrollTop = 0;
    setScrollTop(0);
  }, [sort.column, sort.desc]);

  const start = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const end = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW) + OVERSCAN);

  // The next page when the rows in view come near the end of those loaded (not merely the
  // overscan): a first page that fills the view asks for nothing more until the user scrolls,
  // so a sort or filter right after it does not wait behind a page nobody looked at.
  const lastInView = Math.ceil((scrollTop + height) / ROW);
  useEffect(() => {
    if (hasMore && lastInView >= rows.length - 20) loadMore();
  }, [lastInView, rows.length, hasMore, loadMore, firstId]);

  const width = 34 + columns.reduce((s, c) => s + c.width, 0);

  const toggleExpanded = useCallback((id: string) => {
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }, []);

  const select = useCallback(
    (index: number, shift: boolean) => {
      const row = rows[index];
      if (!row) return;
      const id = row.run.info.run_id;
      if (shift && anchor.current !== null) {
        const [a, b] = [Math.min(anchor.current, index), Math.max(anchor.current, index)];
        const ids = new Set(selected);
        for (let i = a; i <= b; i++) ids.add(rows[i]!.run.info.run_id);
        props.onSelect([...ids]);
      } else {
        anchor.current = index;
        props.onSelect(selected.has(id) ? [...selected].filter((x) => x !== id) : [...selected, id]);
      }
    },
    [rows, selected, props],
  );

  const scrollToRow = (i: number) => {
    const el = wrap.current;
    if (!el) return;
    const top = i * ROW;
    const headH = ROW;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW + headH > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW + headH - el.clientHeight;
  };

  const onKey = (e: React.KeyboardEvent) => {
    if (!rows.length) return;
    let next = focus;
    if (e.key === "ArrowDown" || e.key === "j") next = Math.min(rows.length - 1, focus + 1);
    else if (e.key === "ArrowUp" || e.key === "k") next = Math.max(0, focus - 1);
    else if (e.key === "PageDown") next = Math.min(rows.length - 1, focus + Math.floor(height / ROW) - 1);
    else if (e.key === "PageUp") next = Math.max(0, focus - Math.floor(height / ROW) + 1);
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = rows.length - 1;
    else if ((e.key === " " || e.key === "x") && focus >= 0) {
      e.preventDefault();
      select(focus, e.shiftKey);
      return;
    } else if (e.key === "Enter" && focus >= 0) {
      navigate(`/runs/${enc(rows[focus]!.run.info.run_id)}`);
      return;
    } else if ((e.key === "ArrowRight" || e.key === "ArrowLeft") && focus >= 0 && rows[focus]!.childCount) {
      const id = rows[focus]!.run.info.run_id;
      if (expanded.has(id) !== (e.key === "ArrowRight")) toggleExpanded(id);
      e.preventDefault();
      return;
    } else return;
    e.preventDefault();
    setFocus(next);
    scrollToRow(next);
  };

  const visible = [];
  for (let i = start; i < end; i++) {
    const r = rows[i]!;
    visible.push(
      <RunRow
        key={r.run.info.run_id}
        index={i}
        row={r}
        columns={columns}
        width={width}
        selected={selected.has(r.run.info.run_id)}
        focused={i === focus}
        expanded={expanded.has(r.run.info.run_id)}
        onToggleExpanded={toggleExpanded}
        onSelect={select}
        onFocus={setFocus}
        now={now}
      />,
    );
  }

  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.run.info.run_id));

  return (
    <div
      className="table-wrap"
      ref={wrap}
      tabIndex={0}
      role="grid"
      aria-rowcount={rows.length}
      aria-label="Runs"
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      onKeyDown={onKey}
      onFocus={() => focus < 0 && rows.length && setFocus(0)}
    >
      <div className="grid" style={{ width, height: ROW + rows.length * ROW }}>
        <div className="grid-head" role="row" style={{ width }}>
          <div className="cell check pinned">
            <input
              type="checkbox"
              aria-label="Select all loaded runs"
              checked={allSelected}
              onChange={() => props.onSelect(allSelected ? [] : rows.map((r) => r.run.info.run_id))}
            />
          </div>
          {columns.map((c, i) => (
            <div
              key={c.id}
              role="columnheader"
              data-col={c.id}
              className={`cell ${c.numeric ? "num" : ""} ${c.orderBy ? "" : "nosort"} ${i === 0 && c.id === "attr:run_name" ? "pinned" : ""}`}
              style={{ width: c.width }}
              title={c.orderBy ? `Sort by ${c.label}` : `${c.label} (not sortable)`}
              aria-sort={sort.column === c.id ? (sort.desc ? "descending" : "ascending") : "none"}
              onClick={() => c.orderBy && props.onSort(c)}
            >
              {c.kind !== "attr" ? <span className="grp">{c.kind.startsWith("metric") ? "M" : c.kind === "param" ? "P" : "T"}</span> : null}
              {c.label}
              {sort.column === c.id ? (sort.desc ? " ▼" : " ▲") : ""}
            </div>
          ))}
        </div>
        {visible}
      </div>
    </div>
  );
}

const RunRow = memo(function RunRow(p: {
  index: number;
  row: DisplayRow;
  columns: Column[];
  width: number;
  selected: boolean;
  focused: boolean;
  expanded: boolean;
  onToggleExpanded: (id: string) => void;
  onSelect: (index: number, shift: boolean) => void;
  onFocus: (index: number) => void;
  now: number;
}) {
  const { run, depth, childCount } = p.row;
  const id = run.info.run_id;
  return (
    <div
      role="row"
      data-run-id={id}
      aria-selected={p.selected}
      className={`grid-row ${p.selected ? "sel" : ""} ${p.focused ? "focus" : ""} ${run.info.lifecycle_stage === "deleted" ? "deleted" : ""}`}
      style={{ top: ROW + p.index * ROW, width: p.width }}
      onMouseDown={() => p.onFocus(p.index)}
    >
      <div className="cell check pinned">
        <input
          type="checkbox"
          aria-label="Select run"
          checked={p.selected}
          onClick={(e) => {
            e.stopPropagation();
            p.onSelect(p.index, e.shiftKey);
          }}
          onChange={() => undefined}
        />
      </div>
      {p.columns.map((c, i) => {
        const text = cellText(run, c, p.now);
        if (c.id === "attr:run_name") {
          // The name stays in view when the table scrolls sideways (when it is the first column).
          return (
            <div key={c.id} className={`cell run-name ${i === 0 ? "pinned" : ""}`} style={{ width: c.width }} title={text}>
              {depth ? <span className="child-indent" style={{ width: 18 * depth }} /> : null}
              {childCount ? (
                <span
                  className="twisty"
                  role="button"
                  aria-label={p.expanded ? "Collapse child runs" : "Expand child runs"}
                  onClick={() => p.onToggleExpanded(id)}
                >
                  {p.expanded ? "▾" : "▸"}
                </span>
              ) : null}
              <Link href={`/runs/${enc(id)}`}>{text}</Link>
              {childCount ? <span className="muted small"> ({childCount})</span> : null}
              <EvalBadge run={run} compact />
            </div>
          );
        }
        if (c.id === "attr:status") {
          return (
            <div key={c.id} className="cell" style={{ width: c.width }}>
              <StatusBadge status={run.info.status} />
            </div>
          );
        }
        return (
          <div key={c.id} className={`cell ${c.numeric ? "num" : ""}`} style={{ width: c.width }} title={cellTitle(run, c, p.now)} data-col={c.id}>
            {text}
          </div>
        );
      })}
    </div>
  );
});
