import { describe, expect, it } from "vitest";
import { parseCsv, shortCell, toCsv } from "../src/lib/csv";

describe("toCsv", () => {
  it("quotes separators, quotes and newlines", () => {
    expect(toCsv([["a", "b,c"], ['say "hi"', "x\ny"]])).toBe('a,"b,c"\r\n"say ""hi""","x\ny"\r\n');
  });
  it("neutralises spreadsheet formulas but keeps negative numbers", () => {
    expect(toCsv([["=SUM(A1)", "-1.5", "@x", "+1e3"]])).toBe("'=SUM(A1),-1.5,'@x,+1e3\r\n");
  });
  it("round-trips through parseCsv", () => {
    const rows = [["name", "value"], ["a,b", 'q"uote'], ["multi\nline", ""]];
    expect(parseCsv(toCsv(rows)).rows).toEqual(rows);
  });
});

describe("parseCsv", () => {
  it("parses CRLF, LF and TSV", () => {
    expect(parseCsv("a,b\r\n1,2\n3,4").rows).toEqual([["a", "b"], ["1", "2"], ["3", "4"]]);
    expect(parseCsv("a\tb\n1\t2\n", "\t").rows).toEqual([["a", "b"], ["1", "2"]]);
  });
  it("stops at maxRows and says so", () => {
    const r = parseCsv("1\n2\n3\n4\n", ",", 2);
    expect(r.rows).toEqual([["1"], ["2"]]);
    expect(r.truncated).toBe(true);
  });
});

describe("shortCell", () => {
  it("shortens long decimals to six significant digits", () => {
    expect(shortCell("0.9923379421234131")).toBe("0.992338");
    expect(shortCell("-12.0000001234")).toBe("-12");
    expect(shortCell("0.0058088160795720875")).toBe("0.00580882");
    expect(shortCell("1.2345678e-05")).toBe("1.2346e-5");
  });
  it("leaves everything else as written", () => {
    for (const c of ["0.91", "1.0", "123456789012", "abc", "", "1.23456", "{'C': 0.1}", "2026-01-01", "1.2.3456789"])
      expect(shortCell(c)).toBe(c);
  });
});
