// MLflow 3's logged models: an experiment's list (its "Models" tab, `/experiments/<id>/models`)
// and a model's page (`/experiments/<id>/models/<model_id>`), at the paths MLflow's UI uses.

import { fetchRaw } from "../api/client";
import { getLoggedModel, getRun, loggedModelArtifactUrl, searchLoggedModels, searchModelVersions, toNumber } from "../api/endpoints";
import type { LoggedModel } from "../api/types";
import { ArtifactBrowser, MLmodelView } from "../components/lazy";
import { Empty, ErrorBox, KeyValueTable, Loading } from "../components/common";
import { loggedModelArtifacts } from "../lib/artifactSource";
import { runName } from "../lib/columns";
import { useExperiments } from "../lib/experiments";
import { formatNumber, formatTime } from "../lib/format";
import { useAsync } from "../lib/hooks";
import { Link, enc, navigate, useLocation } from "../lib/router";
import { registeredVersionsOf, statusLabel, versionsOfModel } from "../lib/loggedModels";

/** The experiment's tabs: its runs, and the models logged in it. */
export function ExperimentTabs({ experimentId, current }: { experimentId: string; current: "runs" | "models" }) {
  const base = `/experiments/${enc(experimentId)}`;
  return (
    <div className="tabs" role="tablist" data-testid="experiment-tabs">
      <Link role="tab" aria-selected={current === "runs"} className={current === "runs" ? "on" : ""} href={base}>
        Runs
      </Link>
      <Link role="tab" aria-selected={current === "models"} className={current === "models" ? "on" : ""} href={`${base}/models`}>
        Models
      </Link>
    </div>
  );
}

export const modelHref = (m: LoggedModel) => `/experiments/${enc(m.info.experiment_id)}/models/${enc(m.info.model_id)}`;

