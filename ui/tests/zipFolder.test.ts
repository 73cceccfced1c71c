import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { buildZip, entryName } from "../src/lib/zipFolder";

describe("folder downloads", () => {
  it("names entries relative to the folder's parent", () => {
    expect(entryName("model", "model/MLmodel")).toBe("model/MLmodel");
    expect(entryName("a/b/model", "a/b/model/data/x.bin")).toBe("model/data/x.bin");
  });

  it("builds a zip that unpacks to the same bytes", () => {
    const text = new TextEncoder().encode("scikit-learn==1.5.0\n".repeat(50));
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const zip = buildZip([
      { name: "model/requirements.txt", data: text },
      { name: "model/plot.png", data: png },
    ]);
    const back = unzipSync(zip);
    expect(Object.keys(back).sort()).toEqual(["model/plot.png", "model/requirements.txt"]);
    expect(back["model/requirements.txt"]).toEqual(text);
    expect(back["model/plot.png"]).toEqual(png);
    expect(zip.length).toBeLessThan(text.length); // text is compressed
  });
});
