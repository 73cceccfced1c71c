import { describe, expect, it } from "vitest";
import { PackedSeriesError, decodePackedSeries } from "../src/lib/packedSeries";

/** A packed body as the server writes it (mltrail/server/_metrics.py: pack_series). */
function pack(fields: string[], series: { run_id: string; key: string; exact: boolean; count: number; lists: number[][] }[]): ArrayBuffer {
  const header = {
    fields,
    series: series.map((s) => ({ run_id: s.run_id, key: s.key, exact: s.exact, count: s.count, length: s.lists[0]!.length })),
  };
  const text = JSON.stringify(header);
  const length = new TextEncoder().encode(text).length;
  const head = new TextEncoder().encode(text + " ".repeat((8 - (length % 8)) % 8));
  const values = series.flatMap((s) => s.lists.flat());
  const buf = new ArrayBuffer(8 + head.length + values.length * 8);
  const view = new DataView(buf);
  new Uint8Array(buf, 0, 4).set(new TextEncoder().encode("MTS1"));
  view.setUint32(4, head.length, true);
  new Uint8Array(buf, 8, head.length).set(head);
  values.forEach((v, i) => view.setFloat64(8 + head.length + i * 8, v, true));
  return buf;
}

describe("decodePackedSeries", () => {
  it("reads every series and field, NaN and infinities as numbers", () => {
    const buf = pack(
      ["steps", "last"],
      [
        { run_id: "a", key: "loss", exact: false, count: 1000, lists: [[9, 19, 29], [0.5, NaN, -Infinity]] },
        { run_id: "b", key: "loss", exact: true, count: 1, lists: [[0], [2]] },
      ],
    );
    const [a, b] = decodePackedSeries(buf);
    expect(a).toMatchObject({ run_id: "a", key: "loss", exact: false, count: 1000, steps: [9, 19, 29], timestamps: [] });
    expect(a!.last[0]).toBe(0.5);
    expect(Number.isNaN(a!.last[1])).toBe(true);
    expect(a!.last[2]).toBe(-Infinity);
    expect(a!.min).toEqual(a!.last); // not asked for: the line itself
    expect(b).toMatchObject({ run_id: "b", steps: [0], last: [2], min: [2], max: [2] });
  });

  it("keeps timestamps, min and max when they were asked for", () => {
    const buf = pack(["steps", "timestamps", "last", "min", "max"], [
      { run_id: "r", key: "k", exact: false, count: 9, lists: [[1, 2], [100, 200], [3, 4], [0, 1], [5, 6]] },
    ]);
    expect(decodePackedSeries(buf)).toEqual([
      { run_id: "r", key: "k", exact: false, count: 9, steps: [1, 2], timestamps: [100, 200], last: [3, 4], min: [0, 1], max: [5, 6] },
    ]);
  });

  it("an empty answer has no series", () => {
    expect(decodePackedSeries(pack(["steps", "last"], []))).toEqual([]);
  });

  it("says what is wrong with a body that is not packed series", () => {
    expect(() => decodePackedSeries(new TextEncoder().encode('{"series": []}').buffer)).toThrow(PackedSeriesError);
    expect(() => decodePackedSeries(new ArrayBuffer(3))).toThrow(/too short/);
    const cut = pack(["steps", "last"], [{ run_id: "a", key: "k", exact: true, count: 2, lists: [[1, 2], [3, 4]] }]).slice(0, -8);
    expect(() => decodePackedSeries(cut)).toThrow(/announces/);
  });
});
