// A user's own things: their password (a modal from the user menu) and personal access tokens.
// The tokens page serves admins too, for everyone's tokens (/admin/tokens).

import { type FormEvent, useEffect, useRef, useState } from "react";
import { type TokenInfo, createToken, listTokens, listUsers, revokeToken, updatePassword } from "../api/auth";
import { ErrorBox, Loading } from "../components/common";
import { useUser } from "../lib/auth";
import { sortTokens, tokenStatus } from "../lib/authViews";
import { formatTime } from "../lib/format";
import { useAsync } from "../lib/hooks";

/**
 * Change a password. `self`: the signed-in user's own, which the server accepts only with the
 * current password; otherwise an admin resets another user's.
 */
export function ChangePasswordModal({ username, self, onClose, onDone }: {
  username: string;
  self: boolean;
  onClose: () => void;
  onDone?: () => void;
}) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const mismatch = again !== "" && next !== again;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!next || next !== again || (self && !current)) return;
    setBusy(true);
    setError(null);
    try {
      await updatePassword(username, next, self ? current : undefined);
      setDone(true);
      onDone?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const title = self ? "Change my password" : `Reset the password of ${username}`;
  return (
    <div className="modal-back" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <form className="modal" role="dialog" aria-label={title} onSubmit={(e) => void submit(e)}>
        <h2>{title}</h2>
        {done ? (
          <>
            <div role="status" data-testid="password-changed">
              The password of <strong>{username}</strong> is changed.
            </div>
            <div className="row">
              <button type="button" className="primary" onClick={onClose}>
                Close
              </button>
            </div>
          </>
        ) : (
          <>
            {self ? (
              <label className="field">
                Current password
                <input
                  ref={first}
                  type="password"
                  autoComplete="current-password"
                  value={current}
                  onChange={(e) => setCurrent(e.target.value)}
                />
              </label>
            ) : null}
            <label className="field">
              New password
              <input
                ref={self ? undefined : first}
                type="password"
                autoComplete="new-password"
                value={next}
                onChange={(e) => setNext(e.target.value)}
              />
            </label>
            <label className="field">
              New password again
              <input type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />
            </label>
            {mismatch ? <div className="warn-text small">The two new passwords differ.</div> : null}
            {next && next.length < 12 ? <div className="warn-text small">A password has at least 12 characters.</div> : null}
            {error ? <ErrorBox error={error} /> : null}
            <div className="row">
              <button type="button" onClick={onClose}>
                Cancel
              </button>
              <button className="primary" type="submit" disabled={busy || !next || next !== again || (self && !current)}>
                Change password
              </button>
            </div>
          </>
        )}
      </form>
    </div>
  );
}

/** A token just created: its secret, shown this once. */
function NewToken({ token, info, onDone }: { token: string; info: TokenInfo; onDone: () => void }) {
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const field = useRef<HTMLInputElement>(null);
  const copy = async () => {
    field.current?.select();
    try {
      await navigator.clipboard.writeText(token);
      setCopied("yes");
    } catch {
      setCopied("no"); // no clipboard (an insecure origin): the text is selected for Ctrl+C
    }
  };
  return (
    <div className="card new-token" role="status" data-testid="new-token">
      <h3>
        Token “{info.name}” created{info.username ? ` for ${info.username}` : ""}
      </h3>
      <p className="warn-text">Copy it now: you will not see it again.</p>
      <div className="toolbar">
        <input
          ref={field}
          readOnly
          className="mono token-secret"
          value={token}
          aria-label="The new token"
          data-testid="new-token-value"
          onFocus={(e) => e.target.select()}
        />
        <button onClick={() => void copy()}>Copy</button>
        <button className="primary" onClick={onDone}>
          Done
        </button>
      </div>
      {copied === "yes" ? <div className="small muted">Copied to the clipboard.</div> : null}
      {copied === "no" ? <div className="small muted">The browser refused the clipboard: the token is selected, press Ctrl+C.</div> : null}
      <div className="small muted">
        Use it as <code>MLFLOW_TRACKING_TOKEN</code>, or in an <code>Authorization: Bearer …</code> header.
      </div>
    </div>
  );
}

const EXPIRY_CHOICES = [7, 30, 90, 365];

/**
 * Personal access tokens. `all` (admins, /admin/tokens): everyone's, filterable by user, and a
 * token can be made for any user; otherwise the signed-in user's own.
 */
