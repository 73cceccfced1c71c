// Metric charts on uPlot (canvas). Each chart asks the server for series reduced to about one
// point per pixel, and asks again for the zoomed step range when the user drags a selection
// (double-click zooms back out).

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { SeriesField } from "../api/endpoints";
import type { MetricSeries } from "../api/types";
import { formatNumber } from "../lib/format";
import { useTheme } from "../lib/hooks";
import { singleValueBars } from "../lib/metricBars";
import { loadSeries } from "../lib/seriesLoader";
import { aggregate, align, colorAt, fillForward, forLog, smooth, toXY } from "../lib/series";
import type { XAxis } from "../lib/urlState";
import { ErrorBox } from "./common";
import { MetricBars } from "./MetricBars";

export interface ChartRun {
  id: string;
  label: string;
  start?: number | undefined;
  color?: string | undefined;
  group?: string | undefined; // group label when grouping by a param
}

export interface ChartSettings {
  xAxis: XAxis;
  logScale: boolean;
  smoothing: number;
}

function cssVar(name: string, fallback: string) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

const POINTS_PER_CHART = 30000;

// uPlot is loaded with the first chart, not with the app: the runs table never evaluates it,
// and a chart asks for its series first, so the import overlaps the server's work.
type UPlotClass = typeof uPlot;
let uplotClass: UPlotClass | null = null;
let uplotLoading: Promise<UPlotClass> | null = null;
function loadUPlot(): Promise<UPlotClass> {
  uplotLoading ??= import("uplot").then((m) => (uplotClass = m.default));
  return uplotLoading;
}

/**
 * The width of a y axis that fits its widest tick label (uPlot's `size` hook): a fixed width
 * cut large values such as 200000 MB short at the chart's left edge.
 */
const yAxisSize: uPlot.Axis.Size = (u, values, axisIdx, cycleNum) => {
  const axis = u.axes[axisIdx]! as uPlot.Axis & { _size?: number };
  // uPlot asks again while it settles the layout; keep its answer after two rounds.
  if (cycleNum > 1 && axis._size) return axis._size;
  let widest = 0;
  if (values?.length) {
    u.ctx.save();
    u.ctx.font = axis.font?.[0] ?? u.ctx.font;
    for (const v of values) widest = Math.max(widest, u.ctx.measureText(v).width);
    u.ctx.restore();
  }
  const gap = (axis.gap ?? 5) + (axis.ticks?.size ?? 10);
  return Math.ceil(widest / (window.devicePixelRatio || 1) + gap + 8);
};

const xLabel = (x: XAxis) => (x === "step" ? "step" : x === "time" ? "wall time" : "relative time (s)");

interface Built {
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  bands: uPlot.Band[];
  points: number; // points drawn (non-null), for tests and the benchmark
}

