// Who is signed in, shared by the whole UI. On load the UI asks the server (users/current):
// no such endpoint means authentication is off and the UI is as it always was; a 401 means
// nobody is signed in and the sign-in page replaces the page asked for, at the same address,
// so that after signing in the user is where they wanted to be. Any later 401 (the session
// ended) brings the sign-in page back the same way.

import { useSyncExternalStore } from "react";
import { type AuthUser, type Session, login, logout, readSession } from "../api/auth";
import { ApiError, setCsrfToken, setUnauthenticatedHandler } from "../api/client";

export type AuthState =
  | { kind: "loading" }
  | { kind: "error"; error: unknown }
  | { kind: "off" }
  /** `reason`: why the user is asked to sign in again (the server's message), if they were signed in. */
  | { kind: "signed-out"; reason: string | null }
  | { kind: "signed-in"; user: AuthUser };

let state: AuthState = { kind: "loading" };
const listeners = new Set<() => void>();
const signInListeners = new Set<() => void>();

function set(next: AuthState) {
  state = next;
  for (const l of listeners) l();
}

export function authState(): AuthState {
  return state;
}

/** Apply what the server said of the browser's session. */
export function applySession(session: Session): void {
  if (session.kind === "signed-in") {
    setCsrfToken(session.csrfToken);
    set({ kind: "signed-in", user: session.user });
    for (const l of signInListeners) l();
  } else {
    setCsrfToken(null);
    set(session.kind === "off" ? { kind: "off" } : { kind: "signed-out", reason: null });
  }
}

/** A call answered 401: whoever was signed in is not any more. */
export function sessionEnded(error: ApiError): void {
  if (state.kind === "off") return; // cannot happen with authentication off; keep the UI as is
  setCsrfToken(null);
  set({ kind: "signed-out", reason: state.kind === "signed-in" ? error.message : null });
}

/** Ask the server who is signed in (on load, and from the "try again" of a failed load). */
export async function loadSession(): Promise<void> {
  set({ kind: "loading" });
  try {
    applySession(await readSession());
  } catch (error) {
    setCsrfToken(null);
    set({ kind: "error", error });
  }
}

/** Sign in; throws the server's ApiError (401 wrong password, 429 too many failures). */
export async function signIn(username: string, password: string): Promise<void> {
  const r = await login(username, password);
  applySession({ kind: "signed-in", user: r.user, csrfToken: r.csrf_token });
}

/** What to tell the user when signing in failed. */
export function loginErrorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return error.message || "Invalid username or password";
    if (error.status === 429) return error.message || "Too many failed sign-ins: try again later";
    if (error.code === "NETWORK_ERROR") return error.message;
    return `${error.message} (${error.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}

export async function signOut(): Promise<void> {
  await logout();
  setCsrfToken(null);
  set({ kind: "signed-out", reason: null });
}

/** Run *listener* at every sign-in (caches of what the previous user could see are dropped). */
export function onSignIn(listener: () => void): () => void {
  signInListeners.add(listener);
  return () => signInListeners.delete(listener);
}

/** Hear of every 401 of the API client from now on. */
export function listenForSessionEnd(): void {
  setUnauthenticatedHandler(sessionEnded);
}

export function useAuth(): AuthState {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}

/** The signed-in user, or null (nobody, or authentication off). */
export function useUser(): AuthUser | null {
  const s = useAuth();
  return s.kind === "signed-in" ? s.user : null;
}
