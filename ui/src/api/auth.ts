// The calls of an authenticating server (`mltrail server --app-name basic-auth`): sign-in,
// users, permission grants, personal access tokens and the audit trail. The server mounts these
// only with authentication on, so they are not in generated.ts (made from a server without it);
// the shapes below follow src/mltrail/server/auth/_endpoints.py.

import { API, ApiError, MLTRAIL_API, get, post, request } from "./client";

const API3 = "/ajax-api/3.0/mlflow";

export interface AuthUser {
  id: number;
  username: string;
  is_admin: boolean;
}

export interface ListedUser extends AuthUser {
  roles: unknown[];
}

export const RESOURCE_TYPES = ["experiment", "registered_model", "logged_model", "webhook"] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const PERMISSIONS = ["READ", "USE", "EDIT", "MANAGE", "NO_PERMISSIONS"] as const;
export type PermissionName = (typeof PERMISSIONS)[number];

export interface Grant {
  resource_type: ResourceType;
  /** An experiment id, a registered model's name or a logged model id. */
  resource_pattern: string;
  permission: PermissionName;
}

export interface TokenInfo {
  id: string;
  username: string;
  name: string;
  created_at: number;
  expires_at?: number;
  last_used_at?: number;
  revoked: boolean;
}

export interface AuditEvent {
  time: number;
  action: string;
  username?: string;
  address?: string;
  resource_type?: string;
  resource_id?: string;
  details?: Record<string, unknown>;
}

/** What the server says of the browser: authentication off, nobody signed in, or who. */
export type Session =
  | { kind: "off" }
  | { kind: "signed-out" }
  | { kind: "signed-in"; user: AuthUser; csrfToken: string | null };

/** Ask the server who is signed in; its answer without the endpoint means authentication is off. */
export async function readSession(signal?: AbortSignal): Promise<Session> {
  try {
    const r = await get<{ user: AuthUser; csrf_token?: string }>(`${API}/users/current`, {}, signal);
    return { kind: "signed-in", user: r.user, csrfToken: r.csrf_token ?? null };
  } catch (e) {
    if (e instanceof ApiError && e.isMissingEndpoint) return { kind: "off" };
    if (e instanceof ApiError && e.status === 401) return { kind: "signed-out" };
    throw e;
  }
}

export const login = (username: string, password: string) =>
  request<{ user: AuthUser; csrf_token: string }>(
    "POST",
    `${MLTRAIL_API}/auth/login`,
    { username, password },
    undefined,
    { quiet401: true },
  );
export const logout = () => request("POST", `${MLTRAIL_API}/auth/logout`, {}, undefined, { quiet401: true });

// --- Users (admins; a user reads and changes their own password) ------------------------------

export const listUsers = (signal?: AbortSignal) =>
  get<{ users?: ListedUser[] }>(`${API}/users/list`, {}, signal).then((r) => r.users ?? []);
export const createUser = (username: string, password: string) =>
  post<{ user: AuthUser }>(`${API}/users/create`, { username, password }).then((r) => r.user);
export const setAdmin = (username: string, isAdmin: boolean) =>
  request("PATCH", `${API}/users/update-admin`, { username, is_admin: isAdmin });
/** Change a password; changing one's own needs `currentPassword` (the server checks it). */
export const updatePassword = (username: string, password: string, currentPassword?: string) =>
  request("PATCH", `${API}/users/update-password`, {
    username,
    password,
    ...(currentPassword === undefined ? {} : { current_password: currentPassword }),
  });
export const deleteUser = (username: string) => request("DELETE", `${API}/users/delete`, { username });

// --- Permission grants ------------------------------------------------------------------------

export const listGrants = (username: string, signal?: AbortSignal) =>
  get<{ is_admin: boolean; permissions?: Grant[] }>(`${API3}/users/permissions/list`, { username }, signal).then((r) => ({
    isAdmin: r.is_admin,
    grants: r.permissions ?? [],
  }));
export const grantPermission = (username: string, resourceType: ResourceType, resourceId: string, permission: PermissionName) =>
  post(`${API3}/users/permissions/grant`, { username, resource_type: resourceType, resource_id: resourceId, permission });
export const revokePermission = (username: string, resourceType: ResourceType, resourceId: string) =>
  post(`${API3}/users/permissions/revoke`, { username, resource_type: resourceType, resource_id: resourceId });

// --- Personal access tokens -------------------------------------------------------------------

/** Tokens: the caller's; an admin's call without a username lists everyone's. */
export const listTokens = (username: string | undefined, signal?: AbortSignal) =>
  get<{ tokens?: TokenInfo[] }>(`${MLTRAIL_API}/tokens/list`, { username }, signal).then((r) => r.tokens ?? []);
export const createToken = (name: string, expiresInDays: number | undefined, username?: string) =>
  post<{ token: string; token_info: TokenInfo }>(`${MLTRAIL_API}/tokens/create`, {
    name,
    ...(expiresInDays === undefined ? {} : { expires_in_days: expiresInDays }),
    ...(username === undefined ? {} : { username }),
  });
export const revokeToken = (tokenId: string) => post(`${MLTRAIL_API}/tokens/revoke`, { token_id: tokenId });

// --- Audit trail (admins) ---------------------------------------------------------------------

/** What the audit trail is narrowed to (each empty: no restriction). */
export interface AuditFilter {
  username: string;
  /** One action (`run.delete`), or a kind of thing without a dot (`permission`). */
  action: string;
  resourceType: string;
  /** A local date, `YYYY-MM-DD`: events from its start on. */
  since: string;
}

export const NO_AUDIT_FILTER: AuditFilter = { username: "", action: "", resourceType: "", since: "" };

export const listAudit = (maxResults: number, pageToken: string | undefined, filter: AuditFilter = NO_AUDIT_FILTER, signal?: AbortSignal) =>
  get<{ events?: AuditEvent[]; next_page_token?: string }>(
    `${MLTRAIL_API}/audit/list`,
    {
      max_results: maxResults,
      page_token: pageToken,
      username: filter.username.trim() || undefined,
      action: filter.action.trim() || undefined,
      resource_type: filter.resourceType || undefined,
      since: filter.since ? new Date(`${filter.since}T00:00:00`).getTime() : undefined,
    },
    signal,
  ).then((r) => ({ events: r.events ?? [], next: r.next_page_token || undefined }));
