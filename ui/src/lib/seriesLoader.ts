// Coalesce the series requests made in the same tick for the same (key, runs, range, buckets)
// into one server request. Different keys go out as separate requests on purpose: the server
// reduces them in parallel and each chart draws as soon as its own series arrive (one request
// for 10 charts of 100 runs measured 4.6 s on the server; 10 parallel ones 1.2 s in all).

import { type SeriesField, metricSeries } from "../api/endpoints";
import type { MetricSeries } from "../api/types";

interface Pending {
  runIds: string[];
  maxBuckets: number;
  startStep: number | undefined;
  endStep: number | undefined;
  fields: SeriesField[] | undefined;
  keys: Set<string>;
  waiters: { key: string; resolve: (s: MetricSeries[]) => void; reject: (e: unknown) => void }[];
}

const pending = new Map<string, Pending>();

export function loadSeries(
  runIds: string[],
  key: string,
  maxBuckets: number,
  startStep?: number,
  endStep?: number,
  fields?: SeriesField[],
): Promise<MetricSeries[]> {
  const group = JSON.stringify([key, runIds, maxBuckets, startStep ?? null, endStep ?? null, fields ?? null]);
  let p = pending.get(group);
  if (!p) {
    p = { runIds, maxBuckets, startStep, endStep, fields, keys: new Set(), waiters: [] };
    pending.set(group, p);
    const batch = p;
    queueMicrotask(() => {
      pending.delete(group);
      metricSeries({
        runIds: batch.runIds,
        keys: [...batch.keys],
        maxBuckets: batch.maxBuckets,
        startStep: batch.startStep,
        endStep: batch.endStep,
        fields: batch.fields,
      }).then(
        (all) => {
          for (const w of batch.waiters) w.resolve(all.filter((s) => s.key === w.key));
        },
        (e: unknown) => {
          for (const w of batch.waiters) w.reject(e);
        },
      );
    });
  }
  p.keys.add(key);
  return new Promise((resolve, reject) => p.waiters.push({ key, resolve, reject }));
}
