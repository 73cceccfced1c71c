import { type FormEvent, useEffect, useRef, useState } from "react";
import { ErrorBox } from "../components/common";
import { loginErrorMessage, signIn } from "../lib/auth";

/**
 * The sign-in page, shown in place of the page asked for while nobody is signed in (the address
 * stays, so the page appears once the user has signed in). `reason`: why the user must sign in
 * again (their session ended), if they were signed in.
 */
export function LoginPage({ reason }: { reason: string | null }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => {
    first.current?.focus();
    document.title = "Sign in · mltrail";
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!username || !password) return;
    setBusy(true);
    setError(null);
    try {
      await signIn(username.trim(), password);
    } catch (err) {
      setError(loginErrorMessage(err));
      setPassword("");
      setBusy(false);
    }
  };

  return (
    <div className="login-back">
      <form className="login card" onSubmit={(e) => void submit(e)} aria-label="Sign in" data-testid="login-form">
        <div className="brand login-brand">
          <svg width="22" height="22" viewBox="0 0 16 16" aria-hidden="true">
            <path d="M1 13 L6 7 L9 10 L15 3" stroke="var(--accent)" strokeWidth="2.2" fill="none" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          mltrail
        </div>
        <h1>Sign in</h1>
        {reason ? <div className="muted" data-testid="login-reason">{reason}</div> : null}
        <label className="field">
          Username
          <input
            ref={first}
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
          />
        </label>
        <label className="field">
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error ? <ErrorBox error={new Error(error)} /> : null}
        <button className="primary" type="submit" disabled={busy || !username || !password}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
