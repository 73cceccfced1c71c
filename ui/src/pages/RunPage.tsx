import { useMemo, useRef, useState } from "react";
import { ApiError } from "../api/client";
import {
  createModelVersion,
  createRegisteredModel,
  deleteRun,
  deleteRunTag,
  getLoggedModel,
  getRun,
  listArtifacts,
  metricSummaries,
  renameRun,
  restoreRun,
  searchLoggedModels,
  searchModelVersions,
  searchRuns,
  setRunTag,
  toNumber,
} from "../api/endpoints";
import type { LoggedModel, MetricSummary, Run } from "../api/types";
import { ChartControls, MetricChart } from "../components/Chart";
import { EvalBadge } from "../components/EvalBadge";
import { ArtifactBrowser, Markdown } from "../components/lazy";
import { CopyButton, ErrorBox, KeyValueTable, Loading, PromptModal, StatusBadge } from "../components/common";
import { runArtifacts } from "../lib/artifactSource";
import { authState } from "../lib/auth";
import { runDuration, runName, tagValue } from "../lib/columns";
import { evaluationsOf } from "../lib/evaluation";
import { useExperiments } from "../lib/experiments";
import { missingOutputs } from "../lib/loggedModels";
import { formatDuration, formatNumber, formatTime } from "../lib/format";
import { useAsync, useInterval } from "../lib/hooks";
import { type ProjectRun, commitWebUrl, explicitCommand, keyValues, projectRun, repoWebUrl, reproduceCommand, shortCommit } from "../lib/projectRun";
import { Link, enc, navigate, useLocation } from "../lib/router";
import { runOfPage } from "../lib/runsQuery";
import { gitState, otherSystemTags, userTags } from "../lib/runTags";
import { type ViewState, formatView, parseView } from "../lib/urlState";
import { EvaluationTab } from "./EvaluationTab";
import { LoggedModelsTable } from "./LoggedModels";

const TABS = ["overview", "evaluation", "metrics", "system", "artifacts"] as const;
type Tab = (typeof TABS)[number];

/** A model recorded in the run's `mlflow.log-model.history` tag (MLflow 2, and MLflow 3 beside its logged models). */
interface HistoryModel {
  artifact_path: string;
  model_id?: string;
  flavors?: Record<string, unknown>;
  utc_time_created?: string;
  signature?: unknown;
}

function historyModels(run: Run): HistoryModel[] {
  const raw = tagValue(run, "mlflow.log-model.history");
  if (!raw) return [];
  try {
    const list = JSON.parse(raw) as HistoryModel[];
    const seen = new Map<string, HistoryModel>();
    for (const m of list) if (m.artifact_path) seen.set(m.artifact_path, m);
    return [...seen.values()];
  } catch {
    return [];
  }
}

