import { describe, expect, it } from "vitest";
import type { LoggedModel, Run } from "../src/api/types";
import { isModelId, missingOutputs, modelIdOfVersion, registeredVersionsOf, statusLabel, versionsOfModel } from "../src/lib/loggedModels";

const ID = "m-0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const model = (id: string, tags: { key: string; value: string }[] = []): LoggedModel => ({
  info: { model_id: id, experiment_id: "1", name: "model", tags },
});

describe("logged models", () => {
  it("knows a logged model's id", () => {
    expect(isModelId(ID)).toBe(true);
    expect(isModelId("iris")).toBe(false);
    expect(isModelId("m-xyz")).toBe(false);
  });
  it("finds the logged model a registered version was made from", () => {
    expect(modelIdOfVersion("s3://b/1/abc/artifacts/model", ID)).toBe(ID);
    expect(modelIdOfVersion(`models:/${ID}`)).toBe(ID);
    expect(modelIdOfVersion(`mlflow-artifacts:/1/models/${ID}/artifacts`)).toBe(ID);
    expect(modelIdOfVersion(`file:///srv/a/1/models/${ID}/artifacts/`)).toBe(ID);
    expect(modelIdOfVersion("models:/iris/3")).toBeNull();
    expect(modelIdOfVersion("runs:/abc/model")).toBeNull();
    expect(modelIdOfVersion(undefined)).toBeNull();
  });
  it("reads the versions MLflow records on the model, ignoring what does not parse", () => {
    const tagged = model(ID, [{ key: "mlflow.modelVersions", value: '[{"name": "iris", "version": 2}, {"name": 3}, "x"]' }]);
    expect(registeredVersionsOf(tagged)).toEqual([{ name: "iris", version: "2" }]);
    expect(registeredVersionsOf(model(ID, [{ key: "mlflow.modelVersions", value: "{broken" }]))).toEqual([]);
    expect(registeredVersionsOf(model(ID))).toEqual([]);
  });
  it("joins the tagged versions with those made from the model", () => {
    const tagged = model(ID, [{ key: "mlflow.modelVersions", value: '[{"name": "iris", "version": "1"}]' }]);
    const versions = [
      { name: "iris", version: "1", source: `models:/${ID}`, model_id: ID },
      { name: "iris", version: "10", source: `mlflow-artifacts:/1/models/${ID}/artifacts` },
      { name: "iris", version: "2", source: "runs:/r/model" },
      { name: "a-copy", version: "3", source: "s3://x", model_id: ID },
    ];
    expect(versionsOfModel(tagged, versions)).toEqual([
      { name: "a-copy", version: "3" },
      { name: "iris", version: "1" },
      { name: "iris", version: "10" },
    ]);
  });
  it("names the statuses", () => {
    expect(statusLabel("LOGGED_MODEL_READY")).toBe("Ready");
    expect(statusLabel("LOGGED_MODEL_UPLOAD_FAILED")).toBe("Upload failed");
    expect(statusLabel(undefined)).toBe("");
  });
  it("lists the run's outputs a search did not return, once each", () => {
    const run = {
      info: { run_id: "r", experiment_id: "1", status: "FINISHED", lifecycle_stage: "active" },
      data: {},
      outputs: { model_outputs: [{ model_id: "m-aaaaaaaa", step: 0 }, { model_id: "m-bbbbbbbb", step: 0 }, { model_id: "m-bbbbbbbb", step: 1 }] },
    } satisfies Run;
    expect(missingOutputs(run, [model("m-aaaaaaaa")])).toEqual(["m-bbbbbbbb"]);
    expect(missingOutputs({ ...run, outputs: {} }, [])).toEqual([]);
  });
});
