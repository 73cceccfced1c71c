// A metric with one value per run, as horizontal bars across the runs (lib/metricBars.ts).

import type { CSSProperties } from "react";
import { formatNumber } from "../lib/format";
import { type ValueBar, barGeometry } from "../lib/metricBars";

export function MetricBars({ bars }: { bars: ValueBar[] }) {
  const { baseline, bars: geometry } = barGeometry(bars.map((b) => b.value));
  const nameWidth = `${Math.min(28, Math.max(6, ...bars.map((b) => b.label.length)))}ch`;
  return (
    <div className="metric-bars" role="list" data-testid="metric-bars" style={{ "--name-width": nameWidth } as CSSProperties}>
      {bars.map((b, i) => {
        const g = geometry[i]!;
        return (
          <div
            key={b.id}
            className="metric-bar"
            role="listitem"
            data-testid="metric-bar"
            data-run-id={b.id}
            data-value={b.value}
            title={`${b.label}: ${b.value} (step ${b.step})`}
          >
            <span className="metric-bar-name">
              <span className="dot" style={{ color: b.color }} />
              {b.label}
            </span>
            <span className="metric-bar-track">
              {baseline > 0 ? <span className="metric-bar-zero" style={{ left: `${baseline * 100}%` }} /> : null}
              <span
                className="metric-bar-fill"
                style={{ left: `${g.start * 100}%`, width: `${g.width * 100}%`, background: b.color }}
              />
            </span>
            <span className="metric-bar-value">{formatNumber(b.value)}</span>
          </div>
        );
      })}
      <div className="muted small">One value a run{bars.length > 1 ? ", across the runs" : ""}: drawn as bars, not as a line.</div>
    </div>
  );
}
