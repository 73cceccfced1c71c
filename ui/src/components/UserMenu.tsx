import { useCallback, useState } from "react";
import type { AuthUser } from "../api/auth";
import { signOut } from "../lib/auth";
import { Link, navigate } from "../lib/router";
import { ChangePasswordModal } from "../pages/Account";
import { ErrorBox, useDismiss } from "./common";

/** The header's "Signed in as <name>" menu (only with authentication on and someone signed in). */
export function UserMenu({ user }: { user: AuthUser }) {
  const [open, setOpen] = useState(false);
  const [changing, setChanging] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const close = useCallback(() => setOpen(false), []);
  const ref = useDismiss(open, close);

  const out = async () => {
    setError(null);
    try {
      await signOut();
      setOpen(false);
      navigate("/", { replace: true });
    } catch (e) {
      setError(e);
    }
  };

  const item = (href: string, label: string) => (
    <Link href={href} role="menuitem" onClick={close}>
      {label}
    </Link>
  );

  return (
    <div className="rel user-menu" ref={ref}>
      <button
        onClick={() => setOpen(!open)}
        aria-haspopup="menu"
        aria-expanded={open}
        data-testid="user-menu"
        title={user.is_admin ? "Signed in as an admin" : "Signed in"}
      >
        Signed in as <strong>{user.username}</strong>
        {user.is_admin ? <span className="badge admin-badge">admin</span> : null} ▾
      </button>
      {open ? (
        <div className="popover menu" role="menu" aria-label="Account">
          <button
            className="menu-item"
            role="menuitem"
            onClick={() => {
              setOpen(false);
              setChanging(true);
            }}
          >
            Change my password
          </button>
          {item("/account/tokens", "My tokens")}
          {user.is_admin ? (
            <>
              <div className="menu-sep" />
              <div className="menu-head muted small">Administration</div>
              {item("/admin/users", "Users")}
              {item("/admin/permissions", "Permissions")}
              {item("/admin/tokens", "All tokens")}
              {item("/admin/audit", "Audit log")}
            </>
          ) : null}
          <div className="menu-sep" />
          <button className="menu-item" role="menuitem" onClick={() => void out()}>
            Sign out
          </button>
          {error ? <ErrorBox error={error} what="Cannot sign out" /> : null}
        </div>
      ) : null}
      {changing ? <ChangePasswordModal username={user.username} self onClose={() => setChanging(false)} /> : null}
    </div>
  );
}
