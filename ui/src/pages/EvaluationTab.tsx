// A run's Evaluation tab: for each evaluation (one metric prefix), its datasets and model, its
// metrics by group with which way is better, its plots, and its per-row table.

import { Fragment } from "react";
import { artifactUrl, toNumber } from "../api/endpoints";
import type { Run } from "../api/types";
import { KeyValueTable } from "../components/common";
import { PerClassTable } from "../components/EvalPerClass";
import { EvalTableLoader } from "../components/EvalTableView";
import { PlotGrid } from "../components/EvalPlots";
import { groupMetrics, metricDirection } from "../lib/evalMetrics";
import { type EvalDataset, type Evaluation, PER_CLASS_FILE, evaluationLabel, metricBase, plotKey } from "../lib/evaluation";
import { formatNumber } from "../lib/format";
import { Link, enc } from "../lib/router";

/** A metric name that may wrap after its underscores and slashes (not inside a word). */
export function MetricName({ name }: { name: string }) {
  const parts = name.split(/(?<=[_/])/);
  return (
    <>
      {parts.map((p, i) => (
        <Fragment key={i}>
          {i ? <wbr /> : null}
          {p}
        </Fragment>
      ))}
    </>
  );
}

export function DirectionMark({ metric }: { metric: string }) {
  const d = metricDirection(metric);
  if (!d) return null;
  return (
    <span className="dir-mark muted" title={d === "higher" ? "Higher is better" : "Lower is better"} aria-label={d === "higher" ? "higher is better" : "lower is better"}>
      {d === "higher" ? "↑" : "↓"}
    </span>
  );
}

/** The model of an evaluation: an MLflow 3 logged model (linked to its page) or a URI. */
function ModelRef({ model, experimentId }: { model: string; experimentId: string }) {
  if (/^m-[0-9a-f]+$/i.test(model))
    return <Link href={`/experiments/${enc(experimentId)}/models/${enc(model)}`} data-testid="eval-model">{model}</Link>;
  return <span className="mono" data-testid="eval-model">{model || "unknown"}</span>;
}

function Datasets({ datasets, experimentId }: { datasets: EvalDataset[]; experimentId: string }) {
  if (!datasets.length) return <div className="muted">No dataset recorded (the run has no mlflow.datasets tag for it).</div>;
  return (
    <div className="eval-datasets" data-testid="eval-datasets">
      {datasets.map((d, i) => {
        const rows: [string, React.ReactNode][] = [
          ["Name", <strong key="n" data-testid="eval-dataset-name">{d.name}</strong>],
          ["Digest", d.digest ?? ""],
          ["Rows", d.rows?.toLocaleString() ?? ""],
          ["Model", <ModelRef key="m" model={d.model} experimentId={experimentId} />],
          ["Path", d.path ?? ""],
          ["Hash", <span key="h" title="The evaluation dataset's hash (the mlflow.datasets tag)">{d.hash}</span>],
        ];
        return <KeyValueTable key={i} rows={rows.filter(([, v]) => v !== "")} />;
      })}
    </div>
  );
}

