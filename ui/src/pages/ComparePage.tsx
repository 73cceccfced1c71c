import { useLayoutEffect, useMemo, useRef, useState } from "react";
import { getRun, searchRuns, toNumber } from "../api/endpoints";
import type { Run } from "../api/types";
import { type ChartRun, ChartControls, MetricChart } from "../components/Chart";
import { ErrorBox, Loading } from "../components/common";
import { metricValue, paramValue, runName, tagValue } from "../lib/columns";
import { isEvaluation } from "../lib/evaluation";
import { useExperiments } from "../lib/experiments";
import { formatNumber, formatTime } from "../lib/format";
import { type Measure, parallelLayout } from "../lib/parallel";
import { isSystemTag } from "../lib/runTags";
import { useAsync } from "../lib/hooks";
import { Link, enc, navigate, useLocation } from "../lib/router";
import { colorAt } from "../lib/series";
import { type ViewState, formatView, parseView } from "../lib/urlState";
import { EvaluationCompare } from "./EvaluationCompare";

const TABS = ["charts", "parallel", "scatter", "table", "evaluation"] as const;
type Tab = (typeof TABS)[number];

async function loadRuns(ids: string[], experimentIds: string[], signal: AbortSignal): Promise<Run[]> {
  const found = new Map<string, Run>();
  if (experimentIds.length) {
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100);
      const r = await searchRuns(
        {
          experiment_ids: experimentIds,
          filter: `attributes.run_id IN (${chunk.map((id) => `'${id.replace(/'/g, "")}'`).join(", ")})`,
          run_view_type: "ALL",
          max_results: chunk.length,
        },
        signal,
      ).catch(() => ({ runs: [] as Run[] }));
      for (const run of r.runs ?? []) found.set(run.info.run_id, run);
    }
  }
  const missing = ids.filter((id) => !found.has(id));
  await Promise.all(missing.map((id) => getRun(id, signal).then((r) => found.set(id, r), () => undefined)));
  return ids.map((id) => found.get(id)).filter((r): r is Run => !!r);
}

export function ComparePage() {
  const loc = useLocation();
  const view = useMemo(() => parseView(loc.search), [loc.search]);
  const ids = useMemo(() => (loc.search.get("runs") ?? "").split(",").filter(Boolean), [loc.search]);
  const tab = (TABS as readonly string[]).includes(loc.search.get("tab") ?? "") ? (loc.search.get("tab") as Tab) : "charts";
  const exps = useExperiments();
  const expIds = useMemo(() => exps.all.map((e) => e.experiment_id), [exps.all]);
  const runs = useAsync((signal) => (exps.loaded ? loadRuns(ids, expIds, signal) : new Promise<Run[]>(() => undefined)), [ids.join(","), exps.loaded]);
  const set = (patch: Partial<ViewState>, extra: Record<string, string | null> = {}) => {
    const base = new URLSearchParams(loc.search);
    for (const [k, v] of Object.entries(extra)) (v === null ? base.delete(k) : base.set(k, v));
    navigate(loc.path + formatView(patch, base), { replace: true });
  };

  if (!ids.length) return <div className="page"><div className="empty">Select runs in an experiment's table, then press Compare.</div></div>;
  if (runs.error) return <div className="page"><ErrorBox error={runs.error} what="Cannot load runs" /></div>;
  if (!runs.data) return <div className="page"><Loading what={`${ids.length} runs`} /></div>;
  const list = runs.data;
  const metricKeys = [...new Set(list.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort();
  const paramKeys = [...new Set(list.flatMap((r) => (r.data.params ?? []).map((m) => m.key)))].sort();
  const charted = view.chartKeys.length ? view.chartKeys.filter((k) => metricKeys.includes(k)) : metricKeys.filter((k) => !k.startsWith("system/"));
  const chartRuns: ChartRun[] = list.map((r, i) => ({
    id: r.info.run_id,
    label: runName(r),
    start: r.info.start_time,
    color: colorAt(i),
    group: view.groupBy ? (paramValue(r, view.groupBy) ?? "(none)") : undefined,
  }));
  const settings = { xAxis: view.xAxis, logScale: view.logScale, smoothing: view.smoothing };
  const evaluated = list.filter(isEvaluation).length;

  return (
    <div className="page">
      <div className="title-row">
        <h1>Comparing {list.length} runs</h1>
        {list.length < ids.length ? <span className="muted">({ids.length - list.length} not found)</span> : null}
      </div>
      <div className="toolbar small">
        {list.slice(0, 30).map((r, i) => (
          <Link key={r.info.run_id} href={`/runs/${enc(r.info.run_id)}`} className="badge" style={{ borderColor: colorAt(i) }}>
            <span className="dot" style={{ color: colorAt(i) }} />
            {runName(r)}
          </Link>
        ))}
        {list.length > 30 ? <span className="muted">and {list.length - 30} more</span> : null}
      </div>
      <div className="tabs" role="tablist">
        {TABS.filter((t) => t !== "evaluation" || evaluated || tab === t).map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? "on" : ""} onClick={() => set({}, { tab: t === "charts" ? null : t })}>
            {{ charts: "Charts", parallel: "Parallel coordinates", scatter: "Scatter", table: "Table", evaluation: `Evaluation (${evaluated})` }[t]}
          </button>
        ))}
      </div>
      {tab === "charts" ? (
        <>
          <ChartControls settings={settings} onChange={(s) => set(s)}>
            <label>
              Group by
              <select aria-label="Group by" value={view.groupBy} onChange={(e) => set({ groupBy: e.target.value })}>
                <option value="">(no grouping)</option>
                {paramKeys.map((k) => (
                  <option key={k} value={k}>params.{k}</option>
                ))}
              </select>
            </label>
            <MetricPicker all={metricKeys} chosen={view.chartKeys} onChange={(chartKeys) => set({ chartKeys })} />
          </ChartControls>
          <div className="grid2">
            {charted.map((k) => (
              <MetricChart key={k} metricKey={k} runs={chartRuns} settings={settings} grouped={!!view.groupBy} />
            ))}
          </div>
          {!charted.length ? <div className="empty">These runs have no metrics.</div> : null}
        </>
      ) : null}
      {tab === "parallel" ? <Parallel runs={list} params={paramKeys} metrics={metricKeys} /> : null}
      {tab === "scatter" ? <Scatter runs={list} params={paramKeys} metrics={metricKeys} /> : null}
      {tab === "table" ? <DiffTable runs={list} /> : null}
      {tab === "evaluation" ? <EvaluationCompare runs={list} /> : null}
    </div>
  );
}

