// Keys and values seen in runs, for autocomplete and the column chooser: from the server's
// keys endpoint when it has one, else from the runs loaded so far.

import type { Run } from "../api/types";
import type { KnownKeys } from "./filterComplete";

export function keysOfRuns(runs: readonly Run[]): KnownKeys {
  const params = new Set<string>();
  const metrics = new Set<string>();
  const tags = new Set<string>();
  for (const r of runs) {
    for (const p of r.data.params ?? []) params.add(p.key);
    for (const m of r.data.metrics ?? []) metrics.add(m.key);
    for (const t of r.data.tags ?? []) tags.add(t.key);
  }
  const sorted = (s: Set<string>) => [...s].sort((a, b) => a.localeCompare(b));
  return { params: sorted(params), metrics: sorted(metrics), tags: sorted(tags) };
}

export function mergeKeys(a: KnownKeys, b: KnownKeys): KnownKeys {
  const u = (x: readonly string[], y: readonly string[]) => [...new Set([...x, ...y])].sort((p, q) => p.localeCompare(q));
  return { params: u(a.params, b.params), metrics: u(a.metrics, b.metrics), tags: u(a.tags, b.tags) };
}

/** Distinct values of `params.x` / `tags.x` among the runs (at most 50). */
export function valuesOf(runs: readonly Run[], field: string): string[] {
  const dot = field.indexOf(".");
  if (dot < 0) return [];
  const entity = field.slice(0, dot).toLowerCase();
  const key = field.slice(dot + 1).replace(/^`(.*)`$/, "$1");
  const list = entity.startsWith("param") ? "params" : entity.startsWith("tag") ? "tags" : null;
  if (!list) return [];
  const out = new Set<string>();
  for (const r of runs) {
    const v = r.data[list]?.find((p) => p.key === key)?.value;
    if (v !== undefined) out.add(v);
    if (out.size >= 50) break;
  }
  return [...out].sort();
}
