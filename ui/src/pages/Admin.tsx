// The admins' pages: users, permission grants and the audit trail (tokens: Account.tsx).
// The server decides; what it refuses (an admin deleting themselves...) shows its message.

import { type FormEvent, type ReactNode, useEffect, useMemo, useState } from "react";
import {
  type Grant,
  type ListedUser,
  PERMISSIONS,
  type PermissionName,
  RESOURCE_TYPES,
  type ResourceType,
  createUser,
  deleteUser,
  type AuditFilter,
  NO_AUDIT_FILTER,
  grantPermission,
  listAudit,
  listGrants,
  listUsers,
  revokePermission,
  setAdmin,
} from "../api/auth";
import { ApiError } from "../api/client";
import { getLoggedModel, searchLoggedModels, searchRegisteredModels } from "../api/endpoints";
import { ErrorBox, Loading } from "../components/common";
import { useUser } from "../lib/auth";
import { PERMISSION_HELP, PageTrail, RESOURCE_LABELS, auditDetails, experimentIdFrom } from "../lib/authViews";
import { useExperiments } from "../lib/experiments";
import { formatTime } from "../lib/format";
import { useAsync } from "../lib/hooks";
import { Link, enc, navigate, useLocation } from "../lib/router";
import { ChangePasswordModal } from "./Account";

/** What a non-admin sees at an admin page's address (the server would refuse the calls anyway). */
export function AdminOnly({ children }: { children: ReactNode }) {
  const user = useUser();
  if (!user?.is_admin) {
    return (
      <div className="page">
        <h1>Admins only</h1>
        <p className="muted" data-testid="admins-only">
          This page is for admins. <Link href="/">Go to the experiments.</Link>
        </p>
      </div>
    );
  }
  return <>{children}</>;
}

