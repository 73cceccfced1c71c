import { describe, expect, it } from "vitest";
import { TableFormatError, cellText, nextSort, pageOf, parseEvalTable, sortedOrder } from "../src/lib/evalTable";

// As mlflow.log_table writes it (pandas' split form, "/" escaped).
const TEXT = '{"columns":["a","label","outputs","val_abs_err\\/score","note"],"data":[[1.5,2,2,0.0,"b10"],[-0.5,0,1,1.0,"b9"],[null,1,1,0.0,null],[3.25,1,0,1.0,"B2"]]}';

describe("parseEvalTable", () => {
  it("reads the split form and which columns are numbers", () => {
    const t = parseEvalTable(TEXT);
    expect(t.columns).toEqual(["a", "label", "outputs", "val_abs_err/score", "note"]);
    expect(t.rows).toHaveLength(4);
    expect(t.numeric).toEqual([true, true, true, true, false]);
  });
  it("refuses what is no table", () => {
    expect(() => parseEvalTable("{")).toThrow(TableFormatError);
    expect(() => parseEvalTable('{"columns": ["a"]}')).toThrow(/Not a table/);
    expect(() => parseEvalTable("[1, 2]")).toThrow(TableFormatError);
  });
  it("shows cells as text", () => {
    expect(cellText(null)).toBe("");
    expect(cellText(1.5)).toBe("1.5");
    expect(cellText({ x: [1] })).toBe('{"x":[1]}');
    expect(cellText(true)).toBe("true");
  });
});

describe("sortedOrder", () => {
  const t = parseEvalTable(TEXT);
  it("keeps the file's order without a sort", () => {
    expect(sortedOrder(t, null)).toEqual([0, 1, 2, 3]);
  });
  it("sorts numbers as numbers, empty cells last both ways", () => {
    expect(sortedOrder(t, { column: 0, desc: false })).toEqual([1, 0, 3, 2]);
    expect(sortedOrder(t, { column: 0, desc: true })).toEqual([3, 0, 1, 2]);
  });
  it("keeps the file's order among equal values (a stable sort)", () => {
    expect(sortedOrder(t, { column: 3, desc: false })).toEqual([0, 2, 1, 3]);
    expect(sortedOrder(t, { column: 3, desc: true })).toEqual([1, 3, 0, 2]);
  });
  it("sorts text numerically aware and case-blind", () => {
    expect(sortedOrder(t, { column: 4, desc: false })).toEqual([3, 1, 0, 2]);
  });
  it("sorts 10,000 rows", () => {
    const rows = Array.from({ length: 10000 }, (_, i) => [(i * 7919) % 10000, `r${i}`]);
    const big = parseEvalTable(JSON.stringify({ columns: ["x", "id"], data: rows }));
    const order = sortedOrder(big, { column: 0, desc: true });
    expect(order.slice(0, 3).map((i) => big.rows[i]![0])).toEqual([9999, 9998, 9997]);
    expect(new Set(order).size).toBe(10000);
  });
});

describe("nextSort and pageOf", () => {
  it("cycles ascending, descending, none", () => {
    expect(nextSort(null, 2)).toEqual({ column: 2, desc: false });
    expect(nextSort({ column: 2, desc: false }, 2)).toEqual({ column: 2, desc: true });
    expect(nextSort({ column: 2, desc: true }, 2)).toBeNull();
    expect(nextSort({ column: 2, desc: true }, 1)).toEqual({ column: 1, desc: false });
  });
  it("pages, clamping a page past either end", () => {
    expect(pageOf(10000, 50, 0)).toEqual({ page: 0, pages: 200, start: 0, end: 50 });
    expect(pageOf(10000, 50, 199)).toEqual({ page: 199, pages: 200, start: 9950, end: 10000 });
    expect(pageOf(10000, 50, 500)).toEqual({ page: 199, pages: 200, start: 9950, end: 10000 });
    expect(pageOf(101, 50, 2)).toEqual({ page: 2, pages: 3, start: 100, end: 101 });
    expect(pageOf(0, 50, 3)).toEqual({ page: 0, pages: 1, start: 0, end: 0 });
    expect(pageOf(5, 50, -1).page).toBe(0);
  });
});
