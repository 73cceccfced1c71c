// A project run (made by `mltrail run` or `mlflow run`) as the run page shows it: what ran (the
// project's URI, entry point, environment manager, the parameters given), from which git source,
// and the commands that run it again. The tag names are those src/mltrail/projects/ writes
// (mlflow.project.*, mlflow.source.*, mltrail.project.*); docs/projects.md lists them.

export const PROJECT_TAGS = {
  sourceType: "mlflow.source.type",
  sourceName: "mlflow.source.name",
  entryPoint: "mlflow.project.entryPoint",
  env: "mlflow.project.env",
  backend: "mlflow.project.backend",
  commit: "mlflow.source.git.commit",
  branch: "mlflow.source.git.branch",
  repoUrl: "mlflow.source.git.repoURL",
  dirty: "mltrail.source.git.dirty",
  parameters: "mltrail.project.parameters",
  exitCode: "mltrail.project.exitCode",
  reproducedFrom: "mltrail.project.reproducedFrom",
  dockerImage: "mlflow.docker.image.uri",
} as const;

/** The environment managers `mltrail run --env-manager` takes (a docker run records "docker"). */
export const ENV_MANAGERS = ["local", "virtualenv", "uv", "conda"] as const;

export interface ProjectRun {
  /** The project's URI (`mlflow.source.name`): a folder, `file://repo#sub`, or a git URL. */
  source: string | null;
  entryPoint: string | null;
  /** The environment manager: local, virtualenv, uv, conda or docker. */
  env: string | null;
  backend: string | null;
  commit: string | null;
  branch: string | null;
  repoUrl: string | null;
  /** The folder had uncommitted changes, which the commit does not hold. */
  dirty: boolean;
  /**
   * The parameters given, which `--from-run` passes again. "given": from the
   * mltrail.project.parameters tag; "params": not recorded apart (a run of `mlflow run`, or too
   * long for a tag), so all the run's params; "invalid": the tag is no JSON object.
   */
  parameters: [string, string][];
  parametersFrom: "given" | "params" | "invalid";
  exitCode: string | null;
  reproducedFrom: string | null;
  dockerImage: string | null;
}

/** A list of key/value pairs (a run's tags or params) as a record; the last value of a key wins. */
export function keyValues(list: readonly { key: string; value: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of list ?? []) out[key] = value;
  return out;
}

/** The project facts of a run, or null when it is no project run. */
export function projectRun(tags: Record<string, string>, params: Record<string, string>): ProjectRun | null {
  const t = (key: string): string | null => (Object.hasOwn(tags, key) ? tags[key]! : null);
  if (t(PROJECT_TAGS.sourceType)?.toUpperCase() !== "PROJECT" && !t(PROJECT_TAGS.entryPoint)) return null;
  const given = givenParameters(t(PROJECT_TAGS.parameters), params);
  return {
    source: t(PROJECT_TAGS.sourceName),
    entryPoint: t(PROJECT_TAGS.entryPoint),
    env: t(PROJECT_TAGS.env),
    backend: t(PROJECT_TAGS.backend),
    commit: t(PROJECT_TAGS.commit),
    branch: t(PROJECT_TAGS.branch),
    repoUrl: t(PROJECT_TAGS.repoUrl),
    dirty: t(PROJECT_TAGS.dirty) === "true",
    parameters: given.values,
    parametersFrom: given.from,
    exitCode: t(PROJECT_TAGS.exitCode),
    reproducedFrom: t(PROJECT_TAGS.reproducedFrom),
    dockerImage: t(PROJECT_TAGS.dockerImage),
  };
}

