// The layout of the parallel-coordinates chart: room at both ends for the labels, so no axis
// name or value is cut at the chart's edge, and labels shortened to the room between axes.
// Pure: text widths come from the `measure` function given (a canvas in the page).

export type Measure = (text: string) => number;

export interface ParallelAxisText {
  /** The axis' name as drawn (shortened with "…" when longer than the room between axes). */
  title: string;
  /** The value labels drawn right of the axis (its min and max, or its categories). */
  values: string[];
}

export interface ParallelLayout {
  width: number;
  /** The x of each axis. */
  xs: number[];
  titles: string[];
  values: string[][];
}

/** `text` cut to at most `room` pixels wide, ending in "…" when cut. */
export function fitText(text: string, room: number, measure: Measure): string {
  if (measure(text) <= room) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(text.slice(0, mid) + "…") <= room) lo = mid;
    else hi = mid - 1;
  }
  return lo ? text.slice(0, lo) + "…" : "…";
}

/**
 * Axes spaced at least `spacing` apart over at least `minWidth` pixels; the first axis far
 * enough right for half its centred title, the last far enough left for its value labels
 * (drawn right of it, `valueGap` away) and half its title. Titles are cut to the room between
 * axes, value labels to that room minus the gap.
 */
export function parallelLayout(
  axes: readonly ParallelAxisText[],
  measure: Measure,
  opts: { minWidth?: number; spacing?: number; valueGap?: number; margin?: number } = {},
): ParallelLayout {
  const spacing = opts.spacing ?? 140;
  const gap = opts.valueGap ?? 4;
  const margin = opts.margin ?? 6;
  const n = axes.length;
  const widest = (list: string[]) => Math.max(0, ...list.map(measure));
  const place = (room: number) => {
    const titles = axes.map((a) => fitText(a.title, room, measure));
    const values = axes.map((a) => a.values.map((v) => fitText(v, room - gap - 6, measure)));
    const left = Math.max(40, n ? measure(titles[0]!) / 2 + margin : 0);
    const lastValues = n ? widest(values[n - 1]!) + gap : 0;
    const right = Math.max(40, n ? Math.max(lastValues, measure(titles[n - 1]!) / 2) + margin : 0);
    const width = Math.max(opts.minWidth ?? 600, left + right + Math.max(0, n - 1) * spacing);
    const step = n > 1 ? (width - left - right) / (n - 1) : 0;
    return { width, xs: axes.map((_, i) => left + i * step), titles, values, step };
  };
  let layout = place(spacing - 10);
  if (n > 1 && layout.step > spacing) {
    // Spread wider than `spacing` (to fill minWidth): labels may use the axes' real distance.
    // Longer end labels narrow it again, so fit them once more to that narrower distance
    // (shorter labels only widen it: they then fit).
    const wide = place(layout.step - 10);
    layout = wide.step < layout.step ? place(wide.step - 10) : wide;
  }
  return { width: layout.width, xs: layout.xs, titles: layout.titles, values: layout.values };
}
