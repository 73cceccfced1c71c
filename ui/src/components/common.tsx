import { type ReactNode, useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import type { RunStatus } from "../api/types";

export function ErrorBox({ error, what }: { error: unknown; what?: string }) {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? error.code : null;
  const [first, ...rest] = message.split("\n");
  return (
    <div className="error-box" role="alert">
      <strong>{what ? `${what}: ` : ""}</strong>
      {first}
      {code && code !== "NETWORK_ERROR" ? <span className="muted small"> ({code})</span> : null}
      {rest.length ? <pre>{rest.join("\n")}</pre> : null}
    </div>
  );
}

export const Loading = ({ what }: { what?: string }) => (
  <div className="loading" role="status">
    Loading{what ? ` ${what}` : ""}…
  </div>
);

export const Empty = ({ children }: { children: ReactNode }) => <div className="empty">{children}</div>;

export function StatusBadge({ status }: { status: RunStatus | string | undefined }) {
  if (!status) return null;
  return (
    <span className={`status-${status}`} title={status}>
      <span className="dot" />
      {status.charAt(0) + status.slice(1).toLowerCase()}
    </span>
  );
}

/** A small modal asking for one line of text (create, rename, register...). */
export function PromptModal(props: {
  title: string;
  label: string;
  initial?: string;
  okText?: string;
  onOk: (value: string) => Promise<void> | void;
  onClose: () => void;
  extra?: ReactNode;
}) {
  const [value, setValue] = useState(props.initial ?? "");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    ref.current?.focus();
    ref.current?.select();
  }, []);
  const submit = async () => {
    if (!value.trim()) return;
    setBusy(true);
    try {
      await props.onOk(value.trim());
      props.onClose();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="modal-back" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <div className="modal" role="dialog" aria-label={props.title}>
        <h2>{props.title}</h2>
        <label className="muted">
          {props.label}
          <input
            ref={ref}
            style={{ width: "100%", marginTop: 4 }}
            value={value}
            aria-label={props.label}
            onChange={(e) => setValue(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") void submit();
              if (e.key === "Escape") props.onClose();
            }}
          />
        </label>
        {props.extra}
        {error ? <ErrorBox error={error} /> : null}
        <div className="row">
          <button onClick={props.onClose}>Cancel</button>
          <button className="primary" disabled={busy || !value.trim()} onClick={() => void submit()}>
            {props.okText ?? "OK"}
          </button>
        </div>
      </div>
    </div>
  );
}

/** Close a popover on an outside click or Escape. */
export function useDismiss(open: boolean, close: () => void) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const down = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) close();
    };
    const key = (e: KeyboardEvent) => e.key === "Escape" && close();
    document.addEventListener("mousedown", down);
    document.addEventListener("keydown", key);
    return () => {
      document.removeEventListener("mousedown", down);
      document.removeEventListener("keydown", key);
    };
  }, [open, close]);
  return ref;
}

/**
 * A button copying *text* to the clipboard; it says "Copied" for a moment. Where the browser
 * refuses the clipboard (an insecure origin), *fallback* is called, to select the text for Ctrl+C.
 */
export function CopyButton({ text, label = "Copy", fallback, title }: { text: string; label?: string; fallback?: () => void; title?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "refused">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const timer = window.setTimeout(() => setState("idle"), 2000);
    return () => window.clearTimeout(timer);
  }, [state]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      fallback?.();
      setState("refused");
    }
  };
  return (
    <button type="button" onClick={() => void copy()} title={title ?? "Copy to the clipboard"} data-copy={text}>
      {state === "copied" ? "Copied" : state === "refused" ? "Selected: press Ctrl+C" : label}
    </button>
  );
}

export function KeyValueTable({ rows, empty }: { rows: [string, ReactNode][]; empty?: string }) {
  if (!rows.length) return <div className="muted">{empty ?? "None"}</div>;
  return (
    <table className="kv">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th className="mono">{k}</th>
            <td className="mono" style={{ wordBreak: "break-all" }}>
              {v}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
