import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TokenInfo } from "../src/api/auth";
import { ApiError, fetchRaw, get, post, request, setCsrfToken, setUnauthenticatedHandler, withCsrf } from "../src/api/client";
import { applySession, authState, listenForSessionEnd, loadSession, loginErrorMessage, signIn, signOut } from "../src/lib/auth";
import { PageTrail, auditDetails, experimentIdFrom, sortTokens, tokenStatus } from "../src/lib/authViews";

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  credentials: RequestCredentials | undefined;
  body: unknown;
}

/** Replace fetch by one answering `answers` in turn, recording each call. */
function fakeFetch(...answers: [number, unknown][]): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    calls.push({
      url,
      method: init.method ?? "GET",
      headers: { ...(init.headers as Record<string, string>) },
      credentials: init.credentials,
      body: typeof init.body === "string" ? JSON.parse(init.body) : init.body,
    });
    const [status, body] = answers.shift() ?? [200, {}];
    return new Response(JSON.stringify(body), { status });
  });
  return calls;
}

const UNAUTHENTICATED: [number, unknown] = [401, { error_code: "UNAUTHENTICATED", message: "Your session has ended: sign in again" }];

beforeEach(() => {
  setCsrfToken(null);
  setUnauthenticatedHandler(null);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the CSRF header", () => {
  it("goes on the methods that change something, only when a session gave a token", () => {
    expect(withCsrf("POST", {})["X-CSRF-Token"]).toBeUndefined();
    setCsrfToken("t0k");
    for (const method of ["POST", "PATCH", "DELETE", "PUT", "post"]) expect(withCsrf(method, {})["X-CSRF-Token"]).toBe("t0k");
    for (const method of ["GET", "HEAD", "OPTIONS"]) expect(withCsrf(method, {})["X-CSRF-Token"]).toBeUndefined();
  });

  it("keeps the caller's headers and marks the call as a script's", () => {
    setCsrfToken("t0k");
    expect(withCsrf("PATCH", { Accept: "application/json" })).toEqual({
      Accept: "application/json",
      "X-Requested-With": "XMLHttpRequest",
      "X-CSRF-Token": "t0k",
    });
  });

  it("is sent by request(), with the same-origin cookie, and not by a read", async () => {
    setCsrfToken("abc");
    const calls = fakeFetch([200, {}], [200, { ok: 1 }], [200, {}]);
    await post("/ajax-api/2.0/mlflow/experiments/create", { name: "x" });
    await get("/ajax-api/2.0/mlflow/experiments/get", { experiment_id: "1" });
    await request("DELETE", "/ajax-api/2.0/mlflow/users/delete", { username: "bob" });
    expect(calls.map((c) => [c.method, c.headers["X-CSRF-Token"] ?? null, c.credentials])).toEqual([
      ["POST", "abc", "same-origin"],
      ["GET", null, "same-origin"],
      ["DELETE", "abc", "same-origin"],
    ]);
    expect(calls[2]!.body).toEqual({ username: "bob" });
  });
});

describe("a 401", () => {
  it("reaches the handler once, and the caller still gets the error", async () => {
    const heard: ApiError[] = [];
    setUnauthenticatedHandler((e) => heard.push(e));
    fakeFetch(UNAUTHENTICATED);
    await expect(get("/ajax-api/2.0/mlflow/experiments/search")).rejects.toMatchObject({ status: 401, code: "UNAUTHENTICATED" });
    expect(heard.map((e) => e.message)).toEqual(["Your session has ended: sign in again"]);
  });

  it("of fetchRaw (artifacts) reaches it too; a 403 or 404 does not", async () => {
    const heard: ApiError[] = [];
    setUnauthenticatedHandler((e) => heard.push(e));
    fakeFetch([403, { error_code: "PERMISSION_DENIED", message: "no" }], [404, { error_code: "RESOURCE_DOES_NOT_EXIST", message: "gone" }], UNAUTHENTICATED);
    await expect(fetchRaw("/get-artifact?path=a")).rejects.toMatchObject({ status: 403 });
    await expect(fetchRaw("/get-artifact?path=b")).rejects.toMatchObject({ status: 404 });
    await expect(fetchRaw("/get-artifact?path=c")).rejects.toMatchObject({ status: 401 });
    expect(heard).toHaveLength(1);
  });

  it("of the sign-in call is a wrong password, not a session that ended", async () => {
    listenForSessionEnd();
    applySession({ kind: "signed-out" });
    fakeFetch([401, { error_code: "UNAUTHENTICATED", message: "Invalid username or password" }]);
    await expect(signIn("admin", "nope")).rejects.toMatchObject({ status: 401 });
    expect(authState()).toEqual({ kind: "signed-out", reason: null });
  });
});