function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · mltrail`;
  }, [title]);
}

// --- Users ------------------------------------------------------------------------------------

export function UsersPage() {
  useTitle("Users");
  const me = useUser();
  const users = useAsync((signal) => listUsers(signal), []);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [admin, setAdminBox] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [resetting, setResetting] = useState<string | null>(null);

  const act = async (fn: () => Promise<unknown>, done: string) => {
    setError(null);
    setNotice(null);
    try {
      await fn();
      setNotice(done);
    } catch (e) {
      setError(e);
    }
    users.reload();
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const name = username.trim();
    if (!name || !password) return;
    setBusy(true);
    await act(async () => {
      await createUser(name, password);
      if (admin) await setAdmin(name, true);
      setUsername("");
      setPassword("");
      setAdminBox(false);
    }, `User ${name} created${admin ? " (an admin)" : ""}.`);
    setBusy(false);
  };

  const rows = [...(users.data ?? [])].sort((a, b) => a.username.localeCompare(b.username));
  return (
    <div className="page" data-testid="users-page">
      <h1>Users</h1>
      <form className="card toolbar" onSubmit={(e) => void create(e)} aria-label="Create a user">
        <label className="field inline">
          Username
          <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" aria-label="New username" />
        </label>
        <label className="field inline">
          Password
          <input
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete="new-password"
            aria-label="New user's password"
          />
        </label>
        <label className="inline-check">
          <input type="checkbox" checked={admin} onChange={(e) => setAdminBox(e.target.checked)} /> Admin
        </label>
        <button className="primary" type="submit" disabled={busy || !username.trim() || !password}>
          Create user
        </button>
      </form>
      {notice ? (
        <div className="notice" role="status">
          {notice}
        </div>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
      {users.error ? <ErrorBox error={users.error} what="Cannot list the users" /> : null}
      {users.loading && !users.data ? <Loading what="users" /> : null}
      {rows.length ? (
        <div className="card">
          <table className="plain" data-testid="users-table">
            <thead>
              <tr>
                <th>Username</th>
                <th>Role</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((u) => (
                <tr key={u.username} data-testid="user-row" data-username={u.username}>
                  <td>
                    {u.username}
                    {u.username === me?.username ? <span className="muted"> (you)</span> : null}
                  </td>
                  <td>{u.is_admin ? <span className="badge admin-badge">admin</span> : <span className="muted">user</span>}</td>
                  <td className="actions-cell">
                    <button
                      onClick={() =>
                        void act(
                          () => setAdmin(u.username, !u.is_admin),
                          u.is_admin ? `${u.username} is no longer an admin.` : `${u.username} is an admin now.`,
                        )}
                    >
                      {u.is_admin ? "Remove admin" : "Make admin"}
                    </button>
                    <button onClick={() => setResetting(u.username)}>Reset password</button>
                    <Link className="btn" href={`/admin/permissions?user=${enc(u.username)}`}>
                      Permissions
                    </Link>
                    <button
                      className="danger"
                      onClick={() => {
                        if (window.confirm(`Delete the user ${u.username}, with their grants and tokens?`))
                          void act(() => deleteUser(u.username), `User ${u.username} deleted.`);
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {resetting !== null ? (
        <ChangePasswordModal username={resetting} self={resetting === me?.username} onClose={() => setResetting(null)} />
      ) : null}
    </div>
  );
}

// --- Permissions ------------------------------------------------------------------------------

const TARGET_LABELS: Record<ResourceType, string> = {
  experiment: "Experiment id or name",
  registered_model: "Registered model name",
  logged_model: "Logged model id or name",
  webhook: "Webhook id",
};

/** A filter string literal (MLflow's filters take either quote). */
function quoted(value: string): string {
  return value.includes("'") ? `"${value}"` : `'${value}'`;
}

/** The id the server's grant names, from what the admin typed (an id, or a name). */
async function resolveTarget(
  type: ResourceType,
  typed: string,
  experiments: { experiment_id: string; name: string; lifecycle_stage: string }[],
): Promise<string> {
  const t = typed.trim();
  if (type === "registered_model" || type === "webhook") return t;
  if (type === "experiment") {
    const id = experimentIdFrom(t, experiments);
    if (id === null) throw new Error(`No experiment has the id or the name "${t}".`);
    return id;
  }
  try {
    return (await getLoggedModel(t)).info.model_id;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
  }
  const ids = experiments.map((x) => x.experiment_id);
  const { models } = ids.length ? await searchLoggedModels(ids, `name = ${quoted(t)}`, undefined, 2) : { models: [] };
  if (models.length === 1) return models[0]!.info.model_id;
  if (models.length > 1) throw new Error(`Several logged models are named "${t}": give the id of the one you mean.`);
  throw new Error(`No logged model has the id or the name "${t}".`);
}

function GrantRow({ grant, username, label, onChange, onError }: {
  grant: Grant;
  username: string;
  label: ReactNode;
  onChange: () => void;
  onError: (e: unknown) => void;
}) {
  const change = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      onError(e);
    }
    onChange();
  };
  return (
    <tr data-testid="grant-row" data-resource={`${grant.resource_type}:${grant.resource_pattern}`}>
      <td>{RESOURCE_LABELS[grant.resource_type] ?? grant.resource_type}</td>
      <td>{label}</td>
      <td>
        <select
          aria-label={`Permission on ${grant.resource_type} ${grant.resource_pattern}`}
          value={grant.permission}
          onChange={(e) =>
            void change(() => grantPermission(username, grant.resource_type, grant.resource_pattern, e.target.value as PermissionName))}
        >
          {PERMISSIONS.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </td>
      <td className="num">
        <button className="danger" onClick={() => void change(() => revokePermission(username, grant.resource_type, grant.resource_pattern))}>
          Revoke
        </button>
      </td>
    </tr>
  );
}

export function PermissionsPage() {
  useTitle("Permissions");
  const loc = useLocation();
  const selected = loc.search.get("user") ?? "";
  const users = useAsync((signal) => listUsers(signal), []);
  const { all: experiments } = useExperiments();
  const models = useAsync((signal) => searchRegisteredModels(undefined, signal), []);
  const grants = useAsync(
    (signal) => (selected ? listGrants(selected, signal) : Promise.resolve(null)),
    [selected],
  );
  const [type, setType] = useState<ResourceType>("experiment");
  const [target, setTarget] = useState("");
  const [permission, setPermission] = useState<PermissionName>("READ");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const expNames = useMemo(() => new Map(experiments.map((e) => [e.experiment_id, e.name])), [experiments]);
  const choose = (username: string) => navigate(username ? `/admin/permissions?user=${enc(username)}` : "/admin/permissions", { replace: true });

  const grant = async (e: FormEvent) => {
    e.preventDefault();
    if (!selected || !target.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const id = await resolveTarget(type, target, experiments);
      await grantPermission(selected, type, id, permission);
      setTarget("");
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
    grants.reload();
  };

  const label = (g: Grant): ReactNode => {
    if (g.resource_type === "experiment") {
      const name = expNames.get(g.resource_pattern);
      return (
        <Link href={`/experiments/${enc(g.resource_pattern)}`}>
          {name ?? g.resource_pattern} <span className="muted small">(id {g.resource_pattern})</span>
        </Link>
      );
    }
    if (g.resource_type === "registered_model") return <Link href={`/models/${enc(g.resource_pattern)}`}>{g.resource_pattern}</Link>;
    return <span className="mono">{g.resource_pattern}</span>;
  };

  const suggestions =
    type === "experiment"
      ? experiments.filter((x) => x.lifecycle_stage === "active").map((x) => x.name)
      : type === "registered_model"
        ? (models.data ?? []).map((m) => m.name)
        : [];

  const current: ListedUser | undefined = users.data?.find((u) => u.username === selected);
  return (
    <div className="page" data-testid="permissions-page">
      <div className="title-row">
        <h1>Permissions</h1>
        <label className="muted">
          User{" "}
          <select aria-label="User" value={selected} onChange={(e) => choose(e.target.value)}>
            <option value="">Choose a user…</option>
            {(users.data ?? []).map((u) => (
              <option key={u.username} value={u.username}>
                {u.username}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p className="muted">
        A grant gives one user a permission on one experiment, registered model or logged model, over the server&apos;s
        default. <code>NO_PERMISSIONS</code> hides the resource from the user. A webhook has no default: only the users
        granted it (its creator manages it) and admins reach it, and it is sent only the events of registered models
        that each user managing it may manage.
      </p>
      {users.error ? <ErrorBox error={users.error} what="Cannot list the users" /> : null}
      {!selected ? <div className="empty">Choose a user to see and change their grants.</div> : null}
      {selected ? (
        <>
          {current?.is_admin || grants.data?.isAdmin ? (
            <div className="notice">
              <strong>{selected}</strong> is an admin: admins may do everything, whatever their grants say.
            </div>
          ) : null}
          <form className="card toolbar" onSubmit={(e) => void grant(e)} aria-label="Grant a permission">
            <label className="field inline">
              Resource
              <select aria-label="Resource type" value={type} onChange={(e) => setType(e.target.value as ResourceType)}>
                {RESOURCE_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {RESOURCE_LABELS[t]}
                  </option>
                ))}
              </select>
            </label>
            <label className="field inline grow">
              {TARGET_LABELS[type]}
              <input
                aria-label={TARGET_LABELS[type]}
                list="grant-targets"
                value={target}
                onChange={(e) => setTarget(e.target.value)}
              />
              <datalist id="grant-targets">
                {suggestions.map((s) => (
                  <option key={s} value={s} />
                ))}
              </datalist>
            </label>
            <label className="field inline">
              Permission
              <select aria-label="Permission" value={permission} onChange={(e) => setPermission(e.target.value as PermissionName)}>
                {PERMISSIONS.map((p) => (
                  <option key={p} value={p} title={PERMISSION_HELP[p]}>
                    {p}
                  </option>
                ))}
              </select>
            </label>
            <button className="primary" type="submit" disabled={busy || !target.trim()}>
              Grant
            </button>
            <span className="muted small grant-help">{PERMISSION_HELP[permission]}</span>
          </form>
          {error ? <ErrorBox error={error} /> : null}
          {grants.error ? <ErrorBox error={grants.error} what={`Cannot list the grants of ${selected}`} /> : null}
          {grants.loading && !grants.data ? <Loading what="grants" /> : null}
          {grants.data && !grants.data.grants.length ? (
            <div className="empty">No grants: {selected} has the server&apos;s default permission on everything.</div>
          ) : null}
          {grants.data?.grants.length ? (
            <div className="card">
              <table className="plain" data-testid="grants-table">
                <thead>
                  <tr>
                    <th>Type</th>
                    <th>Resource</th>
                    <th>Permission</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {grants.data.grants.map((g) => (
                    <GrantRow
                      key={`${g.resource_type}:${g.resource_pattern}`}
                      grant={g}
                      username={selected}
                      label={label(g)}
                      onChange={grants.reload}
                      onError={setError}
                    />
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

// --- Audit log --------------------------------------------------------------------------------

const AUDIT_PAGE = 50;

/** The kinds of thing the audit trail records actions on (the part of an action before its dot). */
const AUDIT_KINDS = ["experiment", "run", "registered_model", "model_version", "logged_model", "webhook", "permission", "user", "token", "session"];

export function AuditPage() {
  useTitle("Audit log");
  const [trail, setTrail] = useState(() => new PageTrail());
  const [draft, setDraft] = useState<AuditFilter>(NO_AUDIT_FILTER);
  const [filter, setFilter] = useState<AuditFilter>(NO_AUDIT_FILTER);
  const page = useAsync((signal) => listAudit(AUDIT_PAGE, trail.current || undefined, filter, signal), [trail, filter]);
  const events = page.data?.events ?? [];
  const filtered = Object.values(filter).some((v) => v.trim() !== "");
  const apply = (next: AuditFilter) => {
    setFilter(next);
    setTrail(new PageTrail());
  };
  return (
    <div className="page" data-testid="audit-page">
      <div className="title-row">
        <h1>Audit log</h1>
        <span className="muted">Who changed what, when and from where; newest first.</span>
        <span className="spacer" />
        <button onClick={page.reload}>Refresh</button>
      </div>
      <form
        className="card toolbar"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          apply(draft);
        }}
      >
        <label className="field inline">
          User
          <input aria-label="User" value={draft.username} onChange={(e) => setDraft({ ...draft, username: e.target.value })} />
        </label>
        <label className="field inline">
          Action
          <input
            aria-label="Action"
            list="audit-kinds"
            placeholder="run.delete, or permission"
            value={draft.action}
            onChange={(e) => setDraft({ ...draft, action: e.target.value })}
          />
          <datalist id="audit-kinds">
            {AUDIT_KINDS.map((k) => (
              <option key={k} value={k} />
            ))}
          </datalist>
        </label>
        <label className="field inline">
          Resource
          <select aria-label="Resource type" value={draft.resourceType} onChange={(e) => setDraft({ ...draft, resourceType: e.target.value })}>
            <option value="">any</option>
            {[...RESOURCE_TYPES, "user"].map((t) => (
              <option key={t} value={t}>
                {RESOURCE_LABELS[t as ResourceType] ?? "User"}
              </option>
            ))}
          </select>
        </label>
        <label className="field inline">
          Since
          <input aria-label="Since" type="date" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
        </label>
        <button className="primary" type="submit">
          Filter
        </button>
        {filtered ? (
          <button
            type="button"
            onClick={() => {
              setDraft(NO_AUDIT_FILTER);
              apply(NO_AUDIT_FILTER);
            }}
          >
            Clear
          </button>
        ) : null}
      </form>
      {page.error ? <ErrorBox error={page.error} what="Cannot read the audit log" /> : null}
      {page.loading && !page.data ? <Loading what="the audit log" /> : null}
      {page.data && !events.length ? (
        <div className="empty" data-testid="audit-empty">
          {filtered ? "No event matches the filter." : "Nothing recorded yet."}
        </div>
      ) : null}
      {events.length ? (
        <div className="card">
          <table className="plain" data-testid="audit-table">
            <thead>
              <tr>
                <th>Time</th>
                <th>User</th>
                <th>Address</th>
                <th>Action</th>
                <th>Resource</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {events.map((ev, i) => (
                <tr key={`${ev.time}-${i}`} data-testid="audit-row">
                  <td className="nowrap">{formatTime(ev.time)}</td>
                  <td>{ev.username ?? <span className="muted">—</span>}</td>
                  <td className="mono">{ev.address ?? ""}</td>
                  <td className="mono">{ev.action}</td>
                  <td>
                    {ev.resource_type ? <span className="muted">{ev.resource_type} </span> : null}
                    <span className="mono">{ev.resource_id ?? ""}</span>
                  </td>
                  <td className="mono small">{auditDetails(ev)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <div className="toolbar">
        <button disabled={!trail.hasPrevious || page.loading} onClick={() => setTrail(trail.previous())}>
          ← Newer
        </button>
        <span className="muted" data-testid="audit-page-number">
          Page {trail.page}
        </span>
        <button disabled={!page.data?.next || page.loading} onClick={() => page.data?.next && setTrail(trail.next(page.data.next))}>
          Older →
        </button>
      </div>
    </div>
  );
}