function givenParameters(
  tag: string | null,
  params: Record<string, string>,
): { values: [string, string][]; from: ProjectRun["parametersFrom"] } {
  if (tag === null) {
    const values = Object.entries(params).sort(([a], [b]) => a.localeCompare(b));
    return { values, from: "params" };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(tag);
  } catch {
    parsed = null;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return { values: [], from: "invalid" };
  const values = Object.entries(parsed as Record<string, unknown>).map(
    ([k, v]): [string, string] => [k, typeof v === "string" ? v : JSON.stringify(v)],
  );
  return { values, from: "given" };
}

// Git hosts whose commit pages are known: the path of a commit below the repository's page.
const COMMIT_PAGES: Record<string, (sha: string) => string> = {
  "github.com": (sha) => `/commit/${sha}`,
  "gitlab.com": (sha) => `/-/commit/${sha}`,
  "bitbucket.org": (sha) => `/commits/${sha}`,
};

// `git@host:owner/repo.git` (scp-like: no scheme, a colon not followed by "/").
const SCP_LIKE = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(\S+)$/;
// `https://host/owner/repo(.git)`, `ssh://git@host[:port]/owner/repo.git`, `git://...`.
const URL_LIKE = /^(?:git\+)?(?:https?|ssh|git):\/\/(?:[^@/\s]+@)?([^/:\s]+)(?::\d+)?\/(\S+)$/i;
const SEGMENT = /^[A-Za-z0-9_.-]+$/;

/**
 * The web page of a repository on a known host (github.com, gitlab.com, bitbucket.org) from its
 * git remote URL, in the https, scp-like (`git@host:owner/repo.git`) or ssh URL form; null for
 * any other host or shape. GitLab's groups may nest (`group/sub/repo`); the others are owner/repo.
 */
export function repoWebUrl(remote: string | null | undefined): string | null {
  if (!remote) return null;
  const text = remote.trim();
  const m = URL_LIKE.exec(text) ?? SCP_LIKE.exec(text);
  if (!m) return null;
  const host = m[1]!.toLowerCase().replace(/^www\./, "");
  if (!Object.hasOwn(COMMIT_PAGES, host)) return null;
  const segments = m[2]!.replace(/\/+$/, "").replace(/\.git$/, "").split("/");
  if (segments.some((s) => !SEGMENT.test(s) || s === "." || s === "..")) return null;
  if (host === "gitlab.com" ? segments.length < 2 : segments.length !== 2) return null;
  return `https://${host}/${segments.join("/")}`;
}

/** The page of *commit* in the repository *remote* names, when it is on a known host; else null. */
export function commitWebUrl(remote: string | null | undefined, commit: string | null | undefined): string | null {
  if (!commit || !/^[0-9a-f]{7,64}$/i.test(commit)) return null;
  const repo = repoWebUrl(remote);
  if (repo === null) return null;
  const host = new URL(repo).hostname;
  return repo + COMMIT_PAGES[host]!(commit.toLowerCase());
}

/** A commit's short form (7 characters, as git and the hosts show it). */
export function shortCommit(commit: string): string {
  return /^[0-9a-f]{8,}$/i.test(commit) ? commit.slice(0, 7) : commit;
}

/** *value* as one word of a POSIX shell: as it is when nothing in it is special, else quoted. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that runs the project run *runId* again (docs/projects.md, "Running a recorded run
 * again"), against the tracking server at *trackingUri* (the one the UI is served by).
 */
export function reproduceCommand(runId: string, trackingUri: string): string {
  return ["mltrail", "run", "--from-run", shellQuote(runId), "--tracking-uri", shellQuote(trackingUri)].join(" ");
}

/**
 * The same run spelled out: `mltrail run URI -e ENTRY -v COMMIT -P k=v ... --env-manager ENV
 * --experiment-id ID --tracking-uri URI`, what `--from-run` does from the recorded tags (a
 * docker run's environment is the project's own: no --env-manager). Null without a source.
 */
export function explicitCommand(project: ProjectRun, experimentId: string, trackingUri: string): string | null {
  if (!project.source || project.parametersFrom === "invalid") return null;
  const words = ["mltrail", "run", shellQuote(project.source)];
  if (project.entryPoint) words.push("-e", shellQuote(project.entryPoint));
  if (project.commit) words.push("-v", shellQuote(project.commit));
  for (const [k, v] of project.parameters) words.push("-P", shellQuote(`${k}=${v}`));
  if (project.env && (ENV_MANAGERS as readonly string[]).includes(project.env)) words.push("--env-manager", project.env);
  words.push("--experiment-id", shellQuote(experimentId), "--tracking-uri", shellQuote(trackingUri));
  return words.join(" ");
}