/** A table of logged models (an experiment's, or a run's, with a button to register each). */
export function LoggedModelsTable(props: { models: LoggedModel[]; showRun?: boolean; onRegister?: (m: LoggedModel) => void }) {
  const { models, showRun = true, onRegister } = props;
  return (
    <table className="plain" data-testid="logged-models-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Model id</th>
          <th>Status</th>
          {showRun ? <th>Source run</th> : null}
          <th>Created</th>
          <th>Registered</th>
          {onRegister ? <th /> : null}
        </tr>
      </thead>
      <tbody>
        {models.map((m) => (
          <tr key={m.info.model_id} data-model-id={m.info.model_id}>
            <td><Link href={modelHref(m)}>{m.info.name}</Link></td>
            <td className="mono small">{m.info.model_id}</td>
            <td>{statusLabel(m.info.status)}</td>
            {showRun ? (
              <td className="mono small">
                {m.info.source_run_id ? <Link href={`/runs/${enc(m.info.source_run_id)}`}>{m.info.source_run_id.slice(0, 8)}</Link> : ""}
              </td>
            ) : null}
            <td>{formatTime(m.info.creation_timestamp_ms)}</td>
            <td>
              {registeredVersionsOf(m).map((v) => (
                <Link key={`${v.name}/${v.version}`} className="badge" href={`/models/${enc(v.name)}/versions/${enc(v.version)}`}>
                  {v.name} v{v.version}
                </Link>
              ))}
            </td>
            {onRegister ? (
              <td>
                <button onClick={() => onRegister(m)}>Register model</button>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ExperimentModelsPage({ experimentId }: { experimentId: string }) {
  const exps = useExperiments();
  const exp = exps.byId.get(experimentId);
  const models = useAsync((signal) => searchLoggedModels([experimentId], undefined, signal), [experimentId]);
  return (
    <div className="page">
      <div className="title-row">
        <h1 data-testid="experiment-title">{exp?.name ?? `Experiment ${experimentId}`}</h1>
        <span className="spacer" />
        <span className="muted small" data-testid="model-count">
          {models.data ? `${models.data.models.length}${models.data.more ? "+" : ""} logged models` : ""}
        </span>
      </div>
      <ExperimentTabs experimentId={experimentId} current="models" />
      {models.error ? (
        <ErrorBox error={models.error} what="Cannot load the logged models" />
      ) : !models.data ? (
        <Loading what="logged models" />
      ) : !models.data.models.length ? (
        <Empty>No models logged in this experiment. MLflow 3 clients log one with mlflow.&lt;flavor&gt;.log_model(model, name=...).</Empty>
      ) : (
        <div className="card" style={{ padding: 0 }}>
          <LoggedModelsTable models={models.data.models} />
        </div>
      )}
    </div>
  );
}

const MODEL_TABS = ["overview", "artifacts"] as const;

export function LoggedModelPage({ experimentId, modelId }: { experimentId: string; modelId: string }) {
  const loc = useLocation();
  const tab = loc.search.get("tab") === "artifacts" ? "artifacts" : "overview";
  const model = useAsync((signal) => getLoggedModel(modelId, signal), [modelId]);
  const exps = useExperiments();
  const exp = exps.byId.get(model.data?.info.experiment_id ?? experimentId);
  if (model.error) return <div className="page"><ErrorBox error={model.error} what={`Cannot load logged model ${modelId}`} /></div>;
  if (!model.data) return <div className="page"><Loading what="logged model" /></div>;
  const m = model.data;
  const expId = m.info.experiment_id;
  return (
    <div className="page">
      <div className="breadcrumbs">
        <Link href={`/experiments/${enc(expId)}`}>{exp?.name ?? `Experiment ${expId}`}</Link>
        <span>›</span>
        <Link href={`/experiments/${enc(expId)}/models`}>Models</Link>
        <span>›</span>
      </div>
      <div className="title-row">
        <h1 data-testid="logged-model-title">{m.info.name}</h1>
        <span className="badge">{statusLabel(m.info.status)}</span>
        <span className="muted mono small">{m.info.model_id}</span>
      </div>
      <div className="tabs" role="tablist">
        {MODEL_TABS.map((t) => (
          <button
            key={t}
            role="tab"
            aria-selected={tab === t}
            className={tab === t ? "on" : ""}
            onClick={() => navigate(`${loc.path}${t === "overview" ? "" : `?tab=${t}`}`, { replace: true })}
          >
            {t[0]!.toUpperCase() + t.slice(1)}
          </button>
        ))}
      </div>
      {tab === "overview" ? <ModelOverview model={m} /> : <ArtifactBrowser source={loggedModelArtifacts(m.info.model_id)} />}
    </div>
  );
}

function ModelOverview({ model: m }: { model: LoggedModel }) {
  const runId = m.info.source_run_id;
  const run = useAsync((signal) => (runId ? getRun(runId, signal) : Promise.resolve(null)), [runId]);
  const mlmodel = useAsync(
    async (signal) => (await fetchRaw(loggedModelArtifactUrl(m.info.model_id, "MLmodel"), signal)).text(),
    [m.info.model_id],
  );
  const params = [...(m.data?.params ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  const metrics = [...(m.data?.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key) || (a.step ?? 0) - (b.step ?? 0));
  const tags = [...(m.info.tags ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  // Versions of this model: recorded in its tag, or registered from its source run with its id.
  const runVersions = useAsync(
    (signal) => (runId ? searchModelVersions(`run_id = '${runId}'`, signal).catch(() => []) : Promise.resolve([])),
    [runId],
  );
  const versions = versionsOfModel(m, runVersions.data ?? []);
  return (
    <div className="overview">
      <div className="card">
        <h2>Details</h2>
        <KeyValueTable
          rows={[
            ["Model id", m.info.model_id],
            ["Status", `${statusLabel(m.info.status)}${m.info.status_message ? ` (${m.info.status_message})` : ""}`],
            ["Created", formatTime(m.info.creation_timestamp_ms)],
            ["Updated", formatTime(m.info.last_updated_timestamp_ms)],
            ["Source run", runId ? <Link key="r" href={`/runs/${enc(runId)}`}>{run.data ? runName(run.data) : runId}</Link> : "none"],
            ["Model type", m.info.model_type ?? ""],
            ["Artifact location", <span key="a" className="mono small">{m.info.artifact_uri ?? ""}</span>],
            [
              "Registered versions",
              versions.length ? (
                <span key="v">
                  {versions.map((v) => (
                    <Link key={`${v.name}/${v.version}`} className="badge" href={`/models/${enc(v.name)}/versions/${enc(v.version)}`}>
                      {v.name} v{v.version}
                    </Link>
                  ))}
                </span>
              ) : (
                "none"
              ),
            ],
          ]}
        />
      </div>
      <div className="card">
        <h2>Parameters ({params.length})</h2>
        <KeyValueTable rows={params.map((p) => [p.key, p.value])} empty="No parameters." />
      </div>
      <div className="card">
        <h2>Metrics ({metrics.length})</h2>
        {metrics.length ? (
          <table className="plain" data-testid="model-metrics-table">
            <thead>
              <tr><th>Key</th><th className="num">Value</th><th className="num">Step</th><th>Dataset</th><th>Run</th></tr>
            </thead>
            <tbody>
              {metrics.map((x, i) => (
                <tr key={`${x.key}/${x.step ?? 0}/${x.dataset_name ?? ""}/${i}`}>
                  <td className="mono">{x.key}</td>
                  <td className="num">{formatNumber(toNumber(x.value))}</td>
                  <td className="num">{x.step ?? 0}</td>
                  <td>{x.dataset_name ?? ""}</td>
                  <td className="mono small">{x.run_id ? <Link href={`/runs/${enc(x.run_id)}`}>{x.run_id.slice(0, 8)}</Link> : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <div className="muted">No metrics.</div>
        )}
      </div>
      <div className="card">
        <h2>Tags ({tags.length})</h2>
        <KeyValueTable rows={tags.map((t) => [t.key, t.value])} empty="No tags." />
      </div>
      <div className="card wide">
        <h2>Signature</h2>
        {mlmodel.error ? (
          <div className="muted">Cannot read the model's MLmodel file ({mlmodel.error.message.split("\n")[0]}).</div>
        ) : mlmodel.data !== undefined ? (
          <MLmodelView text={mlmodel.data} />
        ) : (
          <Loading />
        )}
      </div>
    </div>
  );
}
