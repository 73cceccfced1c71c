// Decoding the packed series body of POST /mltrail/metrics/series-packed (see the server's
// mltrail/server/_metrics.py): "MTS1", a uint32 header length, a JSON header naming the fields
// and the series, then float64 arrays (little-endian), series by series, field by field.
// Nothing is parsed as text but the small header; NaN and infinities arrive as numbers.

import type { MetricSeries } from "../api/types";

export const PACKED_SERIES_MEDIA_TYPE = "application/vnd.mltrail.series";

interface Header {
  fields: string[];
  series: { run_id: string; key: string; exact: boolean; count: number; length: number }[];
}

export class PackedSeriesError extends Error {
  constructor(message: string) {
    super(`Bad packed series body: ${message}`);
    this.name = "PackedSeriesError";
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapped(view: DataView, offset: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat64(offset + i * 8, true);
  return out;
}

/** The series of a packed body; lists not in its header come back empty (timestamps) or as `last`. */
export function decodePackedSeries(buf: ArrayBuffer): MetricSeries[] {
  if (buf.byteLength < 8) throw new PackedSeriesError(`${buf.byteLength} bytes, too short`);
  const view = new DataView(buf);
  const magic = String.fromCharCode(view.getUint8(0), view.getUint8(1), view.getUint8(2), view.getUint8(3));
  if (magic !== "MTS1") throw new PackedSeriesError(`starts with ${JSON.stringify(magic)}, not "MTS1"`);
  const headLength = view.getUint32(4, true);
  if (8 + headLength > buf.byteLength || (8 + headLength) % 8) throw new PackedSeriesError(`header length ${headLength}`);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, headLength))) as Header;
  const total = header.series.reduce((n, s) => n + s.length * header.fields.length, 0);
  if (8 + headLength + total * 8 !== buf.byteLength)
    throw new PackedSeriesError(`${buf.byteLength} bytes where the header announces ${8 + headLength + total * 8}`);
  const values = LITTLE_ENDIAN ? new Float64Array(buf, 8 + headLength, total) : swapped(view, 8 + headLength, total);
  let at = 0;
  return header.series.map((s) => {
    const lists: Record<string, number[]> = {};
    for (const f of header.fields) {
      lists[f] = Array.from(values.subarray(at, at + s.length));
      at += s.length;
    }
    const last = lists.last ?? [];
    return {
      run_id: s.run_id,
      key: s.key,
      exact: s.exact,
      count: s.count,
      steps: lists.steps ?? [],
      timestamps: lists.timestamps ?? [],
      last,
      min: lists.min ?? last,
      max: lists.max ?? last,
    };
  });
}
