import { describe, expect, it } from "vitest";
import { gitState, isSystemTag, otherSystemTags, userTags } from "../src/lib/runTags";

const tags = [
  { key: "team", value: "vision" },
  { key: "mltrail.source.git.dirty", value: "true" },
  { key: "mlflow.source.name", value: "/x/train.py" },
  { key: "mlflow.docker.image", value: "img:1" },
  { key: "mltrail.project.exitCode", value: "0" },
  { key: "dataset", value: "imagenet" },
];

describe("run tags", () => {
  it("tells mlflow.* and mltrail.* tags from the user's", () => {
    expect(isSystemTag("mltrail.source.git.dirty")).toBe(true);
    expect(isSystemTag("mlflow.user")).toBe(true);
    expect(isSystemTag("mlflowish")).toBe(false);
    expect(userTags(tags).map((t) => t.key)).toEqual(["dataset", "team"]);
  });
  it("lists the system tags the run page does not show elsewhere", () => {
    expect(otherSystemTags(tags).map((t) => t.key)).toEqual(["mlflow.docker.image", "mltrail.project.exitCode"]);
    expect(otherSystemTags(tags, true).map((t) => t.key)).toEqual(["mlflow.docker.image"]);
  });
  it("reads the git work tree's state", () => {
    expect(gitState(tags)).toBe("dirty");
    expect(gitState([{ key: "mltrail.source.git.dirty", value: "false" }])).toBe("clean");
    expect(gitState([])).toBeNull();
  });
});
