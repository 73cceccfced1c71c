import { describe, expect, it } from "vitest";
import { parseCsv, toCsv } from "../src/lib/csv";

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
