import { useMemo, useState } from "react";
import { createExperiment, deleteExperiment, renameExperiment, restoreExperiment } from "../api/endpoints";
import type { Experiment } from "../api/types";
import { reloadExperiments, useExperiments } from "../lib/experiments";
import { Link, enc, navigate } from "../lib/router";
import { ErrorBox, PromptModal } from "./common";

type Dialog = { kind: "create" } | { kind: "rename"; exp: Experiment } | null;

export function Sidebar({ current }: { current: string[] | null }) {
  const { all, loaded, error } = useExperiments();
  const [query, setQuery] = useState("");
  const [showDeleted, setShowDeleted] = useState(false);
  const [checked, setChecked] = useState<string[]>([]);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const list = useMemo(() => {
    const q = query.trim().toLowerCase();
    return all.filter(
      (e) =>
        (showDeleted || e.lifecycle_stage === "active") &&
        (!q || e.name.toLowerCase().includes(q) || e.experiment_id === q),
    );
  }, [all, query, showDeleted]);

  const act = async (fn: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await fn();
    } catch (e) {
      setActionError(e);
    }
    await reloadExperiments();
  };

  const isCurrent = (id: string) => current !== null && current.length === 1 && current[0] === id;

  return (
    <aside className="sidebar" aria-label="Experiments">
      <div className="sidebar-head">
        <div className="row">
          <h2 style={{ margin: 0, flex: 1 }}>Experiments</h2>
          <button onClick={() => setDialog({ kind: "create" })} title="Create an experiment">
            + New
          </button>
        </div>
        <input
          type="search"
          placeholder="Search experiments"
          aria-label="Search experiments"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <div className="row small">
          <label style={{ display: "flex", gap: 4, alignItems: "center" }}>
            <input type="checkbox" checked={showDeleted} onChange={(e) => setShowDeleted(e.target.checked)} />
            Show deleted
          </label>
          <span className="spacer" />
          {checked.length > 1 ? (
            <Link href={`/experiments/${checked.map(enc).join(",")}`}>View {checked.length} together</Link>
          ) : null}
        </div>
      </div>
      <div className="sidebar-list">
        <Link
          className={`exp-item ${current !== null && current.length === 0 ? "active" : ""}`}
          href="/experiments/all"
        >
          <span className="name">
            <em>All experiments</em>
          </span>
        </Link>
        {error ? <ErrorBox error={error} what="Cannot list experiments" /> : null}
        {actionError ? <ErrorBox error={actionError} /> : null}
        {!loaded ? <div className="loading">Loading…</div> : null}
        {loaded && !list.length ? <div className="empty">{query ? "No experiment matches." : "No experiments yet."}</div> : null}
        {list.map((e) => (
          <div
            key={e.experiment_id}
            className={`exp-item ${isCurrent(e.experiment_id) ? "active" : ""} ${e.lifecycle_stage === "deleted" ? "deleted" : ""}`}
            data-testid="experiment-item"
            onClick={() => navigate(`/experiments/${enc(e.experiment_id)}`)}
          >
            <input
              type="checkbox"
              aria-label={`Select ${e.name}`}
              checked={checked.includes(e.experiment_id)}
              onClick={(ev) => ev.stopPropagation()}
              onChange={(ev) =>
                setChecked((c) => (ev.target.checked ? [...c, e.experiment_id] : c.filter((x) => x !== e.experiment_id)))
              }
            />
            <span className="name" title={`${e.name} (id ${e.experiment_id})`}>
              {e.name}
            </span>
            <span className="actions" onClick={(ev) => ev.stopPropagation()}>
              {e.lifecycle_stage === "deleted" ? (
                <button title="Restore" onClick={() => void act(() => restoreExperiment(e.experiment_id))}>
                  Restore
                </button>
              ) : (
                <>
                  <button title="Rename" onClick={() => setDialog({ kind: "rename", exp: e })}>
                    Rename
                  </button>
                  <button
                    title="Delete"
                    className="danger"
                    onClick={() => {
                      if (window.confirm(`Delete experiment "${e.name}" and its runs? It can be restored.`))
                        void act(() => deleteExperiment(e.experiment_id));
                    }}
                  >
                    Delete
                  </button>
                </>
              )}
            </span>
          </div>
        ))}
      </div>
      {dialog?.kind === "create" ? (
        <PromptModal
          title="Create experiment"
          label="Name"
          okText="Create"
          onClose={() => setDialog(null)}
          onOk={async (name) => {
            const id = await createExperiment(name);
            await reloadExperiments();
            navigate(`/experiments/${enc(id)}`);
          }}
        />
      ) : null}
      {dialog?.kind === "rename" ? (
        <PromptModal
          title="Rename experiment"
          label="New name"
          initial={dialog.exp.name}
          okText="Rename"
          onClose={() => setDialog(null)}
          onOk={async (name) => {
            await renameExperiment(dialog.exp.experiment_id, name);
            await reloadExperiments();
          }}
        />
      ) : null}
    </aside>
  );
}
