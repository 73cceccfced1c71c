import { useState } from "react";
import { ApiError, fetchRaw } from "../api/client";
import {
  artifactUrl,
  getLoggedModel,
  loggedModelArtifactUrl,
  deleteAlias,
  deleteModelTag,
  deleteVersionTag,
  getModelVersion,
  getRegisteredModel,
  getRun,
  searchModelVersions,
  searchRegisteredModels,
  setAlias,
  setModelTag,
  setVersionTag,
  transitionStage,
  updateModelVersion,
  updateRegisteredModel,
} from "../api/endpoints";
import type { KeyValue, ModelVersion, RegisteredModel } from "../api/types";
import { MLmodelView, Markdown } from "../components/lazy";
import { ErrorBox, Empty, KeyValueTable, Loading } from "../components/common";
import { runName } from "../lib/columns";
import { formatTime } from "../lib/format";
import { useAsync } from "../lib/hooks";
import { modelIdOfVersion } from "../lib/loggedModels";
import { Link, enc, navigate, useLocation } from "../lib/router";
import { modelHref } from "./LoggedModels";

const STAGES = ["None", "Staging", "Production", "Archived"];

function noRegistry(e: unknown) {
  return e instanceof ApiError && (e.isMissingEndpoint || e.status === 404) ? (
    <Empty>This server has no model registry yet.</Empty>
  ) : (
    <ErrorBox error={e} />
  );
}