function MetricPicker(props: { all: string[]; chosen: string[]; onChange: (k: string[]) => void }) {
  const [open, setOpen] = useState(false);
  const on = new Set(props.chosen);
  return (
    <div className="rel">
      <button onClick={() => setOpen((o) => !o)}>Metrics ({props.chosen.length || "default"})</button>
      {open ? (
        <div className="popover" style={{ top: "110%", left: 0 }} onMouseLeave={() => setOpen(false)}>
          {props.all.map((k) => (
            <label key={k}>
              <input type="checkbox" checked={on.has(k)} onChange={() => props.onChange(on.has(k) ? props.chosen.filter((x) => x !== k) : [...props.chosen, k])} />
              <span className="mono">{k}</span>
            </label>
          ))}
        </div>
      ) : null}
    </div>
  );
}

/** A value of "params.x" or "metrics.x" for a run, as a number when it is one. */
function axisValue(run: Run, field: string): number | string | undefined {
  if (field.startsWith("metrics.")) return metricValue(run, field.slice(8));
  const v = paramValue(run, field.slice(7));
  if (v === undefined) return undefined;
  const n = Number(v);
  return v.trim() !== "" && Number.isFinite(n) ? n : v;
}

interface Axis {
  field: string;
  numeric: boolean;
  min: number;
  max: number;
  cats: string[];
}

function axisOf(runs: Run[], field: string): Axis {
  const vals = runs.map((r) => axisValue(r, field)).filter((v) => v !== undefined);
  const numeric = vals.every((v) => typeof v === "number");
  if (numeric) {
    const nums = (vals as number[]).filter(Number.isFinite);
    return { field, numeric, min: Math.min(...nums), max: Math.max(...nums), cats: [] };
  }
  const cats = [...new Set(vals.map(String))].sort();
  return { field, numeric, min: 0, max: Math.max(1, cats.length - 1), cats };
}

function pos(axis: Axis, v: number | string | undefined): number | null {
  if (v === undefined) return null;
  if (axis.numeric) {
    if (typeof v !== "number" || !Number.isFinite(v)) return null;
    return axis.max === axis.min ? 0.5 : (v - axis.min) / (axis.max - axis.min);
  }
  const i = axis.cats.indexOf(String(v));
  return axis.cats.length <= 1 ? 0.5 : i / (axis.cats.length - 1);
}

