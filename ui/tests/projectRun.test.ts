import { describe, expect, it } from "vitest";
import {
  commitWebUrl,
  explicitCommand,
  keyValues,
  projectRun,
  repoWebUrl,
  reproduceCommand,
  shellQuote,
  shortCommit,
} from "../src/lib/projectRun";

const SHA = "0123456789abcdef0123456789abcdef01234567";

// The tags `mltrail run` writes (src/mltrail/projects/_run.py, _fetch.py).
const TAGS = {
  "mlflow.user": "ada",
  "mlflow.source.name": "https://github.com/acme/tutorial.git#train",
  "mlflow.source.type": "PROJECT",
  "mlflow.project.entryPoint": "main",
  "mlflow.project.env": "uv",
  "mlflow.project.backend": "local",
  "mlflow.source.git.commit": SHA,
  "mlflow.source.git.branch": "main",
  "mlflow.source.git.repoURL": "https://github.com/acme/tutorial.git",
  "mltrail.project.parameters": '{"alpha": "0.1", "label": "a b"}',
  "mltrail.project.exitCode": "0",
};
const PARAMS = { alpha: "0.1", epochs: "3", label: "a b" };

describe("repository and commit pages", () => {
  it("reads the https, scp-like and ssh forms of the known hosts", () => {
    for (const remote of [
      "https://github.com/acme/tutorial",
      "https://github.com/acme/tutorial.git",
      "https://github.com/acme/tutorial/",
      "http://www.github.com/acme/tutorial.git",
      "git@github.com:acme/tutorial.git",
      "git@github.com:acme/tutorial",
      "ssh://git@github.com/acme/tutorial.git",
      "ssh://git@github.com:22/acme/tutorial.git",
      "git+https://github.com/acme/tutorial.git",
      "https://x-access-token:secret@github.com/acme/tutorial.git",
      "  https://GitHub.com/acme/tutorial.git\n",
    ])
      expect(repoWebUrl(remote), remote).toBe("https://github.com/acme/tutorial");
  });
  it("links a commit to each host's commit page", () => {
    expect(commitWebUrl("https://github.com/acme/tutorial.git", SHA)).toBe(`https://github.com/acme/tutorial/commit/${SHA}`);
    expect(commitWebUrl("git@gitlab.com:acme/tutorial.git", SHA)).toBe(`https://gitlab.com/acme/tutorial/-/commit/${SHA}`);
    expect(commitWebUrl("ssh://git@bitbucket.org/acme/tutorial.git", SHA)).toBe(`https://bitbucket.org/acme/tutorial/commits/${SHA}`);
    expect(commitWebUrl("https://bitbucket.org/acme/tutorial", SHA.toUpperCase())).toBe(`https://bitbucket.org/acme/tutorial/commits/${SHA}`);
  });
  it("keeps GitLab's nested groups; GitHub and Bitbucket are owner/repo", () => {
    expect(repoWebUrl("git@gitlab.com:acme/vision/tutorial.git")).toBe("https://gitlab.com/acme/vision/tutorial");
    expect(repoWebUrl("https://github.com/acme/vision/tutorial.git")).toBeNull();
    expect(repoWebUrl("https://github.com/acme")).toBeNull();
    expect(repoWebUrl("https://gitlab.com/acme")).toBeNull();
  });
  it("links nothing for other hosts, local repositories and odd shapes", () => {
    for (const remote of [
      "https://git.example.com/acme/tutorial.git",
      "git@git.example.com:acme/tutorial.git",
      "https://github.com.evil.example/acme/tutorial",
      "https://evil.example/github.com/acme/tutorial",
      "file:///home/ada/tutorial",
      "/home/ada/tutorial",
      "../tutorial.git",
      "C:\\repos\\tutorial",
      "https://github.com/acme/tutorial?tab=readme",
      "https://github.com/acme/../tutorial",
      "javascript:alert(1)//github.com/a/b",
      "",
    ])
      expect(repoWebUrl(remote), remote).toBeNull();
    expect(repoWebUrl(null)).toBeNull();
  });
  it("links only what looks like a commit hash", () => {
    const repo = "https://github.com/acme/tutorial";
    expect(commitWebUrl(repo, "main")).toBeNull();
    expect(commitWebUrl(repo, "abc12")).toBeNull();
    expect(commitWebUrl(repo, `${SHA}/../x`)).toBeNull();
    expect(commitWebUrl(repo, null)).toBeNull();
    expect(commitWebUrl(repo, "abcdef0")).toBe(`${repo}/commit/abcdef0`);
    expect(commitWebUrl("https://git.example.com/acme/tutorial", SHA)).toBeNull();
  });
  it("shortens a full hash to 7 characters", () => {
    expect(shortCommit(SHA)).toBe("0123456");
    expect(shortCommit("abc")).toBe("abc");
    expect(shortCommit("not-a-sha-at-all")).toBe("not-a-sha-at-all");
  });
});