function Metrics({ run, evaluation }: { run: Run; evaluation: Evaluation }) {
  const base = (k: string) => metricBase(k, evaluation.prefix);
  const values = new Map((run.data.metrics ?? []).map((m) => [m.key, toNumber(m.value)]));
  const groups = groupMetrics(evaluation.metrics, base);
  if (!groups.length) return <div className="muted">No evaluation metrics.</div>;
  return (
    <div className="eval-metric-groups" data-testid="eval-metrics">
      {groups.map((g) => (
        <div key={g.title} className="eval-metric-group" data-group={g.title}>
          <h3>{g.title}</h3>
          <table className="kv">
            <tbody>
              {g.keys.map((k) => (
                <tr key={k} data-metric={base(k)}>
                  <th className="mono" title={k}><MetricName name={base(k)} />{"\u00a0"}<DirectionMark metric={base(k)} /></th>
                  <td className="num mono">{formatNumber(values.get(k))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </div>
  );
}

export function EvaluationView(props: { run: Run; evaluation: Evaluation; rootFiles: readonly string[] | null; several: boolean }) {
  const { run, evaluation, rootFiles, several } = props;
  const id = run.info.run_id;
  const plots = evaluation.plots.map((p) => ({ name: plotKey(p, evaluation.prefix), url: artifactUrl(id, p) }));
  const perClass = rootFiles?.includes(PER_CLASS_FILE);
  return (
    <div className="eval-view" data-testid="evaluation" data-prefix={evaluation.prefix}>
      <div className="card">
        <h2>Dataset{evaluation.datasets.length > 1 ? "s" : ""}</h2>
        <Datasets datasets={evaluation.datasets} experimentId={run.info.experiment_id} />
        {evaluation.prefix ? <div className="muted small" style={{ marginTop: 6 }}>Metric prefix <code>{evaluation.prefix}</code></div> : null}
        {evaluation.datasets.length > 1 && !evaluation.prefix ? (
          <div className="muted small" style={{ marginTop: 6 }}>Evaluated {evaluation.datasets.length} times without a metric prefix: the metrics and plots are those of the latest.</div>
        ) : null}
      </div>
      <div className="card">
        <h2>Metrics ({evaluation.metrics.length})</h2>
        <Metrics run={run} evaluation={evaluation} />
      </div>
      {perClass ? (
        <div className="card wide">
          <h2>Per class</h2>
          <PerClassTable url={artifactUrl(id, PER_CLASS_FILE)} />
          <div className="muted small" style={{ marginTop: 6 }}>
            From <Link href={`/runs/${enc(id)}?tab=artifacts&path=${enc(PER_CLASS_FILE)}`}>{PER_CLASS_FILE}</Link>
            {several ? ": MLflow writes this file without the metric prefix, so it is the last evaluation's." : "."}
          </div>
        </div>
      ) : null}
      <div className="card wide">
        <h2>Plots ({plots.length})</h2>
        {rootFiles === null ? <div className="muted">Listing the run's artifacts…</div> : plots.length ? <PlotGrid plots={plots} /> : <div className="muted">No plots logged.</div>}
      </div>
      <div className="card wide">
        <h2>Per-row results</h2>
        {rootFiles === null && !evaluation.table ? (
          <div className="muted">Listing the run's artifacts…</div>
        ) : evaluation.table ? (
          <EvalTableLoader key={evaluation.table} url={artifactUrl(id, evaluation.table)} name={evaluation.table} />
        ) : (
          <div className="muted">No per-row table: MLflow writes <code>eval_results_table.json</code> only when a metric scores each row.</div>
        )}
      </div>
    </div>
  );
}

/** The tab: a switch between a run's evaluations when there are several, then the chosen one. */
export function EvaluationTab(props: { run: Run; evaluations: Evaluation[]; rootFiles: readonly string[] | null; chosen: string | null; onChoose: (prefix: string) => void }) {
  const { evaluations } = props;
  if (!evaluations.length) return <div className="empty">This run records no evaluation.</div>;
  const current = evaluations.find((e) => e.prefix === props.chosen) ?? evaluations[0]!;
  return (
    <>
      {evaluations.length > 1 ? (
        <div className="toolbar">
          <span className="muted">{evaluations.length} evaluations:</span>
          <div className="segmented" role="group" aria-label="Evaluation">
            {evaluations.map((e) => (
              <button key={e.prefix} aria-pressed={e === current} className={e === current ? "on" : ""} onClick={() => props.onChoose(e.prefix)}>
                {evaluationLabel(e)}
              </button>
            ))}
          </div>
        </div>
      ) : null}
      <EvaluationView key={current.prefix} run={props.run} evaluation={current} rootFiles={props.rootFiles} several={evaluations.length > 1} />
    </>
  );
}