export function RunPage({ runId }: { runId: string }) {
  const loc = useLocation();
  const tab = (TABS as readonly string[]).includes(loc.search.get("tab") ?? "") ? (loc.search.get("tab") as Tab) : "overview";
  const view = useMemo(() => parseView(loc.search), [loc.search]);
  const setQuery = (patch: Partial<ViewState>, extra: Record<string, string | null> = {}) => {
    const base = new URLSearchParams(loc.search);
    for (const [k, v] of Object.entries(extra)) (v === null ? base.delete(k) : base.set(k, v));
    navigate(loc.path + formatView(patch, base), { replace: true });
  };
  const run = useAsync((signal) => runOfPage(runId, signal), [runId]);
  const exps = useExperiments();
  useInterval(() => !document.hidden && run.reload(), run.data?.info.status === "RUNNING" ? 5000 : null);
  // The files at the artifact root: an evaluation's plots and per-row table are there.
  const root = useAsync(
    (signal) => listArtifacts(runId, "", signal).then((r) => r.files.filter((f) => !f.is_dir).map((f) => f.path)),
    [runId, run.data?.info.status],
  );
  const rootFiles = root.data ?? (root.error ? [] : null);
  const evaluations = useMemo(() => (run.data ? evaluationsOf(run.data, rootFiles) : []), [run.data, rootFiles]);

  if (run.error)
    return (
      <div className="page">
        <ErrorBox error={run.error} what={`Cannot load run ${runId}`} />
        <div className="toolbar" style={{ marginTop: 8 }}>
          <button onClick={run.reload}>Retry</button>
          <Link href="/">Back to the experiments</Link>
        </div>
      </div>
    );
  if (!run.data) return <div className="page"><Loading what="run" /></div>;
  const r = run.data;
  const exp = exps.byId.get(r.info.experiment_id);
  const metricKeys = (r.data.metrics ?? []).map((m) => m.key).sort();
  const userMetrics = metricKeys.filter((k) => !k.startsWith("system/"));
  const systemMetrics = metricKeys.filter((k) => k.startsWith("system/"));
  const chartRuns = [{ id: r.info.run_id, label: runName(r), start: r.info.start_time }];
  const settings = { xAxis: view.xAxis, logScale: view.logScale, smoothing: view.smoothing };

  return (
    <div className="page">
      <div className="breadcrumbs">
        <Link href={`/experiments/${enc(r.info.experiment_id)}`}>{exp?.name ?? `Experiment ${r.info.experiment_id}`}</Link>
        <span>›</span>
      </div>
      <div className="title-row">
        <h1 data-testid="run-title">{runName(r)}</h1>
        <StatusBadge status={r.info.status} />
        {r.info.lifecycle_stage === "deleted" ? <span className="badge">deleted</span> : null}
        <AutologBadge run={r} />
        <EvalBadge run={r} />
        <span className="muted mono small">{r.info.run_id}</span>
        <span className="spacer" />
        <RunActions run={r} reload={run.reload} />
      </div>
      <div className="tabs" role="tablist">
        {TABS.filter((t) => t !== "evaluation" || evaluations.length || tab === t).map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? "on" : ""} onClick={() => setQuery({}, { tab: t === "overview" ? null : t })}>
            {t === "system"
              ? `System metrics (${systemMetrics.length})`
              : t === "metrics"
                ? `Metric charts (${userMetrics.length})`
                : t === "evaluation" && evaluations.length > 1
                  ? `Evaluation (${evaluations.length})`
                  : t[0]!.toUpperCase() + t.slice(1)}
          </button>
        ))}
      </div>
      {tab === "overview" ? <Overview run={r} reload={run.reload} /> : null}
      {tab === "evaluation" ? (
        <EvaluationTab run={r} evaluations={evaluations} rootFiles={rootFiles} chosen={loc.search.get("eval")} onChoose={(prefix) => setQuery({}, { eval: prefix })} />
      ) : null}
      {tab === "metrics" || tab === "system" ? (
        <>
          <ChartControls settings={settings} onChange={(s) => setQuery(s)} />
          <div className="grid2">
            {(tab === "metrics" ? userMetrics : systemMetrics).map((k) => (
              <MetricChart key={k} metricKey={k} runs={chartRuns} settings={settings} />
            ))}
          </div>
          {!(tab === "metrics" ? userMetrics : systemMetrics).length ? <div className="empty">No {tab === "system" ? "system " : ""}metrics logged.</div> : null}
        </>
      ) : null}
      {tab === "artifacts" ? <ArtifactBrowser source={runArtifacts(r.info.run_id)} initialPath={loc.search.get("path") ?? undefined} /> : null}
    </div>
  );
}

/** Which autologging integration made the run (MLflow's `mlflow.autologging` tag: "sklearn", "xgboost", ...). */
function AutologBadge({ run }: { run: Run }) {
  const flavor = tagValue(run, "mlflow.autologging");
  if (!flavor) return null;
  const estimator = tagValue(run, "estimator_class") ?? tagValue(run, "estimator_name");
  const title = `Logged by ${flavor} autologging (the mlflow.autologging tag)${estimator ? `: ${estimator}` : ""}`;
  return (
    <span className="badge autolog" data-testid="autolog-badge" title={title}>
      autologged: {flavor}
    </span>
  );
}

function RunActions({ run, reload }: { run: Run; reload: () => void }) {
  const [rename, setRename] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="toolbar">
      {error ? <ErrorBox error={error} /> : null}
      <button onClick={() => setRename(true)}>Rename</button>
      {run.info.lifecycle_stage === "deleted" ? (
        <button onClick={() => void act(() => restoreRun(run.info.run_id))}>Restore</button>
      ) : (
        <button className="danger" onClick={() => window.confirm("Delete this run? It can be restored.") && void act(() => deleteRun(run.info.run_id))}>
          Delete
        </button>
      )}
      {rename ? (
        <PromptModal title="Rename run" label="Run name" initial={runName(run)} okText="Rename" onClose={() => setRename(false)} onOk={async (n) => { await renameRun(run.info.run_id, n); reload(); }} />
      ) : null}
    </div>
  );
}

