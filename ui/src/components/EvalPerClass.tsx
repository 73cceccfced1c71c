// A multiclass evaluation's `per_class_metrics.csv`: one row per class (each taken as the
// positive one), its binary metrics as columns.

import { fetchRaw } from "../api/client";
import { parseCsv } from "../lib/csv";
import { metricDirection } from "../lib/evalMetrics";
import { formatNumber } from "../lib/format";
import { useAsync } from "../lib/hooks";
import { ErrorBox, Loading } from "./common";

/** At most this many classes are shown. */
const MAX_CLASSES = 200;

export function PerClassTable({ url }: { url: string }) {
  const csv = useAsync(async (signal) => parseCsv(await (await fetchRaw(url, signal)).text(), ",", MAX_CLASSES + 1), [url]);
  if (csv.error) return <ErrorBox error={csv.error} what="Cannot read per_class_metrics.csv" />;
  if (!csv.data) return <Loading what="per-class metrics" />;
  const [head = [], ...rows] = csv.data.rows.filter((r) => r.length > 1 || r[0] !== "");
  const numeric = (v: string) => v.trim() !== "" && Number.isFinite(Number(v));
  return (
    <div className="eval-compare-scroll">
      <table className="plain" data-testid="eval-per-class">
        <thead>
          <tr>
            {head.map((h, i) => {
              const d = i ? metricDirection(h) : null;
              return (
                <th key={i} className={i ? "num" : ""} title={`${h}${d ? (d === "higher" ? ": higher is better" : ": lower is better") : ""}`}>
                  {h === "positive_class" ? "class" : h.replace(/_score$/, "")}
                  {d ? <span className="dir-mark muted">{d === "higher" ? "\u00a0↑" : "\u00a0↓"}</span> : null}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} data-class={r[0]}>
              {r.map((v, j) => (j && numeric(v) ? <td key={j} className="num">{formatNumber(Number(v))}</td> : <td key={j} className={j ? "" : "mono"}>{v}</td>))}
            </tr>
          ))}
        </tbody>
      </table>
      {csv.data.truncated ? <div className="muted small">The first {MAX_CLASSES} classes.</div> : null}
    </div>
  );
}
