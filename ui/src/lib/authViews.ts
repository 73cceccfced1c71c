// Pure helpers of the account and admin pages: a token's state, a grant's target, audit details.

import type { AuditEvent, ResourceType, TokenInfo } from "../api/auth";

export type TokenStatus = "active" | "revoked" | "expired";

export function tokenStatus(token: TokenInfo, now = Date.now()): TokenStatus {
  if (token.revoked) return "revoked";
  if (token.expires_at !== undefined && token.expires_at <= now) return "expired";
  return "active";
}

/** Active tokens first, then newest first. */
export function sortTokens(tokens: TokenInfo[], now = Date.now()): TokenInfo[] {
  const rank = (t: TokenInfo) => (tokenStatus(t, now) === "active" ? 0 : 1);
  return [...tokens].sort((a, b) => rank(a) - rank(b) || b.created_at - a.created_at);
}

export const RESOURCE_LABELS: Record<ResourceType, string> = {
  experiment: "Experiment",
  registered_model: "Registered model",
  logged_model: "Logged model",
  webhook: "Webhook",
};

export const PERMISSION_HELP: Record<string, string> = {
  READ: "read it",
  USE: "read it and use it (log runs, load models)",
  EDIT: "read, use and change it",
  MANAGE: "everything, including deleting it and granting others",
  NO_PERMISSIONS: "no access at all: it is hidden from the user",
};

/**
 * The id a grant on an experiment names, from what the admin typed: an experiment's id, or its
 * name (looked up in *experiments*; a name wins only when no experiment has that text as id).
 * Null when nothing matches.
 */
export function experimentIdFrom(typed: string, experiments: { experiment_id: string; name: string }[]): string | null {
  const t = typed.trim();
  if (!t) return null;
  if (experiments.some((e) => e.experiment_id === t)) return t;
  return experiments.find((e) => e.name === t)?.experiment_id ?? null;
}

/** The "details" of an audit event as `key=value` pairs, in a stable order. */
export function auditDetails(event: AuditEvent): string {
  const details = event.details ?? {};
  return Object.keys(details)
    .sort()
    .map((k) => {
      const v = details[k];
      return `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`;
    })
    .join(", ");
}

/** Where a page of a paged list starts: the tokens of the pages seen so far ("" the first). */
export class PageTrail {
  constructor(readonly tokens: readonly string[] = [""]) {}

  get current(): string {
    return this.tokens[this.tokens.length - 1] ?? "";
  }

  get page(): number {
    return this.tokens.length;
  }

  get hasPrevious(): boolean {
    return this.tokens.length > 1;
  }

  next(token: string): PageTrail {
    return new PageTrail([...this.tokens, token]);
  }

  previous(): PageTrail {
    return this.hasPrevious ? new PageTrail(this.tokens.slice(0, -1)) : this;
  }
}