describe("the sign-in state", () => {
  it("is off when the server has no users/current endpoint", async () => {
    const calls = fakeFetch([404, { error_code: "ENDPOINT_NOT_FOUND", message: "No such endpoint" }]);
    await loadSession();
    expect(authState()).toEqual({ kind: "off" });
    expect(calls[0]!.url).toBe("/ajax-api/2.0/mlflow/users/current");
  });

  it("is signed out on a 401, signed in with the session's CSRF token on a 200", async () => {
    listenForSessionEnd();
    fakeFetch(UNAUTHENTICATED);
    await loadSession();
    expect(authState()).toEqual({ kind: "signed-out", reason: null });

    const user = { id: 2, username: "ana", is_admin: false };
    const calls = fakeFetch([200, { user, is_basic_auth: true, csrf_token: "from-reload" }], [200, {}]);
    await loadSession();
    expect(authState()).toEqual({ kind: "signed-in", user });
    await post("/ajax-api/2.0/mlflow/runs/delete", { run_id: "r" });
    expect(calls[1]!.headers["X-CSRF-Token"]).toBe("from-reload");
  });

  it("after signing in sends the login's token; a later 401 asks to sign in again, with the server's reason", async () => {
    listenForSessionEnd();
    const user = { id: 1, username: "admin", is_admin: true };
    const calls = fakeFetch([200, { user, csrf_token: "fresh" }], [200, {}], UNAUTHENTICATED);
    await signIn("admin", "pw");
    expect(calls[0]!.body).toEqual({ username: "admin", password: "pw" });
    await post("/ajax-api/2.0/mlflow/experiments/create", { name: "e" });
    expect(calls[1]!.headers["X-CSRF-Token"]).toBe("fresh");
    await expect(get("/ajax-api/2.0/mlflow/experiments/get", { experiment_id: "1" })).rejects.toBeInstanceOf(ApiError);
    expect(authState()).toEqual({ kind: "signed-out", reason: "Your session has ended: sign in again" });
    expect(withCsrf("POST", {})["X-CSRF-Token"]).toBeUndefined();
  });

  it("signs out with the CSRF token, then forgets it", async () => {
    applySession({ kind: "signed-in", user: { id: 1, username: "admin", is_admin: true }, csrfToken: "bye" });
    const calls = fakeFetch([200, {}]);
    await signOut();
    expect(calls[0]).toMatchObject({ url: "/ajax-api/2.0/mltrail/auth/logout", method: "POST" });
    expect(calls[0]!.headers["X-CSRF-Token"]).toBe("bye");
    expect(authState()).toEqual({ kind: "signed-out", reason: null });
    expect(withCsrf("POST", {})["X-CSRF-Token"]).toBeUndefined();
  });
});

describe("loginErrorMessage", () => {
  it("shows the server's words for a wrong password and for too many failures", () => {
    expect(loginErrorMessage(new ApiError(401, "UNAUTHENTICATED", "Invalid username or password"))).toBe("Invalid username or password");
    expect(loginErrorMessage(new ApiError(429, "REQUEST_LIMIT_EXCEEDED", "Too many failed logins for user 'a': try again in 60 s"))).toBe(
      "Too many failed logins for user 'a': try again in 60 s",
    );
    expect(loginErrorMessage(new ApiError(500, "INTERNAL_ERROR", "boom"))).toBe("boom (INTERNAL_ERROR)");
  });
});

describe("tokens, grants and the audit log", () => {
  const token = (over: Partial<TokenInfo>): TokenInfo => ({ id: "1", username: "a", name: "t", created_at: 10, revoked: false, ...over });

  it("a token is active, revoked or expired", () => {
    expect(tokenStatus(token({ expires_at: 2000 }), 1000)).toBe("active");
    expect(tokenStatus(token({ expires_at: 1000 }), 1000)).toBe("expired");
    expect(tokenStatus(token({ revoked: true, expires_at: 2000 }), 1000)).toBe("revoked");
    expect(tokenStatus(token({}), 1000)).toBe("active");
  });

  it("lists active tokens first, newest first", () => {
    const rows = sortTokens(
      [token({ id: "old", created_at: 1 }), token({ id: "gone", created_at: 9, revoked: true }), token({ id: "new", created_at: 5 })],
      100,
    );
    expect(rows.map((t) => t.id)).toEqual(["new", "old", "gone"]);
  });

  it("a grant's experiment is named by id or by name, the id winning", () => {
    const exps = [
      { experiment_id: "1", name: "vision" },
      { experiment_id: "2", name: "1" },
    ];
    expect(experimentIdFrom(" vision ", exps)).toBe("1");
    expect(experimentIdFrom("2", exps)).toBe("2");
    expect(experimentIdFrom("1", exps)).toBe("1");
    expect(experimentIdFrom("nlp", exps)).toBeNull();
    expect(experimentIdFrom("  ", exps)).toBeNull();
  });

  it("audit details read as sorted key=value pairs", () => {
    expect(auditDetails({ time: 1, action: "permission.grant", details: { username: "bob", permission: "READ", n: 2 } })).toBe(
      "n=2, permission=READ, username=bob",
    );
    expect(auditDetails({ time: 1, action: "session.login" })).toBe("");
  });

  it("the audit pages go forward by token and back to the first", () => {
    let trail = new PageTrail();
    expect([trail.current, trail.page, trail.hasPrevious]).toEqual(["", 1, false]);
    trail = trail.next("p2").next("p3");
    expect([trail.current, trail.page]).toEqual(["p3", 3]);
    trail = trail.previous().previous();
    expect([trail.current, trail.page, trail.hasPrevious]).toEqual(["", 1, false]);
    expect(trail.previous()).toBe(trail);
  });
});