function build(runs: ChartRun[], series: MetricSeries[], settings: ChartSettings, buckets: number, grouped: boolean): Built {
  const byRun = new Map(series.map((s) => [s.run_id, s]));
  const xys = runs.map((r) => {
    const s = byRun.get(r.id);
    return s ? toXY(s, settings.xAxis, r.start) : { x: [], y: [], lo: [], hi: [], steps: [] };
  });
  const tf = (y: (number | null)[]) => {
    const sm = smooth(y, settings.smoothing);
    return settings.logScale ? forLog(sm) : sm;
  };
  const out: uPlot.Series[] = [{ label: xLabel(settings.xAxis) }];
  const bands: uPlot.Band[] = [];
  let points = 0;
  const count = (ys: (number | null)[]) => {
    for (const v of ys) if (v !== null) points++;
  };

  if (runs.length === 1 && !grouped) {
    // One run: exact x, the value line plus the bucket min-max band when reduced.
    const xy = xys[0]!;
    const s = byRun.get(runs[0]!.id);
    const color = runs[0]!.color ?? colorAt(0);
    const y = tf(xy.y);
    count(y);
    const data: (number | null)[][] = [xy.x, y];
    out.push({ label: runs[0]!.label, stroke: color, width: 1.5, spanGaps: true, points: { show: xy.x.length < 60 } });
    if (s && !s.exact && !settings.smoothing) {
      data.push(settings.logScale ? forLog(xy.hi) : xy.hi, settings.logScale ? forLog(xy.lo) : xy.lo);
      out.push({ label: "max", stroke: "transparent", spanGaps: true, points: { show: false } });
      out.push({ label: "min", stroke: "transparent", spanGaps: true, points: { show: false } });
      bands.push({ series: [2, 3], fill: color + "33" });
    }
    return { data: data as uPlot.AlignedData, series: out, bands, points };
  }

  const aligned = align(
    xys.map((xy) => ({ x: xy.x, y: tf(xy.y) })),
    buckets,
  );
  const data: (number | null)[][] = [aligned.x];
  if (grouped) {
    const groups = new Map<string, number[]>();
    runs.forEach((r, i) => {
      const g = r.group ?? "(none)";
      let list = groups.get(g);
      if (!list) groups.set(g, (list = []));
      list.push(i);
    });
    let gi = 0;
    for (const [g, idx] of groups) {
      const color = colorAt(gi++);
      const ys = idx.map((i) => fillForward(aligned.ys[i]!));
      const agg = aggregate(ys, aligned.x.length);
      count(agg.mean);
      const base = data.length;
      data.push(agg.mean, agg.max, agg.min);
      out.push({ label: `${g} (mean of ${idx.length})`, stroke: color, width: 2, spanGaps: true, points: { show: false } });
      out.push({ label: `${g} max`, stroke: color + "55", width: 0.5, spanGaps: true, points: { show: false } });
      out.push({ label: `${g} min`, stroke: color + "55", width: 0.5, spanGaps: true, points: { show: false } });
      bands.push({ series: [base + 1, base + 2], fill: color + "26" });
    }
  } else {
    runs.forEach((r, i) => {
      const y = aligned.ys[i]!;
      count(y);
      data.push(y);
      // Many overlaid lines: 1-pixel strokes, which the canvas draws several times faster
      // than wider ones (no stroke outline to fill).
      out.push({ label: r.label, stroke: r.color ?? colorAt(i), width: runs.length > 8 ? 1 : 1.25, spanGaps: true, points: { show: aligned.x.length < 40 } });
    });
  }
  return { data: data as uPlot.AlignedData, series: out, bands, points };
}