export function ModelsPage() {
  const loc = useLocation();
  const q = loc.search.get("q") ?? "";
  const [text, setText] = useState(q);
  const filter = q ? `name ILIKE '%${q.replace(/'/g, "''")}%'` : undefined;
  const models = useAsync((signal) => searchRegisteredModels(filter, signal), [filter]);
  return (
    <div className="page">
      <div className="title-row">
        <h1>Registered models</h1>
        <span className="spacer" />
        <input
          type="search"
          placeholder="Search models"
          aria-label="Search models"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => e.key === "Enter" && navigate(`/models${text ? `?q=${enc(text)}` : ""}`, { replace: true })}
        />
      </div>
      {models.error ? noRegistry(models.error) : !models.data ? <Loading what="models" /> : !models.data.length ? (
        <Empty>{q ? "No model matches." : "No registered models yet. Register one from a run's page."}</Empty>
      ) : (
        <div className="card" style={{ padding: 0 }}>
          <table className="plain" data-testid="models-table">
            <thead>
              <tr><th>Name</th><th>Latest version</th><th>Aliases</th><th>Updated</th><th>Description</th></tr>
            </thead>
            <tbody>
              {models.data.map((m) => {
                const latest = (m.latest_versions ?? []).reduce((a, v) => Math.max(a, Number(v.version)), 0);
                return (
                  <tr key={m.name}>
                    <td><Link href={`/models/${enc(m.name)}`}>{m.name}</Link></td>
                    <td>{latest ? <Link href={`/models/${enc(m.name)}/versions/${latest}`}>v{latest}</Link> : ""}</td>
                    <td>{(m.aliases ?? []).map((a) => <span key={a.alias} className="badge">@{a.alias}: v{a.version}</span>)}</td>
                    <td>{formatTime(m.last_updated_timestamp)}</td>
                    <td className="model-description" data-testid="model-description">{m.description ? <Markdown text={m.description} /> : null}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function EditableText(props: { value: string; onSave: (v: string) => Promise<unknown>; title: string }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(props.value);
  const [error, setError] = useState<unknown>(null);
  return (
    <div className="card">
      <div className="title-row">
        <h2>{props.title}</h2>
        <span className="spacer" />
        {!editing ? <button onClick={() => (setText(props.value), setEditing(true))}>Edit</button> : null}
      </div>
      {editing ? (
        <>
          <textarea aria-label={props.title} value={text} onChange={(e) => setText(e.target.value)} />
          {error ? <ErrorBox error={error} /> : null}
          <div className="toolbar" style={{ marginTop: 6 }}>
            <button className="primary" onClick={() => props.onSave(text).then(() => setEditing(false), setError)}>Save</button>
            <button onClick={() => setEditing(false)}>Cancel</button>
          </div>
        </>
      ) : props.value ? <Markdown text={props.value} /> : <div className="muted">None.</div>}
    </div>
  );
}

function TagEditor(props: { tags: KeyValue[]; onSet: (k: string, v: string) => Promise<unknown>; onDelete: (k: string) => Promise<unknown> }) {
  const [k, setK] = useState("");
  const [v, setV] = useState("");
  const [error, setError] = useState<unknown>(null);
  const run = (p: Promise<unknown>) => p.then(() => setError(null), setError);
  return (
    <div className="card">
      <h2>Tags</h2>
      <table className="kv">
        <tbody>
          {props.tags.map((t) => (
            <tr key={t.key}>
              <th className="mono">{t.key}</th>
              <td className="mono">{t.value}</td>
              <td style={{ width: 30 }}><button className="link" title={`Delete tag ${t.key}`} onClick={() => void run(props.onDelete(t.key))}>✕</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {!props.tags.length ? <div className="muted">No tags.</div> : null}
      <div className="toolbar" style={{ marginTop: 8 }}>
        <input placeholder="key" aria-label="Tag key" value={k} onChange={(e) => setK(e.target.value)} style={{ width: 130 }} />
        <input placeholder="value" aria-label="Tag value" value={v} onChange={(e) => setV(e.target.value)} style={{ flex: 1 }} />
        <button disabled={!k.trim()} onClick={() => void run(props.onSet(k.trim(), v).then(() => (setK(""), setV(""))))}>Set tag</button>
      </div>
      {error ? <ErrorBox error={error} /> : null}
    </div>
  );
}

function AliasEditor(props: { name: string; model: RegisteredModel; versions: ModelVersion[]; fixedVersion?: string; reload: () => void }) {
  const [alias, setAliasText] = useState("");
  const [picked, setVersion] = useState("");
  // The versions may arrive after the first render: default to the newest until one is picked.
  const version = props.fixedVersion ?? (picked || props.versions[0]?.version || "");
  const [error, setError] = useState<unknown>(null);
  const aliases = (props.model.aliases ?? []).filter((a) => !props.fixedVersion || a.version === props.fixedVersion);
  const act = (p: Promise<unknown>) => p.then(() => (setError(null), props.reload()), setError);
  return (
    <div className="card">
      <h2>Aliases</h2>
      <div data-testid="aliases">
        {aliases.map((a) => (
          <span key={a.alias} className="tag-chip">
            <strong>@{a.alias}</strong> → <Link href={`/models/${enc(props.name)}/versions/${enc(a.version)}`}>v{a.version}</Link>
            <button title={`Remove alias ${a.alias}`} onClick={() => void act(deleteAlias(props.name, a.alias))}>✕</button>
          </span>
        ))}
        {!aliases.length ? <span className="muted">No aliases.</span> : null}
      </div>
      <div className="toolbar" style={{ marginTop: 8 }}>
        <input placeholder="alias, e.g. champion" aria-label="Alias" value={alias} onChange={(e) => setAliasText(e.target.value)} />
        {props.fixedVersion ? null : (
          <select aria-label="Version" value={version} onChange={(e) => setVersion(e.target.value)}>
            {props.versions.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}
          </select>
        )}
        <button disabled={!alias.trim() || !version} onClick={() => void act(setAlias(props.name, alias.trim(), version).then(() => setAliasText("")))}>
          Set alias
        </button>
      </div>
      {error ? <ErrorBox error={error} /> : null}
    </div>
  );
}

function StageSelect({ v, reload }: { v: ModelVersion; reload: () => void }) {
  const [error, setError] = useState<unknown>(null);
  return (
    <>
      <select
        aria-label={`Stage of version ${v.version}`}
        value={v.current_stage ?? "None"}
        onChange={(e) => {
          const stage = e.target.value;
          const archive = stage === "Staging" || stage === "Production" ? window.confirm(`Archive the other versions in ${stage}?`) : false;
          transitionStage(v.name, v.version, stage, archive).then(reload, setError);
        }}
      >
        {STAGES.map((s) => <option key={s}>{s}</option>)}
      </select>
      {error ? <ErrorBox error={error} /> : null}
    </>
  );
}

export function ModelPage({ name }: { name: string }) {
  const model = useAsync((signal) => getRegisteredModel(name, signal), [name]);
  const versions = useAsync((signal) => searchModelVersions(`name = '${name.replace(/'/g, "''")}'`, signal), [name]);
  const reload = () => (model.reload(), versions.reload());
  if (model.error) return <div className="page">{noRegistry(model.error)}</div>;
  if (!model.data) return <div className="page"><Loading what="model" /></div>;
  const m = model.data;
  const vs = [...(versions.data ?? [])].sort((a, b) => Number(b.version) - Number(a.version));
  const aliasesOf = (v: string) => (m.aliases ?? []).filter((a) => a.version === v).map((a) => a.alias);
  return (
    <div className="page">
      <div className="breadcrumbs"><Link href="/models">Registered models</Link><span>›</span></div>
      <div className="title-row">
        <h1 data-testid="model-title">{m.name}</h1>
        <span className="muted small">created {formatTime(m.creation_timestamp)} · updated {formatTime(m.last_updated_timestamp)}</span>
      </div>
      <div className="overview">
        <EditableText title="Description" value={m.description ?? ""} onSave={(d) => updateRegisteredModel(name, d).then(reload)} />
        <AliasEditor name={name} model={m} versions={vs} reload={reload} />
        <TagEditor tags={m.tags ?? []} onSet={(k, v) => setModelTag(name, k, v).then(reload)} onDelete={(k) => deleteModelTag(name, k).then(reload)} />
      </div>
      <div className="card" style={{ padding: 0 }}>
        <table className="plain" data-testid="versions-table">
          <thead>
            <tr><th>Version</th><th>Stage</th><th>Aliases</th><th>Status</th><th>Created</th><th>Source run</th></tr>
          </thead>
          <tbody>
            {vs.map((v) => (
              <tr key={v.version}>
                <td><Link href={`/models/${enc(name)}/versions/${enc(v.version)}`}>v{v.version}</Link></td>
                <td><StageSelect v={v} reload={reload} /></td>
                <td>{aliasesOf(v.version).map((a) => <span key={a} className="badge">@{a}</span>)}</td>
                <td>{v.status}</td>
                <td>{formatTime(v.creation_timestamp)}</td>
                <td>{v.run_id ? <Link href={`/runs/${enc(v.run_id)}`}>{v.run_id.slice(0, 8)}</Link> : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {versions.error ? <ErrorBox error={versions.error} /> : null}
        {versions.data && !vs.length ? <Empty>No versions.</Empty> : null}
      </div>
    </div>
  );
}

/** The model's path inside its run's artifacts, when the source lies under them. */
function artifactPathOf(source: string | undefined, runId: string | undefined, artifactUri: string | undefined): string | null {
  if (!source) return null;
  const m = /^runs:\/([^/]+)\/(.+)$/.exec(source);
  if (m && m[1] === runId) return m[2]!;
  if (artifactUri && source.startsWith(artifactUri.replace(/\/$/, "") + "/")) return source.slice(artifactUri.replace(/\/$/, "").length + 1);
  const idx = runId ? source.indexOf(`/${runId}/artifacts/`) : -1;
  if (idx >= 0) return source.slice(idx + runId!.length + 12);
  return null;
}

export function VersionPage({ name, version }: { name: string; version: string }) {
  const v = useAsync((signal) => getModelVersion(name, version, signal), [name, version]);
  const model = useAsync((signal) => getRegisteredModel(name, signal), [name]);
  const runId = v.data?.run_id;
  const run = useAsync((signal) => (runId ? getRun(runId, signal) : Promise.resolve(null)), [runId]);
  const path = v.data ? artifactPathOf(v.data.source, runId, run.data?.info.artifact_uri) : null;
  // MLflow 3: a version of a logged model (source models:/m-..., or the model's own location).
  const loggedId = v.data ? modelIdOfVersion(v.data.source, v.data.model_id) : null;
  const logged = useAsync((signal) => (loggedId ? getLoggedModel(loggedId, signal) : Promise.resolve(null)), [loggedId]);
  const mlmodel = useAsync(
    async (signal) => {
      const read = async (url: string) => (await fetchRaw(url, signal)).text();
      if (loggedId) {
        try {
          return await read(loggedModelArtifactUrl(loggedId, "MLmodel"));
        } catch (e) {
          if (!(runId && path !== null)) throw e;
        }
      }
      return runId && path !== null ? read(artifactUrl(runId, `${path}/MLmodel`)) : null;
    },
    [runId, path, loggedId],
  );
  const reload = () => (v.reload(), model.reload());
  if (v.error) return <div className="page">{noRegistry(v.error)}</div>;
  if (!v.data) return <div className="page"><Loading what="model version" /></div>;
  const mv = v.data;
  return (
    <div className="page">
      <div className="breadcrumbs">
        <Link href="/models">Registered models</Link><span>›</span>
        <Link href={`/models/${enc(name)}`}>{name}</Link><span>›</span>
      </div>
      <div className="title-row">
        <h1 data-testid="version-title">{name} v{mv.version}</h1>
        <span className="badge">{mv.status}</span>
        <StageSelect v={mv} reload={reload} />
      </div>
      <div className="overview">
        <div className="card">
          <h2>Details</h2>
          <KeyValueTable
            rows={[
              ["Created", formatTime(mv.creation_timestamp)],
              ["Updated", formatTime(mv.last_updated_timestamp)],
              ["Stage", mv.current_stage ?? "None"],
              ["Status", `${mv.status ?? ""}${mv.status_message ? ` (${mv.status_message})` : ""}`],
              ["Source run", runId ? <Link key="r" href={`/runs/${enc(runId)}`}>{run.data ? runName(run.data) : runId}</Link> : "none"],
              ["Source", mv.source ?? ""],
              ...(loggedId
                ? [[
                    "Logged model",
                    logged.data ? (
                      <Link key="m" href={modelHref(logged.data)}>{logged.data.info.name} ({loggedId})</Link>
                    ) : (
                      loggedId
                    ),
                  ] as [string, React.ReactNode]]
                : []),
              ["User", mv.user_id ?? ""],
            ]}
          />
        </div>
        {model.data ? <AliasEditor name={name} model={model.data} versions={[mv]} fixedVersion={mv.version} reload={reload} /> : <Loading />}
        <EditableText title="Description" value={mv.description ?? ""} onSave={(d) => updateModelVersion(name, version, d).then(reload)} />
        <TagEditor tags={mv.tags ?? []} onSet={(k, val) => setVersionTag(name, version, k, val).then(reload)} onDelete={(k) => deleteVersionTag(name, version, k).then(reload)} />
      </div>
      <div className="card">
        <h2>Signature</h2>
        {mlmodel.error ? <div className="muted">Cannot read the model's MLmodel file ({mlmodel.error.message.split("\n")[0]}).</div> : mlmodel.data ? <MLmodelView text={mlmodel.data} /> : path === null && !loggedId && !run.loading ? <div className="muted">The source is outside the run's artifacts.</div> : <Loading />}
      </div>
    </div>
  );
}
