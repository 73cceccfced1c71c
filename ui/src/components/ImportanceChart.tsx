// A horizontal bar chart of a flat object of numbers (feature importances): the largest 30,
// largest first, drawn with CSS (no chart library for a few bars).

import type { CSSProperties } from "react";
import { formatNumber } from "../lib/format";
import { type Bar, TOP_BARS, topBars } from "../lib/importance";

export function ImportanceChart({ entries, title }: { entries: readonly Bar[]; title: string }) {
  const { bars, total, byMagnitude } = topBars(entries, TOP_BARS);
  const max = Math.max(...bars.map((b) => Math.abs(b.value))) || 1;
  // The names' column fits the longest name shown (monospace), between 6 and 40 characters.
  const nameWidth = `${Math.min(40, Math.max(6, ...bars.map((b) => b.name.length)))}ch`;
  return (
    <figure className="importance" data-testid="importance-chart">
      <figcaption>
        <strong>{title}</strong>{" "}
        <span className="muted small">
          {total > bars.length ? `top ${bars.length} of ${total}` : `${total} ${total === 1 ? "entry" : "entries"}`}
          {byMagnitude ? ", by absolute value" : ", largest first"}
        </span>
      </figcaption>
      <div className="importance-rows" role="list" aria-label={title} style={{ "--name-width": nameWidth } as CSSProperties}>
        {bars.map((b) => (
          <div
            key={b.name}
            className="importance-row"
            role="listitem"
            data-testid="importance-bar"
            data-feature={b.name}
            data-value={b.value}
            title={`${b.name}: ${b.value}`}
          >
            <span className="importance-name">{b.name}</span>
            <span className="importance-track">
              <span className={`importance-fill${b.value < 0 ? " neg" : ""}`} style={{ width: `${(Math.abs(b.value) / max) * 100}%` }} />
            </span>
            <span className="importance-value">{formatNumber(b.value)}</span>
          </div>
        ))}
      </div>
    </figure>
  );
}