export function TokensPage({ all }: { all: boolean }) {
  const me = useUser();
  const [owner, setOwner] = useState(""); // "" everyone (admins) / the caller
  const [name, setName] = useState("");
  const [days, setDays] = useState("90");
  const [forUser, setForUser] = useState("");
  const [created, setCreated] = useState<{ token: string; info: TokenInfo } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const users = useAsync((signal) => (all ? listUsers(signal) : Promise.resolve([])), [all]);
  const tokens = useAsync((signal) => listTokens(all ? owner || undefined : undefined, signal), [all, owner]);

  useEffect(() => {
    document.title = `${all ? "All tokens" : "My tokens"} · mltrail`;
  }, [all]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const r = await createToken(name.trim(), Number(days), all && forUser ? forUser : undefined);
      setCreated({ token: r.token, info: r.token_info });
      setName("");
      tokens.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (t: TokenInfo) => {
    if (!window.confirm(`Revoke the token "${t.name}"${all ? ` of ${t.username}` : ""}? Whatever uses it will be refused.`)) return;
    setError(null);
    try {
      await revokeToken(t.id);
    } catch (err) {
      setError(err);
    }
    tokens.reload();
  };

  const now = Date.now();
  const rows = sortTokens(tokens.data ?? [], now);
  return (
    <div className="page" data-testid="tokens-page">
      <div className="title-row">
        <h1>{all ? "All access tokens" : "My access tokens"}</h1>
        {all ? (
          <label className="muted">
            User{" "}
            <select aria-label="Show the tokens of" value={owner} onChange={(e) => setOwner(e.target.value)}>
              <option value="">Everyone</option>
              {(users.data ?? []).map((u) => (
                <option key={u.username} value={u.username}>
                  {u.username}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </div>
      <p className="muted">
        A personal access token lets a script or a tracking client act as {all ? "its user" : "you"} without a password.
      </p>
      <form className="card toolbar" onSubmit={(e) => void create(e)} aria-label="Create a token">
        <label className="field inline">
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. laptop, CI" aria-label="Token name" />
        </label>
        <label className="field inline">
          Expires in
          <select value={days} onChange={(e) => setDays(e.target.value)} aria-label="Expires in">
            {EXPIRY_CHOICES.map((d) => (
              <option key={d} value={String(d)}>
                {d} days
              </option>
            ))}
          </select>
        </label>
        {all ? (
          <label className="field inline">
            For
            <select value={forUser} onChange={(e) => setForUser(e.target.value)} aria-label="Token for user">
              <option value="">me ({me?.username})</option>
              {(users.data ?? [])
                .filter((u) => u.username !== me?.username)
                .map((u) => (
                  <option key={u.username} value={u.username}>
                    {u.username}
                  </option>
                ))}
            </select>
          </label>
        ) : null}
        <button className="primary" type="submit" disabled={busy || !name.trim()}>
          Create token
        </button>
      </form>
      {created ? <NewToken token={created.token} info={created.info} onDone={() => setCreated(null)} /> : null}
      {error ? <ErrorBox error={error} /> : null}
      {tokens.error ? <ErrorBox error={tokens.error} what="Cannot list the tokens" /> : null}
      {tokens.loading && !tokens.data ? <Loading what="tokens" /> : null}
      {tokens.data && !rows.length ? <div className="empty">No tokens yet.</div> : null}
      {rows.length ? (
        <div className="card">
          <table className="plain" data-testid="tokens-table">
            <thead>
              <tr>
                <th>Name</th>
                {all ? <th>User</th> : null}
                <th>Created</th>
                <th>Expires</th>
                <th>Last used</th>
                <th>State</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => {
                const status = tokenStatus(t, now);
                return (
                  <tr key={t.id} data-testid="token-row" className={status === "active" ? "" : "inactive"}>
                    <td>{t.name}</td>
                    {all ? <td>{t.username}</td> : null}
                    <td>{formatTime(t.created_at)}</td>
                    <td>{t.expires_at ? formatTime(t.expires_at) : "never"}</td>
                    <td>{t.last_used_at ? formatTime(t.last_used_at) : <span className="muted">never</span>}</td>
                    <td>
                      <span className={`badge token-${status}`}>{status}</span>
                    </td>
                    <td className="num">
                      {status === "active" ? (
                        <button className="danger" onClick={() => void revoke(t)}>
                          Revoke
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