describe("the project facts of a run", () => {
  it("reads what `mltrail run` records", () => {
    const p = projectRun(TAGS, PARAMS)!;
    expect(p.source).toBe("https://github.com/acme/tutorial.git#train");
    expect(p.entryPoint).toBe("main");
    expect(p.env).toBe("uv");
    expect(p.commit).toBe(SHA);
    expect(p.branch).toBe("main");
    expect(p.dirty).toBe(false);
    // the parameters given, not the defaults the params also hold
    expect(p.parameters).toEqual([["alpha", "0.1"], ["label", "a b"]]);
    expect(p.parametersFrom).toBe("given");
    expect(p.exitCode).toBe("0");
    expect(p.reproducedFrom).toBeNull();
  });
  it("is null for a run that is no project run", () => {
    expect(projectRun({ "mlflow.source.type": "LOCAL", "mlflow.source.name": "train.py" }, PARAMS)).toBeNull();
    expect(projectRun({}, {})).toBeNull();
  });
  it("falls back on all params for a run of `mlflow run` (no parameters tag)", () => {
    const tags: Record<string, string> = { ...TAGS };
    delete tags["mltrail.project.parameters"];
    const p = projectRun(tags, { label: "x", alpha: "0.5" })!;
    expect(p.parametersFrom).toBe("params");
    expect(p.parameters).toEqual([["alpha", "0.5"], ["label", "x"]]);
  });
  it("says when the parameters tag is unreadable", () => {
    for (const bad of ["[1, 2]", "{broken", "null", '"text"']) {
      const p = projectRun({ ...TAGS, "mltrail.project.parameters": bad }, PARAMS)!;
      expect(p.parametersFrom, bad).toBe("invalid");
      expect(p.parameters).toEqual([]);
    }
  });
  it("reads the dirty mark, the exit code and the original of a reproduced run", () => {
    const p = projectRun(
      { ...TAGS, "mltrail.source.git.dirty": "true", "mltrail.project.exitCode": "2", "mltrail.project.reproducedFrom": "abc" },
      PARAMS,
    )!;
    expect(p.dirty).toBe(true);
    expect(p.exitCode).toBe("2");
    expect(p.reproducedFrom).toBe("abc");
  });
  it("turns tag and param lists into records", () => {
    expect(keyValues([{ key: "a", value: "1" }, { key: "b", value: "2" }])).toEqual({ a: "1", b: "2" });
    expect(keyValues(undefined)).toEqual({});
  });
});

describe("the commands that run it again", () => {
  const uri = "http://127.0.0.1:5000";
  it("quotes a word only when the shell would read it otherwise", () => {
    expect(shellQuote("alpha=0.1")).toBe("alpha=0.1");
    expect(shellQuote("http://host:5000/x")).toBe("http://host:5000/x");
    expect(shellQuote("label=a b")).toBe("'label=a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("$(rm -rf ~)")).toBe("'$(rm -rf ~)'");
    expect(shellQuote("file:///repo#sub")).toBe("'file:///repo#sub'");
    expect(shellQuote("")).toBe("''");
  });
  it("runs a recorded run again with --from-run, against this server", () => {
    expect(reproduceCommand("0a1b2c", uri)).toBe("mltrail run --from-run 0a1b2c --tracking-uri http://127.0.0.1:5000");
  });
  it("spells out the same run from its tags", () => {
    expect(explicitCommand(projectRun(TAGS, PARAMS)!, "7", uri)).toBe(
      `mltrail run 'https://github.com/acme/tutorial.git#train' -e main -v ${SHA} -P alpha=0.1 -P 'label=a b' ` +
        "--env-manager uv --experiment-id 7 --tracking-uri http://127.0.0.1:5000",
    );
  });
  it("leaves out what was not recorded, and a docker run's environment", () => {
    const tags = { "mlflow.source.type": "PROJECT", "mlflow.source.name": "/home/ada/tutorial", "mlflow.project.entryPoint": "train.py", "mlflow.project.env": "docker", "mltrail.project.parameters": "{}" };
    expect(explicitCommand(projectRun(tags, { x: "1" })!, "0", uri)).toBe(
      "mltrail run /home/ada/tutorial -e train.py --experiment-id 0 --tracking-uri http://127.0.0.1:5000",
    );
  });
  it("has no explicit form without a source or with unreadable parameters", () => {
    const noSource: Record<string, string> = { ...TAGS };
    delete noSource["mlflow.source.name"];
    expect(explicitCommand(projectRun(noSource, PARAMS)!, "1", uri)).toBeNull();
    expect(explicitCommand(projectRun({ ...TAGS, "mltrail.project.parameters": "[]" }, PARAMS)!, "1", uri)).toBeNull();
  });
});