function Overview({ run, reload }: { run: Run; reload: () => void }) {
  const info = run.info;
  const t = (k: string) => tagValue(run, k);
  const parent = t("mlflow.parentRunId");
  const commit = t("mlflow.source.git.commit");
  const repo = t("mlflow.source.git.repoURL");
  const project = projectRun(keyValues(run.data.tags), keyValues(run.data.params));
  const git = gitState(run.data.tags);
  const systemTags = otherSystemTags(run.data.tags, !!project);
  const details: [string, React.ReactNode][] = [
    ["Status", <StatusBadge key="s" status={info.status} />],
    ["Started", formatTime(info.start_time)],
    ["Ended", formatTime(info.end_time) || (info.status === "RUNNING" ? "still running" : "")],
    ["Duration", formatDuration(runDuration(run))],
    ["User", info.user_id || t("mlflow.user") || ""],
    ["Source", `${t("mlflow.source.name") ?? ""}${t("mlflow.source.type") ? ` (${t("mlflow.source.type")})` : ""}`],
    // A project run shows its git source in the Project card.
    ["Git commit", commit && !project ? <CommitLink key="c" commit={commit} repoUrl={repo} /> : ""],
    ["Git branch", project ? "" : (t("mlflow.source.git.branch") ?? "")],
    ["Git repository", project ? "" : (repo ?? "")],
    [
      "Working tree",
      project || !git ? "" : git === "dirty" ? (
        <span key="g" className="warn-text" data-testid="git-dirty">uncommitted changes (the commit does not hold the code that ran)</span>
      ) : (
        <span key="g" data-testid="git-clean">clean</span>
      ),
    ],
    ["Parent run", parent ? <RunLink key="p" runId={parent} testId="parent-run" /> : ""],
    ["Artifact URI", info.artifact_uri ?? ""],
  ];
  const params = [...(run.data.params ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  const metrics = [...(run.data.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  // Min and max over each whole history: every series reduced to one bucket on the server.
  const metricKeys = metrics.map((m) => m.key).join("\u0001");
  const ranges = useAsync(
    (signal) => metricSummaries([info.run_id], metrics.map((m) => m.key), signal),
    [info.run_id, metricKeys, run],
  );
  const summaries = ranges.data?.get(info.run_id) ?? new Map<string, MetricSummary>();
  const datasets = run.inputs?.dataset_inputs ?? [];
  return (
    <div className="overview">
      <div className="card">
        <h2>Details</h2>
        <KeyValueTable rows={details.filter(([, v]) => v !== "")} />
        {systemTags.length ? (
          <details className="system-tags" data-testid="system-tags">
            <summary className="muted small">Other system tags ({systemTags.length})</summary>
            <KeyValueTable rows={systemTags.map((x) => [x.key, x.value])} />
          </details>
        ) : null}
      </div>
      <Description run={run} reload={reload} />
      {project ? <ProjectCard run={run} project={project} /> : null}
      <div className="card">
        <h2>Parameters ({params.length})</h2>
        <KeyValueTable rows={params.map((p) => [p.key, p.value])} empty="No parameters." />
      </div>
      <div className="card">
        <h2>Metrics ({metrics.length})</h2>
        {metrics.length ? (
          <table className="plain" data-testid="metrics-table">
            <thead>
              <tr>
                <th>Key</th>
                <th className="num">Latest</th>
                <th className="num">Min</th>
                <th className="num">Max</th>
                <th className="num">Points</th>
                <th className="num">Step</th>
              </tr>
            </thead>
            <tbody>
              {metrics.map((m) => {
                const s = summaries.get(m.key);
                return (
                  <tr key={m.key}>
                    <td className="mono">
                      <Link href={`/runs/${enc(info.run_id)}?tab=${m.key.startsWith("system/") ? "system" : "metrics"}`}>{m.key}</Link>
                    </td>
                    <td className="num">{formatNumber(toNumber(m.value))}</td>
                    <td className="num">{s ? formatNumber(toNumber(s.min)) : ""}</td>
                    <td className="num">{s ? formatNumber(toNumber(s.max)) : ""}</td>
                    <td className="num">{s ? s.count.toLocaleString() : ""}</td>
                    <td className="num">{m.step ?? ""}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : (
          <div className="muted">No metrics.</div>
        )}
      </div>
      <Tags run={run} reload={reload} />
      <div className="card">
        <h2>Datasets ({datasets.length})</h2>
        {datasets.length ? (
          <table className="plain">
            <thead>
              <tr><th>Name</th><th>Digest</th><th>Context</th><th>Source</th></tr>
            </thead>
            <tbody>
              {datasets.map((d, i) => (
                <tr key={i}>
                  <td>{d.dataset.name}</td>
                  <td className="mono">{d.dataset.digest}</td>
                  <td>{d.tags?.find((x) => x.key === "mlflow.data.context")?.value ?? ""}</td>
                  <td className="mono small">{d.dataset.source_type}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <div className="muted">No datasets logged.</div>
        )}
      </div>
      <Models run={run} />
      <ChildRuns run={run} />
    </div>
  );
}

/** A run by name (its id until the name has loaded, or if it cannot be read). */
function RunLink({ runId, testId }: { runId: string; testId: string }) {
  const other = useAsync((signal) => getRun(runId, signal), [runId]);
  return (
    <Link href={`/runs/${enc(runId)}`} title={runId} data-testid={testId}>
      {other.data ? runName(other.data) : runId}
    </Link>
  );
}

/** A git commit, short, linked to its page when the repository is on a known host. */
function CommitLink({ commit, repoUrl }: { commit: string; repoUrl: string | null | undefined }) {
  const url = commitWebUrl(repoUrl, commit);
  const title = `${commit}${repoUrl ? ` in ${repoUrl}` : ""}`;
  return url ? (
    <a href={url} target="_blank" rel="noopener noreferrer" title={title} data-testid="git-commit">
      {shortCommit(commit)}
    </a>
  ) : (
    <span title={title} data-testid="git-commit">
      {shortCommit(commit)}
    </span>
  );
}

/** A shell command, wrapped, with a button copying it. */
function Command({ text, testId }: { text: string; testId: string }) {
  const ref = useRef<HTMLPreElement>(null);
  const select = () => {
    const node = ref.current;
    const selection = window.getSelection();
    if (!node || !selection) return;
    const range = document.createRange();
    range.selectNodeContents(node);
    selection.removeAllRanges();
    selection.addRange(range);
  };
  return (
    <div className="command-row">
      <pre ref={ref} data-testid={testId}>{text}</pre>
      <CopyButton text={text} fallback={select} title="Copy the command" />
    </div>
  );
}

/** What `mltrail run` recorded of a project run, and the commands that run it again. */
function ProjectCard({ run, project: p }: { run: Run; project: ProjectRun }) {
  const trackingUri = window.location.origin;
  const explicit = explicitCommand(p, run.info.experiment_id, trackingUri);
  const repoPage = repoWebUrl(p.repoUrl);
  const code = p.exitCode !== null ? Number(p.exitCode) : NaN;
  const signal = code > 128 && code < 160 ? ` (ended by signal ${code - 128})` : "";
  const parameters =
    p.parametersFrom === "invalid" ? (
      <span className="warn-text">unreadable (the mltrail.project.parameters tag is no JSON object)</span>
    ) : (
      <>
        {p.parameters.length
          ? p.parameters.map(([k, v]) => <span key={k} className="tag-chip">{k}={v}</span>)
          : <span className="muted">none: the entry point's defaults</span>}
        {p.parametersFrom === "params" ? <div className="muted small">Not recorded apart (a run of <code>mlflow run</code>): every param is passed again.</div> : null}
      </>
    );
  const rows: [string, React.ReactNode][] = [
    ["Entry point", p.entryPoint ?? ""],
    ["Environment", p.env ? `${p.env}${p.dockerImage ? ` (image ${p.dockerImage})` : ""}` : ""],
    ["Parameters given", parameters],
    ["Source", p.source ?? ""],
    ["Repository", p.repoUrl ? (repoPage ? <a key="r" href={repoPage} target="_blank" rel="noopener noreferrer">{p.repoUrl}</a> : p.repoUrl) : ""],
    [
      "Git commit",
      p.commit ? (
        <span key="c">
          <CommitLink commit={p.commit} repoUrl={p.repoUrl} />
          {p.dirty ? <span className="warn-text small"> with uncommitted changes</span> : null}
        </span>
      ) : "",
    ],
    ["Git branch", p.branch ?? ""],
    ["Exit code", p.exitCode !== null && p.exitCode !== "0" ? `${p.exitCode}${signal}` : ""],
    ["Reproduced from", p.reproducedFrom ? <RunLink key="o" runId={p.reproducedFrom} testId="reproduced-from" /> : ""],
  ];
  return (
    <div className="card wide" data-testid="project-card">
      <h2>Project</h2>
      <KeyValueTable rows={rows.filter(([, v]) => v !== "")} />
      <h3 style={{ marginTop: 10 }}>Run it again</h3>
      <Command text={reproduceCommand(run.info.run_id, trackingUri)} testId="reproduce-command" />
      {explicit ? (
        <details style={{ marginTop: 6 }}>
          <summary className="muted small">The same command, spelled out</summary>
          <Command text={explicit} testId="explicit-command" />
        </details>
      ) : null}
      {p.dirty ? <div className="muted small">The run had uncommitted changes: the commit does not hold them, so the new run may differ.</div> : null}
      {!p.commit ? <div className="muted small">No git commit recorded: the project runs as its folder is now.</div> : null}
      {authState().kind === "signed-in" ? (
        <div className="muted small">
          This server asks who you are: set <code>MLFLOW_TRACKING_TOKEN</code> to a token from <Link href="/account/tokens">your account</Link> first.
        </div>
      ) : null}
    </div>
  );
}

function Description({ run, reload }: { run: Run; reload: () => void }) {
  const current = tagValue(run, "mlflow.note.content") ?? "";
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(current);
  const [error, setError] = useState<unknown>(null);
  const save = async () => {
    try {
      await setRunTag(run.info.run_id, "mlflow.note.content", text);
      setEditing(false);
      reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="card">
      <div className="title-row">
        <h2>Description</h2>
        <span className="spacer" />
        {!editing ? <button onClick={() => (setText(current), setEditing(true))}>Edit</button> : null}
      </div>
      {editing ? (
        <>
          <textarea aria-label="Description (markdown)" value={text} onChange={(e) => setText(e.target.value)} />
          {error ? <ErrorBox error={error} /> : null}
          <div className="toolbar" style={{ marginTop: 6 }}>
            <button className="primary" onClick={() => void save()}>Save</button>
            <button onClick={() => setEditing(false)}>Cancel</button>
            <span className="muted small">Markdown</span>
          </div>
        </>
      ) : current ? (
        <Markdown text={current} />
      ) : (
        <div className="muted">No description.</div>
      )}
    </div>
  );
}

/** The user's tags, editable; the system tags (mlflow.*, mltrail.*) are shown with the details. */
function Tags({ run, reload }: { run: Run; reload: () => void }) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [error, setError] = useState<unknown>(null);
  const tags = userTags(run.data.tags);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="card">
      <h2>Tags</h2>
      <table className="kv" data-testid="tags-table">
        <tbody>
          {tags.map((t) => (
            <tr key={t.key}>
              <th className="mono">{t.key}</th>
              <td className="mono" style={{ wordBreak: "break-all" }}>{t.value}</td>
              <td style={{ width: 56, whiteSpace: "nowrap" }}>
                <button className="link" title={`Edit tag ${t.key}`} onClick={() => (setKey(t.key), setValue(t.value))}>✎</button>{" "}
                <button className="link" title={`Delete tag ${t.key}`} onClick={() => void act(() => deleteRunTag(run.info.run_id, t.key))}>✕</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!tags.length ? <div className="muted">No tags.</div> : null}
      <div className="toolbar" style={{ marginTop: 8 }}>
        <input placeholder="key" aria-label="Tag key" value={key} onChange={(e) => setKey(e.target.value)} style={{ width: 130 }} />
        <input placeholder="value" aria-label="Tag value" value={value} onChange={(e) => setValue(e.target.value)} style={{ flex: 1 }} />
        <button disabled={!key.trim()} onClick={() => void act(async () => { await setRunTag(run.info.run_id, key.trim(), value); setKey(""); setValue(""); })}>
          Set tag
        </button>
      </div>
      {error ? <ErrorBox error={error} /> : null}
    </div>
  );
}

/** MLflow 3's logged models of a run: made by it (source_run_id), or recorded as its outputs. */
async function runLoggedModels(run: Run, signal: AbortSignal): Promise<LoggedModel[]> {
  try {
    const filter = `source_run_id = '${run.info.run_id}'`;
    const { models } = await searchLoggedModels([run.info.experiment_id], filter, signal, 1000);
    const others = await Promise.all(missingOutputs(run, models).map((id) => getLoggedModel(id, signal).catch(() => null)));
    return [...models, ...others.filter((m): m is LoggedModel => m !== null)];
  } catch (e) {
    // A server without MLflow 3's logged models has none to show.
    if (e instanceof ApiError && e.isMissingEndpoint) return [];
    throw e;
  }
}

function Models({ run }: { run: Run }) {
  const outputs = (run.outputs?.model_outputs ?? []).map((o) => o.model_id).join(",");
  const logged = useAsync((signal) => runLoggedModels(run, signal), [run.info.run_id, outputs]);
  const loggedIds = new Set((logged.data ?? []).map((m) => m.info.model_id));
  // The history tag also lists MLflow 3's models; those are shown as logged models.
  const models = historyModels(run).filter((m) => !(m.model_id && loggedIds.has(m.model_id)));
  const versions = useAsync((signal) => searchModelVersions(`run_id = '${run.info.run_id}'`, signal), [run.info.run_id]);
  // The model to register: a folder of the run's artifacts, or (MLflow 3) a logged model.
  const [register, setRegister] = useState<{ path: string } | { model: LoggedModel } | null>(null);
  return (
    <div className="card wide">
      <h2>Models</h2>
      {logged.error ? <ErrorBox error={logged.error} what="Cannot load the run's logged models" /> : null}
      {logged.data?.length ? <LoggedModelsTable models={logged.data} showRun={false} onRegister={(model) => setRegister({ model })} /> : null}
      {logged.loading && !logged.data ? <Loading what="logged models" /> : null}
      {models.length ? (
        <table className="plain">
          <thead>
            <tr><th>Logged model</th><th>Flavors</th><th /></tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <tr key={m.artifact_path}>
                <td className="mono">
                  <Link href={`/runs/${enc(run.info.run_id)}?tab=artifacts&path=${enc(`${m.artifact_path}/MLmodel`)}`}>{m.artifact_path}</Link>
                </td>
                <td>{Object.keys(m.flavors ?? {}).join(", ")}</td>
                <td>
                  <button onClick={() => setRegister({ path: m.artifact_path })}>Register model</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : logged.data && !logged.data.length ? (
        <div className="muted">No models logged by this run.</div>
      ) : null}
      <h3 style={{ marginTop: 10 }}>Registered versions</h3>
      {versions.error ? (
        versions.error instanceof ApiError && versions.error.isMissingEndpoint ? <div className="muted">The server has no model registry.</div> : <ErrorBox error={versions.error} />
      ) : !versions.data ? (
        <Loading />
      ) : versions.data.length ? (
        <ul>
          {versions.data.map((v) => (
            <li key={`${v.name}/${v.version}`}>
              <Link href={`/models/${enc(v.name)}/versions/${enc(v.version)}`}>
                {v.name} v{v.version}
              </Link>{" "}
              {v.aliases?.map((a) => <span key={a} className="badge">@{a}</span>)}
            </li>
          ))}
        </ul>
      ) : (
        <div className="muted">None.</div>
      )}
      {register ? (
        <PromptModal
          title={`Register ${"path" in register ? register.path : `${register.model.info.name} (${register.model.info.model_id})`}`}
          label="Registered model name (new or existing)"
          okText="Register"
          onClose={() => setRegister(null)}
          onOk={async (name) => {
            try {
              await createRegisteredModel(name);
            } catch (e) {
              if (!(e instanceof ApiError && e.code === "RESOURCE_ALREADY_EXISTS")) throw e;
            }
            const v =
              "path" in register
                ? await createModelVersion(name, `${(run.info.artifact_uri ?? "").replace(/\/$/, "")}/${register.path}`, run.info.run_id)
                : await createModelVersion(name, `models:/${register.model.info.model_id}`, run.info.run_id, register.model.info.model_id);
            navigate(`/models/${enc(v.name)}/versions/${enc(v.version)}`);
          }}
        />
      ) : null}
    </div>
  );
}

function ChildRuns({ run }: { run: Run }) {
  const children = useAsync(
    (signal) =>
      searchRuns(
        { experiment_ids: [run.info.experiment_id], filter: `tags.\`mlflow.parentRunId\` = '${run.info.run_id}'`, max_results: 200 },
        signal,
      ).then((r) => r.runs ?? []),
    [run.info.run_id],
  );
  if (!children.data?.length) return null;
  return (
    <div className="card">
      <h2>Child runs ({children.data.length})</h2>
      <ul>
        {children.data.map((c) => (
          <li key={c.info.run_id}>
            <Link href={`/runs/${enc(c.info.run_id)}`}>{runName(c)}</Link> <StatusBadge status={c.info.status} />
          </li>
        ))}
      </ul>
    </div>
  );
}
