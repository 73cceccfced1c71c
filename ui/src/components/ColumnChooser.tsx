import { useState } from "react";
import { ATTRIBUTE_COLUMNS, DEFAULT_COLUMNS } from "../lib/columns";
import type { KnownKeys } from "../lib/filterComplete";
import { isSystemTag } from "../lib/runTags";
import { useDismiss } from "./common";

export function ColumnChooser(props: { columns: string[]; keys: KnownKeys; onChange: (ids: string[]) => void }) {
  const [open, setOpen] = useState(false);
  const [q, setQ] = useState("");
  const ref = useDismiss(open, () => setOpen(false));
  const on = new Set(props.columns);
  const toggle = (id: string) =>
    props.onChange(on.has(id) ? props.columns.filter((c) => c !== id) : [...props.columns, id]);
  const match = (k: string) => !q || k.toLowerCase().includes(q.toLowerCase());
  const box = (id: string, label: string) => (
    <label key={id}>
      <input type="checkbox" checked={on.has(id)} onChange={() => toggle(id)} />
      <span className="mono">{label}</span>
    </label>
  );
  const userTags = props.keys.tags.filter((t) => !isSystemTag(t));
  return (
    <div className="rel" ref={ref}>
      <button onClick={() => setOpen((o) => !o)} aria-expanded={open}>
        Columns ({props.columns.length})
      </button>
      {open ? (
        <div className="popover" style={{ right: 0, top: "110%" }} role="dialog" aria-label="Choose columns">
          <div className="toolbar">
            <input placeholder="Find a key" value={q} onChange={(e) => setQ(e.target.value)} aria-label="Find a column" autoFocus />
            <button className="link" onClick={() => props.onChange(DEFAULT_COLUMNS)}>
              Reset
            </button>
          </div>
          <h3>Attributes</h3>
          {Object.entries(ATTRIBUTE_COLUMNS)
            .filter(([k, v]) => match(k) || match(v.label))
            .map(([k, v]) => box(`attr:${k}`, v.label))}
          <h3>Metrics (latest · min · max)</h3>
          {props.keys.metrics.filter(match).map((k) => (
            <div key={k} style={{ display: "flex", gap: 10 }}>
              {box(`metric:${k}`, k)}
              <label title="Smallest value logged">
                <input type="checkbox" checked={on.has(`metricmin:${k}`)} onChange={() => toggle(`metricmin:${k}`)} />
                min
              </label>
              <label title="Largest value logged">
                <input type="checkbox" checked={on.has(`metricmax:${k}`)} onChange={() => toggle(`metricmax:${k}`)} />
                max
              </label>
            </div>
          ))}
          {!props.keys.metrics.length ? <div className="muted small">No metrics seen.</div> : null}
          <h3>Params</h3>
          {props.keys.params.filter(match).map((k) => box(`param:${k}`, k))}
          {!props.keys.params.length ? <div className="muted small">No params seen.</div> : null}
          <h3>Tags</h3>
          {userTags.filter(match).map((k) => box(`tag:${k}`, k))}
          {!userTags.length ? <div className="muted small">No tags seen.</div> : null}
        </div>
      ) : null}
    </div>
  );
}
