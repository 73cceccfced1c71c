// The Evaluation tab of the compare page: the evaluations of the runs side by side, one column
// each (a run evaluated on two datasets has two). Metrics: the best value of each row marked,
// every other column's difference to the baseline's (the first column, or the one chosen).
// Plots: those of one name in a row, one per column.

import { Fragment, useMemo, useState } from "react";
import { artifactUrl, listArtifacts } from "../api/endpoints";
import type { Run } from "../api/types";
import { ErrorBox, Loading } from "../components/common";
import { Lightbox, type Plot, PlotFigure, plotTitle } from "../components/EvalPlots";
import { runName } from "../lib/columns";
import { type CompareRow, type EvalColumn, comparePlots, compareRows, evalColumns } from "../lib/evalCompare";
import { formatDelta, groupMetrics } from "../lib/evalMetrics";
import { evaluationsOf } from "../lib/evaluation";
import { formatNumber } from "../lib/format";
import { useAsync } from "../lib/hooks";
import { Link, enc } from "../lib/router";
import { colorAt } from "../lib/series";
import { DirectionMark } from "./EvaluationTab";

/** At most this many runs have their artifacts listed (one request each). */
const MAX_RUNS = 50;

async function rootFilesOf(runs: Run[], signal: AbortSignal): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all(
    runs.slice(0, MAX_RUNS).map((r) =>
      listArtifacts(r.info.run_id, "", signal).then(
        (l) => out.set(r.info.run_id, l.files.filter((f) => !f.is_dir).map((f) => f.path)),
        () => out.set(r.info.run_id, []),
      ),
    ),
  );
  return out;
}

function ColumnHead({ col }: { col: EvalColumn }) {
  return (
    <th style={{ borderTop: `3px solid ${colorAt(col.runIndex)}` }} data-run-id={col.run.info.run_id}>
      <Link href={`/runs/${enc(col.run.info.run_id)}?tab=evaluation&eval=${enc(col.evaluation.prefix)}`}>{runName(col.run)}</Link>
      <div className="muted small eval-col-label">{col.label}</div>
    </th>
  );
}

function DiffText({ row, i }: { row: CompareRow; i: number }) {
  const d = row.diffs[i];
  if (!d) return null;
  const rel = d.relative !== null && d.change !== "same" ? ` (${formatDelta(d.relative * 100, (v) => formatNumber(Number(v.toPrecision(3))))}%)` : "";
  return (
    <div className={`eval-diff ${d.change}`} data-change={d.change}>
      {formatDelta(d.delta, formatNumber)}
      {rel}
    </div>
  );
}

