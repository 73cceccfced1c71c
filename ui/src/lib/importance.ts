// Feature importances (and any flat JSON object of numbers) as the bars of a chart.
//
// XGBoost's and LightGBM's autologging (MLflow's and mltrail's) log one
// `feature_importance_<type>.json` per importance type: an object mapping a feature's name
// to a number. The artifact viewer draws such a file as horizontal bars, largest first.

export interface Bar {
  name: string;
  value: number;
}

export interface TopBars {
  /** The bars shown, in order: largest value first (largest magnitude when some are negative). */
  bars: Bar[];
  /** How many entries the object has. */
  total: number;
  /** Sorted by absolute value (the object has negative values). */
  byMagnitude: boolean;
}

export const TOP_BARS = 30;

const IMPORTANCE_FILE = /^feature_importance(?:_(.+))?\.json$/i;

const baseName = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** The importance type a file name says (`feature_importance_gain.json` -> "gain"), else null. */
export function importanceType(path: string): string | null {
  const m = IMPORTANCE_FILE.exec(baseName(path));
  return m ? (m[1] ?? "") : null;
}

/** The entries of a flat JSON object whose values are all finite numbers; null for anything else. */
export function numericEntries(value: unknown): Bar[] | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const out: Bar[] = [];
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "number" || !Number.isFinite(v)) return null;
    out.push({ name, value: v });
  }
  return out.length ? out : null;
}

/**
 * The bars of a JSON file drawn as a chart, or null when it is shown as text: a
 * `feature_importance_*.json` of numbers, or any other flat object with two or more numbers.
 */
export function chartEntries(path: string, parsed: unknown): Bar[] | null {
  const entries = numericEntries(parsed);
  if (!entries) return null;
  if (importanceType(path) === null && entries.length < 2) return null;
  return entries;
}

/** The `limit` largest entries, largest first (by magnitude when any is negative); ties keep the file's order. */
export function topBars(entries: readonly Bar[], limit = TOP_BARS): TopBars {
  const byMagnitude = entries.some((e) => e.value < 0);
  const key = byMagnitude ? (e: Bar) => Math.abs(e.value) : (e: Bar) => e.value;
  const bars = [...entries].sort((a, b) => key(b) - key(a)).slice(0, Math.max(0, limit));
  return { bars, total: entries.length, byMagnitude };
}
