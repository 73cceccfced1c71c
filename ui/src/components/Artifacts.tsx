// The artifacts browser: a lazily expanded tree of a run's (or a logged model's) files and a preview of the chosen
// one (images, text and logs, JSON, YAML, CSV/TSV as a table, HTML sandboxed, MLmodel with its
// signature, feature importances as a bar chart), with downloads of files and folders.

import { useEffect, useState } from "react";
import YAML from "yaml";
import { fetchRaw } from "../api/client";
import type { FileInfo } from "../api/types";
import type { ArtifactSource } from "../lib/artifactSource";
import { parseCsv, shortCell } from "../lib/csv";
import { formatBytes } from "../lib/format";
import { useAsync } from "../lib/hooks";
import { download } from "../lib/export";
import { zipFolder } from "../lib/zipFolder";
import { type Bar, chartEntries, importanceType } from "../lib/importance";
import { type SignatureColumn, signatureColumnType } from "../lib/signature";
import { ErrorBox, Loading } from "./common";
import { ImportanceChart } from "./ImportanceChart";

const MAX_PREVIEW = 5 * 1024 * 1024;
const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg|ico)$/i;
const TEXT = /\.(txt|log|out|err|py|md|rst|sh|ini|toml|cfg|conf|r|sql|java|scala|js|ts|c|h|cpp|go|rs|yaml|yml|json|jsonl|xml|properties|lock)$/i;
const base = (p: string) => p.slice(p.lastIndexOf("/") + 1);

function kindOf(path: string): "image" | "csv" | "tsv" | "json" | "yaml" | "mlmodel" | "html" | "text" | "other" {
  const name = base(path);
  if (name === "MLmodel") return "mlmodel";
  if (IMAGE.test(name)) return "image";
  if (/\.csv$/i.test(name)) return "csv";
  if (/\.tsv$/i.test(name)) return "tsv";
  if (/\.json$/i.test(name)) return "json";
  if (/\.ya?ml$/i.test(name)) return "yaml";
  if (/\.html?$/i.test(name)) return "html";
  if (TEXT.test(name) || !name.includes(".") || /^(requirements|Dockerfile|MLproject)/.test(name)) return "text";
  return "other";
}

function Folder(props: {
  source: ArtifactSource;
  path: string;
  depth: number;
  selected: string | null;
  onSelect: (f: FileInfo) => void;
}) {
  const list = useAsync((signal) => props.source.list(props.path, signal), [props.source.key, props.path]);
  const [open, setOpen] = useState<Set<string>>(new Set());
  if (list.error) return <ErrorBox error={list.error} what="Cannot list artifacts" />;
  if (!list.data) return <div className="loading" style={{ paddingLeft: 8 + props.depth * 14 }}>Loading…</div>;
  const files = [...list.data.files].sort((a, b) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path));
  if (!files.length && props.depth === 0) return <div className="empty">No artifacts.</div>;
  return (
    <>
      {files.map((f) => (
        <div key={f.path}>
          <div
            className={`tree-item ${props.selected === f.path ? "on" : ""}`}
            style={{ paddingLeft: 8 + props.depth * 14 }}
            data-path={f.path}
            onClick={() => {
              if (f.is_dir)
                setOpen((o) => {
                  const n = new Set(o);
                  if (n.has(f.path)) n.delete(f.path);
                  else n.add(f.path);
                  return n;
                });
              props.onSelect(f);
            }}
          >
            <span className="muted">{f.is_dir ? (open.has(f.path) ? "▾" : "▸") : "·"}</span>
            <span>{base(f.path)}</span>
            {!f.is_dir ? <span className="size">{formatBytes(f.file_size)}</span> : null}
          </div>
          {f.is_dir && open.has(f.path) ? (
            <Folder source={props.source} path={f.path} depth={props.depth + 1} selected={props.selected} onSelect={props.onSelect} />
          ) : null}
        </div>
      ))}
    </>
  );
}

