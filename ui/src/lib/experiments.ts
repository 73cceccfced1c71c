// The experiments list, shared by the sidebar, the runs table and the move dialog.

import { useEffect, useSyncExternalStore } from "react";
import { searchExperiments } from "../api/endpoints";
import type { Experiment } from "../api/types";

interface State {
  all: Experiment[]; // active and deleted
  loaded: boolean;
  error: unknown;
}

let state: State = { all: [], loaded: false, error: null };
const listeners = new Set<() => void>();
let inflight: Promise<void> | null = null;

function set(next: State) {
  state = next;
  for (const l of listeners) l();
}

export function reloadExperiments(): Promise<void> {
  inflight ??= searchExperiments("ALL")
    .then(
      (all) => set({ all, loaded: true, error: null }),
      (error: unknown) => set({ ...state, loaded: true, error }),
    )
    .finally(() => {
      inflight = null;
    });
  return inflight;
}

/** Drop the list (another user signed in: what they may see differs); the next reader reloads it. */
export function forgetExperiments(): void {
  set({ all: [], loaded: false, error: null });
}

export function useExperiments(): State & { byId: Map<string, Experiment> } {
  const s = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
  useEffect(() => {
    if (!s.loaded) void reloadExperiments();
  }, [s.loaded]);
  return { ...s, byId: byIdOf(s.all) };
}

/** The name of a loaded experiment (undefined before the list arrives or for an unknown id). */
export function experimentName(id: string): string | undefined {
  return byIdOf(state.all).get(id)?.name;
}

let lastAll: Experiment[] | null = null;
let lastMap = new Map<string, Experiment>();
function byIdOf(all: Experiment[]) {
  if (all !== lastAll) {
    lastAll = all;
    lastMap = new Map(all.map((e) => [e.experiment_id, e]));
  }
  return lastMap;
}
