// CSV: export of a table view and a tolerant parser for artifact previews (RFC 4180 quoting).

import { formatNumber } from "./format";

function quote(cell: string, sep: string): string {
  if (cell === "") return "";
  // A leading =, +, - or @ would be taken as a formula by spreadsheets: neutralise it, except
  // for plain numbers such as -1.5.
  let value = cell;
  if (/^[=+\-@\t\r]/.test(value) && !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) {
    value = `'${value}`;
  }
  if (value.includes(sep) || value.includes('"') || value.includes("\n") || value.includes("\r")) {
    return `"${value.replace(/"/g, '""')}"`;
  }
  return value;
}

/** Rows of cells to CSV text, CRLF line ends as RFC 4180 says. */
export function toCsv(rows: readonly (readonly string[])[], sep = ","): string {
  return rows.map((row) => row.map((c) => quote(c, sep)).join(sep)).join("\r\n") + "\r\n";
}

export interface ParsedCsv {
  rows: string[][];
  /** True when the text held more rows than were parsed. */
  truncated: boolean;
}

/** Parse CSV (or TSV with sep "\t"), at most `maxRows` rows. Quotes and CRLF are handled. */
export function parseCsv(text: string, sep = ",", maxRows = Infinity): ParsedCsv {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let inQuotes = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i]!;
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
        i++;
        continue;
      }
      cell += ch;
      i++;
      continue;
    }
    if (ch === '"' && cell === "") {
      inQuotes = true;
      i++;
    } else if (ch === sep) {
      row.push(cell);
      cell = "";
      i++;
    } else if (ch === "\n" || ch === "\r") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      if (ch === "\r" && text[i + 1] === "\n") i++;
      i++;
      if (rows.length >= maxRows) return { rows, truncated: i < n };
    } else {
      cell += ch;
      i++;
    }
  }
  if (cell !== "" || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return { rows, truncated: false };
}

/**
 * A cell as the preview table shows it: a decimal number written with more than six digits
 * after the point (pandas writes floats in full: 0.9923379421234131) to six significant digits,
 * anything else as written. The preview shows the cell as written on hover.
 */
export function shortCell(cell: string): string {
  if (!/^[-+]?\d*\.\d{7,}([eE][-+]?\d+)?$/.test(cell)) return cell;
  const v = Number(cell);
  return Number.isFinite(v) ? formatNumber(v) : cell;
}