function CsvTable({ text, sep }: { text: string; sep: string }) {
  const { rows, truncated } = parseCsv(text, sep, 501);
  const [head, ...body] = rows;
  return (
    <div>
      <table className="plain" data-testid="csv-preview">
        <thead>
          <tr>{(head ?? []).map((h, i) => <th key={i}>{h}</th>)}</tr>
        </thead>
        <tbody>
          {body.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) => {
                const shown = shortCell(c);
                return (
                  <td key={j} className={/^-?[\d.]+(e[-+]?\d+)?$/i.test(c) ? "num" : ""} title={shown === c ? undefined : c}>
                    {shown}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {truncated ? <div className="muted small">First 500 rows shown.</div> : null}
    </div>
  );
}

function SignatureTable({ title, json }: { title: string; json: string | undefined }) {
  if (!json) return null;
  let cols: SignatureColumn[] = [];
  try {
    cols = JSON.parse(json) as SignatureColumn[];
  } catch {
    return <pre>{json}</pre>;
  }
  return (
    <div>
      <h3>{title}</h3>
      <table className="plain">
        <thead>
          <tr>
            <th>Name</th>
            <th>Type</th>
            <th>Required</th>
          </tr>
        </thead>
        <tbody>
          {cols.map((c, i) => (
            <tr key={i}>
              <td className="mono">{c.name ?? `[${i}]`}</td>
              <td className="mono">{signatureColumnType(c)}</td>
              <td>{c.required === false ? "no" : "yes"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function MLmodelView({ text }: { text: string }) {
  let doc: Record<string, unknown> = {};
  try {
    doc = (YAML.parse(text) as Record<string, unknown>) ?? {};
  } catch (e) {
    return <ErrorBox error={e} what="MLmodel is not valid YAML" />;
  }
  const sig = (doc.signature ?? {}) as { inputs?: string; outputs?: string; params?: string };
  const flavors = Object.keys((doc.flavors ?? {}) as object);
  return (
    <div style={{ display: "flex", flexDirection: "column", gap: 10 }} data-testid="mlmodel-preview">
      <div>
        <strong>Flavors:</strong> {flavors.map((f) => <span key={f} className="badge" style={{ marginRight: 4 }}>{f}</span>)}
        {doc.utc_time_created ? <span className="muted small"> · created {String(doc.utc_time_created)}</span> : null}
      </div>
      {sig.inputs || sig.outputs ? (
        <>
          <SignatureTable title="Signature inputs" json={sig.inputs} />
          <SignatureTable title="Signature outputs" json={sig.outputs} />
          <SignatureTable title="Parameters" json={sig.params} />
        </>
      ) : (
        <div className="muted">No signature.</div>
      )}
      <details>
        <summary>MLmodel file</summary>
        <pre>{text}</pre>
      </details>
    </div>
  );
}

/**
 * JSON pretty-printed, YAML as written; either way it says when the file does not parse. A flat
 * JSON object of numbers (XGBoost's and LightGBM's `feature_importance_*.json`) is drawn as a
 * bar chart, with a switch to the JSON.
 */
function StructuredText({ path, kind, text }: { path: string; kind: "json" | "yaml"; text: string }) {
  const [raw, setRaw] = useState(false);
  let shown = text;
  let problem: string | null = null;
  let bars: Bar[] | null = null;
  try {
    if (kind === "json") {
      const parsed: unknown = JSON.parse(text);
      shown = JSON.stringify(parsed, null, 2);
      bars = chartEntries(path, parsed);
    } else YAML.parse(text);
  } catch (e) {
    problem = `Not valid ${kind.toUpperCase()}: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}. Shown as text.`;
  }
  const type = importanceType(path);
  const title = type === null ? "Values" : `Feature importance${type ? ` (${type})` : ""}`;
  return (
    <>
      {problem ? <div className="muted small" data-testid="parse-problem">{problem}</div> : null}
      {bars ? (
        <div className="segmented" role="group" aria-label="Show as">
          <button aria-pressed={!raw} className={raw ? "" : "on"} onClick={() => setRaw(false)}>Chart</button>
          <button aria-pressed={raw} className={raw ? "on" : ""} onClick={() => setRaw(true)}>JSON</button>
        </div>
      ) : null}
      {bars && !raw ? <ImportanceChart entries={bars} title={title} /> : <pre data-testid="text-preview">{shown}</pre>}
    </>
  );
}

function Preview({ source, file }: { source: ArtifactSource; file: FileInfo }) {
  const kind = kindOf(file.path);
  const url = source.url(file.path);
  const needsText = kind !== "image" && kind !== "other";
  const tooBig = (file.file_size ?? 0) > MAX_PREVIEW;
  const text = useAsync(
    async (signal) => (needsText && !tooBig ? (await fetchRaw(url, signal)).text() : null),
    [url, needsText, tooBig],
  );
  const download = (
    <a className="btn" href={url} download={base(file.path)}>
      Download
    </a>
  );
  let body: React.ReactNode;
  if (kind === "image") body = <img src={url} alt={file.path} data-testid="image-preview" />;
  else if (kind === "other") body = <div className="muted">No preview for this kind of file.</div>;
  else if (tooBig) body = <div className="muted">Too large to preview ({formatBytes(file.file_size)}).</div>;
  else if (text.error) body = <ErrorBox error={text.error} what="Cannot read the file" />;
  else if (text.data === undefined || text.loading) body = <Loading />;
  else {
    const t = text.data ?? "";
    if (kind === "csv" || kind === "tsv") body = <CsvTable text={t} sep={kind === "csv" ? "," : "\t"} />;
    else if (kind === "json" || kind === "yaml") body = <StructuredText key={file.path} path={file.path} kind={kind} text={t} />;
    else if (kind === "mlmodel") body = <MLmodelView text={t} />;
    else if (kind === "html")
      body = <iframe title={file.path} sandbox="" srcDoc={t} data-testid="html-preview" />;
    else body = <pre data-testid="text-preview">{t}</pre>;
  }
  return (
    <div style={{ display: "flex", flexDirection: "column", gap: 8 }}>
      <div className="toolbar">
        <strong className="mono">{file.path}</strong>
        <span className="muted small">{formatBytes(file.file_size)}</span>
        <span className="spacer" />
        {download}
      </div>
      {body}
    </div>
  );
}

function FolderDownload({ source, path }: { source: ArtifactSource; path: string }) {
  const [progress, setProgress] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const go = async () => {
    setError(null);
    setProgress("listing files");
    try {
      const blob = await zipFolder(source, path, (done, total) => setProgress(`${done} of ${total} files`));
      download(`${base(path)}.zip`, blob);
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
    }
  };
  return (
    <div style={{ display: "flex", flexDirection: "column", gap: 8 }}>
      <div className="toolbar">
        <strong className="mono">{path}/</strong>
        <span className="spacer" />
        {progress ? <span className="muted small">Zipping: {progress}…</span> : null}
        <button onClick={() => void go()} disabled={progress !== null}>
          Download folder (.zip)
        </button>
      </div>
      {error ? <ErrorBox error={error} what="Cannot download the folder" /> : null}
    </div>
  );
}

export function ArtifactBrowser({ source, initialPath }: { source: ArtifactSource; initialPath?: string | undefined }) {
  const [file, setFile] = useState<FileInfo | null>(initialPath ? { path: initialPath, is_dir: false } : null);
  useEffect(() => setFile(initialPath ? { path: initialPath, is_dir: false } : null), [source.key, initialPath]);
  return (
    <div className="artifacts">
      <div className="tree" role="tree" aria-label="Artifacts">
        <Folder source={source} path="" depth={0} selected={file?.path ?? null} onSelect={setFile} />
      </div>
      <div className="preview">
        {!file ? (
          <div className="muted">Choose a file to preview it.</div>
        ) : file.is_dir ? (
          <FolderDownload source={source} path={file.path} />
        ) : (
          <Preview source={source} file={file} />
        )}
      </div>
    </div>
  );
}