function heat(t: number) {
  // blue (low) to orange (high)
  const a = [47, 111, 224];
  const b = [224, 102, 47];
  const c = a.map((x, i) => Math.round(x + (b[i]! - x) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** The width of SVG text in the chart's font (11px; bold for the axis names), from a canvas. */
let measureCanvas: CanvasRenderingContext2D | null = null;
function textMeasure(bold: boolean): Measure {
  measureCanvas ??= document.createElement("canvas").getContext("2d");
  const family = getComputedStyle(document.documentElement).getPropertyValue("--font").trim() || "sans-serif";
  const font = `${bold ? "600 " : ""}11px ${family}`;
  return (text) => {
    if (!measureCanvas) return text.length * 7;
    measureCanvas.font = font;
    return measureCanvas.measureText(text).width;
  };
}

function Parallel({ runs, params, metrics }: { runs: Run[]; params: string[]; metrics: string[] }) {
  const [metric, setMetric] = useState(metrics.find((m) => !m.startsWith("system/")) ?? metrics[0] ?? "");
  const [chosen, setChosen] = useState<string[]>(params.slice(0, 8));
  const fields = [...chosen.map((p) => `params.${p}`), ...(metric ? [`metrics.${metric}`] : [])];
  const axes = fields.map((f) => axisOf(runs, f));
  // Room at both ends for the names and values (lib/parallel.ts): none is cut at the edge.
  const bold = textMeasure(true);
  const plain = textMeasure(false);
  // The axes spread over the card's width, at least 90 pixels apart; more axes than fit scroll.
  const box = useRef<HTMLDivElement>(null);
  const [boxWidth, setBoxWidth] = useState(0);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    setBoxWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setBoxWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const fit = Math.max(600, boxWidth - 4);
  const layout = parallelLayout(
    axes.map((a) => ({ title: a.field, values: a.numeric ? [formatNumber(a.max), formatNumber(a.min)] : a.cats })),
    (t) => Math.max(bold(t), plain(t)),
    { minWidth: fit, spacing: Math.max(90, Math.min(140, (fit - 140) / Math.max(1, fields.length - 1))) },
  );
  const W = layout.width;
  const H = 360;
  const pad = { t: 30, b: 30 };
  const x = (i: number) => layout.xs[i]!;
  const y = (t: number) => pad.t + (1 - t) * (H - pad.t - pad.b);
  const last = axes[axes.length - 1];
  return (
    <div className="card parcoords">
      <div className="toolbar">
        <label>
          Color by metric{" "}
          <select value={metric} onChange={(e) => setMetric(e.target.value)} aria-label="Metric">
            {metrics.map((m) => <option key={m}>{m}</option>)}
          </select>
        </label>
        <span className="muted small">Params:</span>
        {params.map((p) => (
          <label key={p} className="small">
            <input type="checkbox" checked={chosen.includes(p)} onChange={() => setChosen((c) => (c.includes(p) ? c.filter((x) => x !== p) : [...c, p]))} /> {p}
          </label>
        ))}
      </div>
      <div ref={box} className="parcoords-scroll">
      {fields.length < 2 ? (
        <div className="empty">Choose at least one param and a metric.</div>
      ) : (
        <svg width={W} height={H} role="img" aria-label="Parallel coordinates" data-testid="parallel">
          {runs.map((r, ri) => {
            const pts = axes.map((a, i) => {
              const p = pos(a, axisValue(r, a.field));
              return p === null ? null : `${x(i)},${y(p)}`;
            });
            if (pts.some((p) => p === null)) return null;
            const t = last ? pos(last, axisValue(r, last.field)) ?? 0 : 0;
            return <polyline key={ri} points={pts.join(" ")} fill="none" stroke={heat(t)} strokeOpacity={0.7} strokeWidth={1.5}><title>{runName(r)}</title></polyline>;
          })}
          {axes.map((a, i) => (
            <g key={a.field}>
              <line x1={x(i)} x2={x(i)} y1={pad.t} y2={H - pad.b} stroke="currentColor" strokeOpacity={0.5} />
              <text x={x(i)} y={pad.t - 10} textAnchor="middle" fontWeight={600} data-testid="axis-title">
                <title>{a.field}</title>
                {layout.titles[i]}
              </text>
              {a.numeric ? (
                <>
                  <text x={x(i) + 4} y={y(1) + 4}>{layout.values[i]![0]}</text>
                  <text x={x(i) + 4} y={y(0)}>{layout.values[i]![1]}</text>
                </>
              ) : (
                a.cats.map((c, ci) => (
                  <text key={c} x={x(i) + 4} y={y(pos(a, c) ?? 0) + 4}>
                    <title>{c}</title>
                    {layout.values[i]![ci]}
                  </text>
                ))
              )}
            </g>
          ))}
        </svg>
      )}
      </div>
    </div>
  );
}

function Scatter({ runs, params, metrics }: { runs: Run[]; params: string[]; metrics: string[] }) {
  const fields = [...params.map((p) => `params.${p}`), ...metrics.map((m) => `metrics.${m}`)];
  const [xf, setXf] = useState(fields[0] ?? "");
  const [yf, setYf] = useState(metrics[0] ? `metrics.${metrics[0]}` : "");
  const ax = axisOf(runs, xf);
  const ay = axisOf(runs, yf);
  const W = 640;
  const H = 380;
  const pad = 72; // room for the y axis' end labels (e.g. 0.900635)
  return (
    <div className="card">
      <div className="toolbar">
        <label>X <select aria-label="Scatter X" value={xf} onChange={(e) => setXf(e.target.value)}>{fields.map((f) => <option key={f}>{f}</option>)}</select></label>
        <label>Y <select aria-label="Scatter Y" value={yf} onChange={(e) => setYf(e.target.value)}>{metrics.map((m) => <option key={m} value={`metrics.${m}`}>metrics.{m}</option>)}</select></label>
      </div>
      <svg width={W} height={H} role="img" aria-label="Scatter" data-testid="scatter" className="parcoords">
        <line x1={pad} x2={W - 10} y1={H - pad} y2={H - pad} stroke="currentColor" strokeOpacity={0.5} />
        <line x1={pad} x2={pad} y1={10} y2={H - pad} stroke="currentColor" strokeOpacity={0.5} />
        <text x={(W + pad) / 2} y={H - 12} textAnchor="middle">{xf}</text>
        <text x={14} y={H / 2} textAnchor="middle" transform={`rotate(-90 14 ${H / 2})`}>{yf}</text>
        {ax.numeric ? <><text x={pad} y={H - pad + 16}>{formatNumber(ax.min)}</text><text x={W - 10} y={H - pad + 16} textAnchor="end">{formatNumber(ax.max)}</text></> : null}
        {ay.numeric ? <><text x={pad - 4} y={H - pad} textAnchor="end">{formatNumber(ay.min)}</text><text x={pad - 4} y={16} textAnchor="end">{formatNumber(ay.max)}</text></> : null}
        {runs.map((r, i) => {
          const px = pos(ax, axisValue(r, xf));
          const py = pos(ay, axisValue(r, yf));
          if (px === null || py === null) return null;
          return (
            <circle key={r.info.run_id} cx={pad + 8 + px * (W - pad - 26)} cy={H - pad - 8 - py * (H - pad - 26)} r={5} fill={colorAt(i)} fillOpacity={0.8}>
              <title>{`${runName(r)}\n${xf} = ${String(axisValue(r, xf))}\n${yf} = ${String(axisValue(r, yf))}`}</title>
            </circle>
          );
        })}
      </svg>
    </div>
  );
}

function DiffTable({ runs }: { runs: Run[] }) {
  const [onlyDiff, setOnlyDiff] = useState(false);
  const rows: { section: string; key: string; values: string[] }[] = [];
  rows.push({ section: "Run", key: "Started", values: runs.map((r) => formatTime(r.info.start_time)) });
  rows.push({ section: "Run", key: "Status", values: runs.map((r) => r.info.status) });
  rows.push({ section: "Run", key: "Experiment", values: runs.map((r) => r.info.experiment_id) });
  const keysOf = (f: (r: Run) => { key: string }[] | undefined) => [...new Set(runs.flatMap((r) => (f(r) ?? []).map((x) => x.key)))].sort();
  for (const k of keysOf((r) => r.data.params)) rows.push({ section: "Params", key: k, values: runs.map((r) => paramValue(r, k) ?? "") });
  for (const k of keysOf((r) => r.data.metrics))
    rows.push({ section: "Metrics", key: k, values: runs.map((r) => { const m = r.data.metrics?.find((x) => x.key === k); return m ? formatNumber(toNumber(m.value)) : ""; }) });
  for (const k of keysOf((r) => r.data.tags).filter((k) => !isSystemTag(k) || k === "mlflow.source.git.commit" || k === "mltrail.source.git.dirty"))
    rows.push({ section: "Tags", key: k, values: runs.map((r) => tagValue(r, k) ?? "") });
  const differs = (v: string[]) => v.some((x) => x !== v[0]);
  const shown = onlyDiff ? rows.filter((r) => differs(r.values)) : rows;
  return (
    <div className="card" style={{ overflow: "auto" }}>
      <label className="small">
        <input type="checkbox" checked={onlyDiff} onChange={(e) => setOnlyDiff(e.target.checked)} /> Only rows that differ
      </label>
      <table className="plain" data-testid="diff-table">
        <thead>
          <tr>
            <th />
            {runs.map((r, i) => (
              <th key={r.info.run_id} style={{ borderTop: `3px solid ${colorAt(i)}` }}>
                <Link href={`/runs/${enc(r.info.run_id)}`}>{runName(r)}</Link>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((row) => (
            <tr key={row.section + row.key} className={differs(row.values) ? "differs" : ""}>
              <th className="mono"><span className="muted small">{row.section} · </span>{row.key}</th>
              {row.values.map((v, i) => <td key={i} className="mono">{v}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