export function MetricChart(props: {
  metricKey: string;
  runs: ChartRun[];
  settings: ChartSettings;
  grouped?: boolean;
  height?: number;
  title?: string;
}) {
  const { metricKey, runs, settings } = props;
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const drawnWith = useRef<Built | null>(null);
  const [UPlot, setUPlot] = useState<UPlotClass | null>(uplotClass);
  useEffect(() => {
    if (!UPlot) void loadUPlot().then((c) => setUPlot(() => c));
  }, [UPlot]);
  const [width, setWidth] = useState(0);
  const [range, setRange] = useState<[number, number] | null>(null); // step range when zoomed
  const [xZoom, setXZoom] = useState<[number, number] | null>(null);
  const [series, setSeries] = useState<MetricSeries[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [ms, setMs] = useState<number | null>(null);
  const stepsRef = useRef<{ x: number[]; steps: number[] }[]>([]);
  const runIds = useMemo(() => runs.map((r) => r.id), [runs]);
  const runKey = runIds.join(",");
  const buckets = Math.max(50, Math.min(2500, Math.round(width || 600)));
  const bucketsQ = Math.ceil(buckets / 100) * 100; // re-ask only when the width changes a lot
  // Many overlaid runs share the pixels: at most ~30,000 points per chart in all, but never
  // fewer than 100 buckets per run (100 runs get 300 each on a 600-pixel chart).
  const perRun = runIds.length > 1 ? Math.max(100, Math.min(bucketsQ, Math.floor(POINTS_PER_CHART / runIds.length / 100) * 100)) : bucketsQ;

  // Only what the chart draws: timestamps for time axes, the bucket min and max for the band
  // of a single run (overlaid runs draw only their line), which halves the bytes of a compare.
  const band = runIds.length === 1 && !props.grouped;
  const theme = useTheme();
  const fields: SeriesField[] = [...(settings.xAxis === "step" ? [] : (["timestamps"] as const)), "last", ...(band ? (["min", "max"] as const) : [])];

  useLayoutEffect(() => {
    const el = host.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    if (!width || !runIds.length) return;
    let stale = false;
    const t0 = performance.now();
    loadSeries(runIds, metricKey, perRun, range?.[0], range?.[1], fields).then(
      (s) => {
        if (stale) return;
        setMs(performance.now() - t0);
        setSeries(s);
        setError(null);
      },
      (e: unknown) => !stale && setError(e),
    );
    return () => {
      stale = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runKey, metricKey, perRun, range?.[0], range?.[1], width > 0, fields.join(",")]);

  // One point a run (a final score): bars across the runs, not dots on an empty axis.
  const bars = useMemo(
    () => (series && !range ? singleValueBars(runs.map((r, i) => ({ id: r.id, label: r.label, color: r.color ?? colorAt(i) })), series) : null),
    [series, runs, range],
  );
  const built = useMemo(
    () => (series && !bars ? build(runs, series, settings, bucketsQ, !!props.grouped) : null),
    [series, runs, settings, bucketsQ, props.grouped, bars],
  );

  useEffect(() => {
    if (!series) return;
    const byRun = new Map(series.map((s) => [s.run_id, s]));
    stepsRef.current = runs.map((r) => {
      const s = byRun.get(r.id);
      if (!s) return { x: [], steps: [] };
      const xy = toXY(s, settings.xAxis, r.start);
      return { x: xy.x, steps: xy.steps };
    });
  }, [series, runs, settings.xAxis]);

  // (Re)create the plot when its shape changes; otherwise just swap the data.
  // The theme too: the axes and grid take their colours from it when the plot is made.
  const shape = built ? `${built.series.length}|${settings.logScale}|${settings.xAxis}|${props.grouped}|${theme}|${built.series.map((s) => s.label).join("\u0001")}` : "";
  useEffect(() => {
    const el = host.current;
    if (!el || !built || !width || !UPlot) return;
    const axisColor = cssVar("--muted", "#666");
    // A faint grid (its own colour per theme, --grid), only across the values: the x ticks mark steps.
    const gridColor = cssVar("--grid", "#eceef2");
    el.dataset.grid = gridColor;
    const axis = (grid: boolean): uPlot.Axis => ({
      stroke: axisColor,
      grid: { show: grid, stroke: gridColor, width: 1 },
      ticks: { stroke: gridColor, width: 1, size: 4 },
    });
    const opts: uPlot.Options = {
      width: el.clientWidth,
      height: props.height ?? 220,
      series: built.series,
      bands: built.bands,
      scales: {
        x: { time: settings.xAxis === "time" },
        y: settings.logScale ? { distr: 3 } : {},
      },
      axes: [
        // Wall-time ticks take two lines (time, then date): room for both above the label.
        { ...axis(false), label: xLabel(settings.xAxis), labelSize: 18, size: settings.xAxis === "time" ? 52 : 36 },
        { ...axis(true), size: yAxisSize, values: (_u, vals) => vals.map((v) => formatNumber(v)) },
      ],
      legend: { show: built.series.length <= 12, live: true },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { size: 5 } },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 4) return;
            const x0 = u.posToVal(u.select.left, "x");
            const x1 = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            zoomTo(x0, x1);
          },
        ],
      },
    };
    plot.current?.destroy();
    const u = new UPlot(opts, built.data, el);
    plot.current = u;
    drawnWith.current = built;
    const dbl = () => {
      setRange(null);
      setXZoom(null);
    };
    u.over.addEventListener("dblclick", dbl);
    el.dataset.points = String(built.points);
    return () => {
      u.over.removeEventListener("dblclick", dbl);
      u.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, width > 0, UPlot]);

  useEffect(() => {
    const u = plot.current;
    const el = host.current;
    if (!u || !built || !el) return;
    if (drawnWith.current !== built) u.setData(built.data, !xZoom); // else just made with it
    drawnWith.current = built;
    if (xZoom) u.setScale("x", { min: xZoom[0], max: xZoom[1] });
    el.dataset.points = String(built.points);
    el.dataset.drawn = String(Date.now());
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [built]);

  useEffect(() => {
    const u = plot.current;
    if (u && width) u.setSize({ width, height: props.height ?? 220 });
  }, [width, props.height]);

  const zoomTo = (x0: number, x1: number) => {
    const lo = Math.min(x0, x1);
    const hi = Math.max(x0, x1);
    setXZoom([lo, hi]);
    if (settings.xAxis === "step") {
      setRange([Math.floor(lo), Math.ceil(hi)]);
      return;
    }
    // Time axes: find the steps inside [lo, hi] in the data we have.
    let sLo = Infinity;
    let sHi = -Infinity;
    for (const s of stepsRef.current) {
      for (let i = 0; i < s.x.length; i++) {
        const x = s.x[i]!;
        if (x >= lo && x <= hi) {
          sLo = Math.min(sLo, s.steps[i]!);
          sHi = Math.max(sHi, s.steps[i]!);
        }
      }
      // include the neighbours so the zoomed line reaches the edges
    }
    if (Number.isFinite(sLo)) setRange([sLo, sHi]);
  };

  const totalPoints = series?.reduce((n, s) => n + (s.count ?? s.steps.length), 0) ?? 0;
  return (
    <div className="chart-card" data-testid="chart" data-metric={metricKey}>
      <div className="chart-title">
        <span className="mono">{props.title ?? metricKey}</span>
        <span className="muted small">
          {range ? (
            <>
              steps {range[0]}–{range[1]}{" "}
              <button className="link" onClick={() => (setRange(null), setXZoom(null))}>
                reset zoom
              </button>{" "}
            </>
          ) : null}
          {series && series.some((s) => !s.exact) ? `reduced · ` : ""}
          {ms !== null ? `${Math.round(ms)} ms` : ""}
          {totalPoints ? ` · ${totalPoints.toLocaleString()} pts` : ""}
        </span>
      </div>
      {error ? <ErrorBox error={error} what="Cannot load the series" /> : null}
      {!series && !error ? <div className="loading">Loading…</div> : null}
      {series && !series.some((s) => s.steps.length) ? <div className="muted small">No points in this range.</div> : null}
      <div className="chart-host" ref={host} data-bars={bars ? bars.length : undefined} style={{ minHeight: series ? undefined : (props.height ?? 220) - 30 }} />
      {bars ? <MetricBars bars={bars} /> : null}
    </div>
  );
}

export function ChartControls(props: { settings: ChartSettings; onChange: (s: Partial<ChartSettings>) => void; children?: React.ReactNode }) {
  const { settings } = props;
  return (
    <div className="chart-controls">
      <label>
        X axis
        <select aria-label="X axis" value={settings.xAxis} onChange={(e) => props.onChange({ xAxis: e.target.value as XAxis })}>
          <option value="step">Step</option>
          <option value="time">Wall time</option>
          <option value="relative">Relative time</option>
        </select>
      </label>
      <label>
        <input type="checkbox" checked={settings.logScale} onChange={(e) => props.onChange({ logScale: e.target.checked })} />
        Log scale
      </label>
      <label>
        Smoothing
        <input
          type="range"
          min={0}
          max={0.99}
          step={0.01}
          value={settings.smoothing}
          aria-label="Smoothing"
          onChange={(e) => props.onChange({ smoothing: Number(e.target.value) })}
        />
        <span className="mono small" style={{ width: 30 }}>
          {settings.smoothing.toFixed(2)}
        </span>
      </label>
      {props.children}
    </div>
  );
}
