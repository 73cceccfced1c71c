import { describe, expect, it } from "vitest";
import { signatureColumnType } from "../src/lib/signature";

describe("signatureColumnType", () => {
  it("shows a column's type", () => {
    expect(signatureColumnType({ name: "x", type: "double" })).toBe("double");
  });
  it("shows a tensor's dtype and shape from MLflow's tensor-spec key", () => {
    const column = { type: "tensor", "tensor-spec": { dtype: "float64", shape: [-1, 4] } };
    expect(signatureColumnType(column)).toBe("tensor float64 (-1, 4)");
  });
  it("shows a tensor without a spec as a tensor", () => {
    expect(signatureColumnType({ type: "tensor" })).toBe("tensor");
  });
});
