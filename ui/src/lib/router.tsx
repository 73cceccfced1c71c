// A tiny client-side router over the History API: the path picks the page, the query string
// holds the view state (see urlState.ts). MLflow's links (`/#/experiments/1/runs/<id>`, and
// MLflow 3's paths mltrail names otherwise) are replaced by mltrail's own on arrival.

import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from "react";
import { mlflowTarget } from "./mlflowLinks";

type Listener = () => void;
const listeners = new Set<Listener>();

function notify() {
  for (const l of listeners) l();
}

/** Replace an MLflow link in the address bar by mltrail's path for the same page. */
function adoptMlflowLink() {
  const { pathname, search, hash } = window.location;
  const target = mlflowTarget(pathname, search, hash);
  if (target !== null && target !== pathname + search + hash) window.history.replaceState(null, "", target);
}

adoptMlflowLink();
// A link pasted into the address bar of an open page changes the fragment only.
window.addEventListener("hashchange", () => (adoptMlflowLink(), notify()));
window.addEventListener("popstate", () => (adoptMlflowLink(), notify()));

function subscribe(l: Listener) {
  listeners.add(l);
  return () => listeners.delete(l);
}

const snapshot = () => window.location.pathname + window.location.search + window.location.hash;

export function navigate(to: string, opts: { replace?: boolean } = {}) {
  if (to === snapshot()) return;
  if (opts.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  notify();
}

export interface Location {
  path: string;
  search: URLSearchParams;
  /** The fragment: "" for mltrail's pages; an MLflow link mltrail has no page for keeps its own. */
  hash: string;
  href: string;
}

let cachedHref = "";
let cached: Location = { path: "/", search: new URLSearchParams(), hash: "", href: "/" };

export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot);
  if (href !== cachedHref) {
    cachedHref = href;
    cached = {
      path: window.location.pathname,
      search: new URLSearchParams(window.location.search),
      hash: window.location.hash,
      href,
    };
  }
  return cached;
}

/** Match "/models/:name/versions/:version" against a path; parameters are URI-decoded. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/").filter(Boolean);
  const s = path.split("/").filter(Boolean);
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    if (seg.startsWith(":")) {
      try {
        out[seg.slice(1)] = decodeURIComponent(s[i]!);
      } catch {
        return null;
      }
    } else if (seg !== s[i]) return null;
  }
  return out;
}

export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const { onClick, ...rest } = props;
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (props.target && props.target !== "_self") return;
    e.preventDefault();
    navigate(props.href);
  };
  return <a {...rest} onClick={handle} />;
}

export const enc = encodeURIComponent;
