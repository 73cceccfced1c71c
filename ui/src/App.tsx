import { useEffect } from "react";
import type { AuthUser } from "./api/auth";
import { ErrorBox, Loading } from "./components/common";
import { Sidebar } from "./components/Sidebar";
import { UserMenu } from "./components/UserMenu";
import { loadSession, useAuth } from "./lib/auth";
import { useStored } from "./lib/hooks";
import { Link, match, useLocation } from "./lib/router";
import { TokensPage } from "./pages/Account";
import { AdminOnly, AuditPage, PermissionsPage, UsersPage } from "./pages/Admin";
import { ComparePage } from "./pages/ComparePage";
import { ExperimentPage } from "./pages/ExperimentPage";
import { ExperimentsOverview } from "./pages/ExperimentsOverview";
import { ExperimentModelsPage, LoggedModelPage } from "./pages/LoggedModels";
import { ModelPage, ModelsPage, VersionPage } from "./pages/Registry";
import { LoginPage } from "./pages/Login";
import { RunPage } from "./pages/RunPage";

type Theme = "light" | "dark";

function ThemeToggle() {
  const initial = (document.documentElement.dataset.theme as Theme | undefined) ?? "light";
  const [theme, setTheme] = useStored<Theme>("mltrail.theme", initial);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  return (
    <button
      onClick={() => setTheme(theme === "dark" ? "light" : "dark")}
      aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}
      title="Light / dark theme"
      data-testid="theme-toggle"
    >
      {theme === "dark" ? "☀ Light" : "☾ Dark"}
    </button>
  );
}

function NotFound({ path }: { path: string }) {
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p className="muted">
        Nothing lives at <code>{path}</code>. <Link href="/">Go to the experiments.</Link>
      </p>
    </div>
  );
}

/** An MLflow link (`/#/...`) to a page mltrail does not have (prompts, traces, ...). */
function UnknownMlflowLink({ hash }: { hash: string }) {
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p className="muted" data-testid="unknown-mlflow-link">
        <code>{hash}</code> is a link to a page of MLflow&apos;s UI that mltrail does not have.{" "}
        <Link href="/">Go to the experiments.</Link>
      </p>
    </div>
  );
}

/**
 * The UI once the server said who is signed in: with authentication off (no user) as it always
 * was; with it on, the sign-in page until someone signs in, then the pages and the user menu.
 */
export function App() {
  const auth = useAuth();
  if (auth.kind === "loading") return <Loading />;
  if (auth.kind === "error") {
    return (
      <div className="page">
        <ErrorBox error={auth.error} what="Cannot reach the server" />
        <div>
          <button onClick={() => void loadSession()}>Try again</button>
        </div>
      </div>
    );
  }
  if (auth.kind === "signed-out") return <LoginPage reason={auth.reason} />;
  return <Shell user={auth.kind === "signed-in" ? auth.user : null} />;
}

/** The pages of a signed-in user (`user`), or of everyone when authentication is off (null). */
function Shell({ user }: { user: AuthUser | null }) {
  const loc = useLocation();
  const path = loc.path.replace(/\/+$/, "") || "/";
  let m: Record<string, string> | null;
  let page: React.ReactNode;
  let section: "experiments" | "models" | "account" = "experiments";
  let sidebar: string[] | null | undefined;
  // An MLflow link that mltrail maps was replaced by its own path (lib/router.tsx); one that is
  // left in the fragment names a page mltrail does not have.
  if (path === "/" && loc.hash.startsWith("#/")) page = <UnknownMlflowLink hash={loc.hash} />;
  else if (path === "/" || path === "/experiments") page = <ExperimentsOverview />;
  else if ((m = match("/experiments/:ids", path))) {
    sidebar = m.ids === "all" ? [] : m.ids!.split(",");
    page = <ExperimentPage key={m.ids} idsParam={m.ids!} />;
  } else if ((m = match("/experiments/:id/models", path))) {
    sidebar = [m.id!];
    page = <ExperimentModelsPage key={m.id} experimentId={m.id!} />;
  } else if ((m = match("/experiments/:id/models/:modelId", path))) {
    sidebar = [m.id!];
    page = <LoggedModelPage key={m.modelId} experimentId={m.id!} modelId={m.modelId!} />;
  } else if ((m = match("/runs/:id", path))) page = <RunPage key={m.id} runId={m.id!} />;
  else if (path === "/compare") page = <ComparePage />;
  else if (path === "/models") {
    section = "models";
    page = <ModelsPage />;
  } else if ((m = match("/models/:name", path))) {
    section = "models";
    page = <ModelPage key={m.name} name={m.name!} />;
  } else if ((m = match("/models/:name/versions/:version", path))) {
    section = "models";
    page = <VersionPage key={`${m.name}/${m.version}`} name={m.name!} version={m.version!} />;
  } else if (user !== null && path === "/account/tokens") {
    section = "account";
    page = <TokensPage key="mine" all={false} />;
  } else if (user !== null && path.startsWith("/admin/")) {
    section = "account";
    const admin = { "/admin/users": <UsersPage />, "/admin/permissions": <PermissionsPage />, "/admin/tokens": <TokensPage key="all" all />, "/admin/audit": <AuditPage /> }[path];
    page = admin ? <AdminOnly>{admin}</AdminOnly> : <NotFound path={path} />;
  } else page = <NotFound path={path} />;
  if (sidebar === undefined && section === "experiments") sidebar = null;

  useEffect(() => {
    const base = "mltrail";
    // The account and admin pages name themselves.
    if (section !== "account") document.title = section === "models" ? `Models · ${base}` : base;
  }, [section]);

  return (
    <div className="app">
      <header className="topbar">
        <Link className="brand" href="/">
          <svg width="18" height="18" viewBox="0 0 16 16" aria-hidden="true">
            <path d="M1 13 L6 7 L9 10 L15 3" stroke="var(--accent)" strokeWidth="2.2" fill="none" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          mltrail
        </Link>
        <nav className="topnav" style={{ display: "flex", gap: 14 }}>
          <Link href="/" className={section === "experiments" ? "active" : ""}>
            Experiments
          </Link>
          <Link href="/models" className={section === "models" ? "active" : ""}>
            Models
          </Link>
        </nav>
        <span className="spacer" />
        {user ? <UserMenu user={user} /> : null}
        <ThemeToggle />
      </header>
      <div className="body">
        {section === "experiments" ? <Sidebar current={sidebar ?? null} /> : null}
        <main className="main">{page}</main>
      </div>
    </div>
  );
}