function MetricsTable({ cols, onlyDiff }: { cols: EvalColumn[]; onlyDiff: boolean }) {
  const rows = compareRows(cols).filter((r) => !onlyDiff || r.values.some((v) => v !== r.values[0]));
  if (!rows.length) return <div className="muted">{onlyDiff ? "No metric differs." : "No evaluation metrics."}</div>;
  const byMetric = new Map(rows.map((r) => [r.metric, r]));
  return (
    <div className="eval-compare-scroll">
      <table className="plain eval-compare" data-testid="eval-compare-metrics">
        <thead>
          <tr>
            <th>Metric</th>
            {cols.map((c, i) => <ColumnHead key={i} col={c} />)}
          </tr>
        </thead>
        <tbody>
          {groupMetrics(rows.map((r) => r.metric), (m) => m).map((g) => (
            <Fragment key={g.title}>
              <tr className="eval-group-row">
                <th colSpan={cols.length + 1}>
                  <span>{g.title}</span>
                </th>
              </tr>
              {g.keys.map((metric) => {
                const row = byMetric.get(metric)!;
                const compared = row.diffs.some((d) => d !== null);
                return (
                  <tr key={row.metric} data-metric={row.metric}>
                    <th className="mono">
                      {row.metric} <DirectionMark metric={row.metric} />
                    </th>
                    {row.values.map((v, i) => (
                      <td key={i} className={`num${row.best === i ? " best" : ""}`} data-best={row.best === i ? "true" : undefined} title={row.best === i ? "Best" : undefined}>
                        <span className="mono">{v === undefined ? "—" : formatNumber(v)}</span>
                        {i === 0 && compared ? <div className="muted small">baseline</div> : <DiffText row={row} i={i} />}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PlotsSideBySide({ cols }: { cols: EvalColumn[] }) {
  const [open, setOpen] = useState<{ row: Plot[]; index: number } | null>(null);
  const plots = comparePlots(cols);
  if (!plots.length) return <div className="muted">No plots logged.</div>;
  return (
    <div className="eval-compare-plots" data-testid="eval-compare-plots">
      {plots.map(({ name, paths }) => {
        const row: Plot[] = [];
        const cells = paths.map((p, i) => {
          const c = cols[i]!;
          if (!p) return { plot: null, index: -1 };
          row.push({ name, url: artifactUrl(c.run.info.run_id, p), caption: `${runName(c.run)} · ${c.label}` });
          return { plot: row[row.length - 1]!, index: row.length - 1 };
        });
        return (
          <div key={name} className="eval-plot-row" data-plot-row={name}>
            <h3>{plotTitle(name)}</h3>
            <div className="eval-plot-cells" style={{ gridTemplateColumns: `repeat(${cols.length}, minmax(240px, 460px))` }}>
              {cells.map(({ plot, index }, i) =>
                plot ? (
                  <div key={i} className="eval-plot-cell" style={{ borderTopColor: colorAt(cols[i]!.runIndex) }}>
                    <PlotFigure plot={plot} onOpen={() => setOpen({ row, index })} />
                  </div>
                ) : (
                  <div key={i} className="eval-plot-cell missing" style={{ borderTopColor: colorAt(cols[i]!.runIndex) }}>
                    <span className="muted small">Not logged by {runName(cols[i]!.run)}</span>
                  </div>
                ),
              )}
            </div>
          </div>
        );
      })}
      {open ? <Lightbox plots={open.row} index={open.index} onIndex={(index) => setOpen({ ...open, index })} onClose={() => setOpen(null)} /> : null}
    </div>
  );
}

export function EvaluationCompare({ runs }: { runs: Run[] }) {
  const ids = runs.map((r) => r.info.run_id).join(",");
  const files = useAsync((signal) => rootFilesOf(runs, signal), [ids]);
  const [dataset, setDataset] = useState("");
  const [baseline, setBaseline] = useState(0);
  const [onlyDiff, setOnlyDiff] = useState(false);
  const all = useMemo(
    () => (files.data ? evalColumns(runs.map((run) => ({ run, evaluations: evaluationsOf(run, files.data!.get(run.info.run_id) ?? []) }))) : []),
    [runs, files.data],
  );
  if (files.error) return <ErrorBox error={files.error} what="Cannot list the runs' artifacts" />;
  if (!files.data) return <Loading what="evaluations" />;
  if (!all.length) return <div className="empty">None of these runs records an evaluation (mlflow.evaluate).</div>;
  const datasets = [...new Set(all.flatMap((c) => c.evaluation.datasets.map((d) => d.name)))].sort();
  const shown = dataset ? all.filter((c) => c.evaluation.datasets.some((d) => d.name === dataset)) : all;
  const first = Math.min(baseline, shown.length - 1);
  const cols = first > 0 ? [shown[first]!, ...shown.filter((_, i) => i !== first)] : shown;
  const notEvaluated = runs.filter((r) => !all.some((c) => c.run === r));
  const notOnDataset = dataset ? runs.filter((r) => !notEvaluated.includes(r) && !shown.some((c) => c.run === r)) : [];
  return (
    <div className="eval-compare-page" data-testid="eval-compare">
      <div className="toolbar">
        {datasets.length > 1 ? (
          <label>
            Dataset{" "}
            <select aria-label="Dataset" value={dataset} onChange={(e) => (setDataset(e.target.value), setBaseline(0))}>
              <option value="">All ({datasets.length})</option>
              {datasets.map((d) => <option key={d} value={d}>{d}</option>)}
            </select>
          </label>
        ) : null}
        <label>
          Baseline{" "}
          <select aria-label="Baseline" value={first} onChange={(e) => setBaseline(Number(e.target.value))}>
            {shown.map((c, i) => <option key={i} value={i}>{runName(c.run)} · {c.label}</option>)}
          </select>
        </label>
        <label className="small">
          <input type="checkbox" checked={onlyDiff} onChange={(e) => setOnlyDiff(e.target.checked)} /> Only metrics that differ
        </label>
        <span className="muted small">
          <span className="eval-diff better">better</span> / <span className="eval-diff worse">worse</span> than the baseline; the best value of a row is marked.
        </span>
      </div>
      {notEvaluated.length ? (
        <div className="muted small" data-testid="not-evaluated">
          Not evaluations: {notEvaluated.map((r) => runName(r)).join(", ")}
        </div>
      ) : null}
      {notOnDataset.length ? (
        <div className="muted small" data-testid="not-on-dataset">
          Not evaluated on {dataset}: {notOnDataset.map((r) => runName(r)).join(", ")}
        </div>
      ) : null}
      <div className="card">
        <h2>Metrics</h2>
        <MetricsTable cols={cols} onlyDiff={onlyDiff} />
      </div>
      <div className="card">
        <h2>Plots</h2>
        <PlotsSideBySide cols={cols} />
      </div>
    </div>
  );
}
