// A small fetch wrapper: JSON in, JSON out, errors as ApiError carrying the server's error code.
// With authentication on, every call carries the session cookie (same origin), a call that
// changes something carries the session's CSRF token, and a 401 tells the sign-in state
// (lib/auth.ts) that nobody is signed in any more.

import type { ErrorBody } from "./types";

/** Facts the server sends beside the message (``details`` of its error body). */
export type ErrorDetails = NonNullable<ErrorBody["details"]>;

export const API = "/ajax-api/2.0/mlflow";
export const MLTRAIL_API = "/ajax-api/2.0/mltrail";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Where in a filter the server found the problem (the error body's details.position). */
  readonly position: number | null;

  constructor(status: number, code: string, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    const position = details.position;
    this.position = typeof position === "number" && Number.isInteger(position) && position >= 0
      ? position
      : null;
  }

  /** True when the endpoint itself is missing (an older or a non-mltrail server). */
  get isMissingEndpoint(): boolean {
    return this.code === "ENDPOINT_NOT_FOUND" || (this.status === 404 && this.code === "HTTP_404");
  }
}

/** The methods the server treats as reads: they need no CSRF token. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
let csrfToken: string | null = null;
let onUnauthenticated: ((error: ApiError) => void) | null = null;

/** The CSRF token of the signed-in session (null: no session, or authentication off). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Who hears of a 401 (the session ended, or nobody signed in); null to stop listening. */
export function setUnauthenticatedHandler(handler: ((error: ApiError) => void) | null): void {
  onUnauthenticated = handler;
}

/**
 * The headers of a request: the given ones, the mark of a script's call (`X-Requested-With`, by
 * which a server can tell the UI's calls from a browser's navigation), and the CSRF token on a
 * request that changes something.
 */
export function withCsrf(method: string, headers: Record<string, string>): Record<string, string> {
  const out = { ...headers, "X-Requested-With": "XMLHttpRequest" };
  if (csrfToken === null || SAFE_METHODS.has(method.toUpperCase())) return out;
  return { ...out, "X-CSRF-Token": csrfToken };
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Do not report a 401 as "signed out" (the sign-in call itself: a 401 is a wrong password). */
  quiet401?: boolean;
}

/** Fetch with the session's cookie and CSRF token; a network failure becomes an ApiError. */
async function send(url: string, method: string, headers: Record<string, string>, body: BodyInit | null, options: CallOptions): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: withCsrf(method, headers),
      body,
      credentials: "same-origin",
      signal: options.signal ?? null,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "NETWORK_ERROR", `Cannot reach the server (${String(e)})`);
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (error.status === 401 && !options.quiet401) onUnauthenticated?.(error);
    throw error;
  }
  return response;
}

type Query = Record<string, string | number | boolean | undefined | null | (string | number)[]>;

export function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
    else params.append(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

export async function errorFrom(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  let details: ErrorDetails = {};
  try {
    const text = await response.text();
    try {
      const body = JSON.parse(text) as Partial<ErrorBody>;
      if (body.error_code) code = body.error_code;
      if (body.message) message = body.message;
      if (body.details && typeof body.details === "object") details = body.details;
    } catch {
      if (text && text.length < 500) message = text;
    }
  } catch {
    /* body unreadable: keep the status line */
  }
  return new ApiError(response.status, code, message, details);
}

export async function request<T>(
  method: "GET" | "POST" | "PATCH" | "DELETE",
  url: string,
  body?: unknown,
  signal?: AbortSignal,
  options: Omit<CallOptions, "signal"> = {},
): Promise<T> {
  const headers: Record<string, string> = body === undefined
    ? { Accept: "application/json" }
    : { Accept: "application/json", "Content-Type": "application/json" };
  const response = await send(url, method, headers, body === undefined ? null : JSON.stringify(body), { ...options, signal });
  const text = await response.text();
  return (text ? JSON.parse(text) : {}) as T;
}

export const get = <T>(path: string, query: Query = {}, signal?: AbortSignal) =>
  request<T>("GET", `${path}${queryString(query)}`, undefined, signal);
export const post = <T>(path: string, body: unknown, signal?: AbortSignal) =>
  request<T>("POST", path, body, signal);

/** POST a JSON body, get the response's bytes (packed series); errors as for `request`. */
export async function postForBytes(path: string, body: unknown, accept: string, signal?: AbortSignal): Promise<ArrayBuffer> {
  const headers = { Accept: `${accept}, application/json`, "Content-Type": "application/json" };
  return (await send(path, "POST", headers, JSON.stringify(body), { signal })).arrayBuffer();
}

/** Fetch raw bytes (artifacts); returns the response so callers can read text or a blob. */
export function fetchRaw(url: string, signal?: AbortSignal): Promise<Response> {
  return send(url, "GET", {}, null, { signal });
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === "AbortError";
}
