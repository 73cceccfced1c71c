// Autocomplete for the runs filter grammar: fields (with the experiment's keys), operators,
// values and conjunctions, from the text and the caret position. Pure: no DOM, no fetching.

import { quoteKey } from "./columns";

export interface KnownKeys {
  params: readonly string[];
  metrics: readonly string[];
  tags: readonly string[];
}

export interface Suggestion {
  label: string;
  insert: string;
  detail: string;
}

export interface Completion {
  from: number;
  to: number;
  items: Suggestion[];
}

type TokKind = "ws" | "lparen" | "rparen" | "comma" | "string" | "number" | "word" | "op" | "bq";
interface Tok {
  kind: TokKind;
  text: string;
  start: number;
  end: number;
  closed: boolean; // strings and back-quoted keys: has the closing quote
}

const WORD = /[A-Za-z0-9_.\-/:]/;

export function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const start = i;
    const ch = src[i]!;
    if (/\s/.test(ch)) {
      while (i < src.length && /\s/.test(src[i]!)) i++;
      out.push({ kind: "ws", text: src.slice(start, i), start, end: i, closed: true });
    } else if (ch === "(" || ch === ")" || ch === ",") {
      i++;
      out.push({ kind: ch === "(" ? "lparen" : ch === ")" ? "rparen" : "comma", text: ch, start, end: i, closed: true });
    } else if (ch === "'" || ch === '"' || ch === "`") {
      i++;
      let closed = false;
      while (i < src.length) {
        if (src[i] === "\\" && ch !== "`") {
          i += 2;
          continue;
        }
        if (src[i] === ch) {
          if (src[i + 1] === ch) {
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        i++;
      }
      i = Math.min(i, src.length);
      // A back-quoted (or double-quoted) key may continue a word: metrics.`f1 score`
      const prev = out[out.length - 1];
      if (ch !== "'" && prev && prev.kind === "word" && prev.end === start && prev.text.endsWith(".")) {
        prev.text += src.slice(start, i);
        prev.end = i;
        prev.closed = closed;
        continue;
      }
      out.push({ kind: ch === "`" ? "bq" : "string", text: src.slice(start, i), start, end: i, closed });
    } else if ("=!<>".includes(ch)) {
      i++;
      if (src[i] === "=" || (ch === "<" && src[i] === ">")) i++;
      out.push({ kind: "op", text: src.slice(start, i), start, end: i, closed: true });
    } else if (WORD.test(ch)) {
      while (i < src.length && WORD.test(src[i]!)) i++;
      const text = src.slice(start, i);
      const kind: TokKind = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? "number" : "word";
      out.push({ kind, text, start, end: i, closed: true });
    } else {
      i++;
      out.push({ kind: "op", text: ch, start, end: i, closed: true });
    }
  }
  return out;
}

const ENTITIES: { prefix: string; detail: string }[] = [
  { prefix: "metrics.", detail: "latest value of a metric" },
  { prefix: "params.", detail: "a parameter" },
  { prefix: "tags.", detail: "a run tag" },
  { prefix: "attributes.", detail: "a run attribute" },
  { prefix: "datasets.", detail: "a dataset input" },
];

const ATTRIBUTES: Record<string, "string" | "numeric"> = {
  run_name: "string",
  status: "string",
  user_id: "string",
  run_id: "string",
  artifact_uri: "string",
  lifecycle_stage: "string",
  start_time: "numeric",
  end_time: "numeric",
};

const DATASET_FIELDS = ["name", "digest", "context"];
const STATUSES = ["RUNNING", "FINISHED", "FAILED", "KILLED", "SCHEDULED"];
const STRING_OPS = ["=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"];
const NUMERIC_OPS = ["=", "!=", "<", "<=", ">", ">=", "IS NULL", "IS NOT NULL"];

const ENTITY_ALIASES: Record<string, "metrics" | "params" | "tags" | "attributes" | "datasets"> = {
  metrics: "metrics",
  metric: "metrics",
  params: "params",
  param: "params",
  tags: "tags",
  tag: "tags",
  attributes: "attributes",
  attribute: "attributes",
  attr: "attributes",
  run: "attributes",
  datasets: "datasets",
  dataset: "datasets",
};

type FieldType = "string" | "numeric";

function unquote(key: string): string {
  if (key.length >= 2 && (key[0] === "`" || key[0] === '"') && key.endsWith(key[0]!)) {
    const q = key[0]!;
    return key.slice(1, -1).split(q + q).join(q);
  }
  return key.replace(/^[`"]/, "");
}

/** The field a word names, if any: its type, and the attribute name when it is one. */
function fieldOf(word: string): { type: FieldType; attr?: string } | null {
  const m = /^(min|max)\((.*)\)$/i.exec(word);
  if (m) return { type: "numeric" };
  const dot = word.indexOf(".");
  if (dot < 0) {
    const attr = word === "created" ? "start_time" : word;
    const t = ATTRIBUTES[attr];
    return t ? { type: t, attr } : null;
  }
  const entity = ENTITY_ALIASES[word.slice(0, dot).toLowerCase()];
  if (!entity) return null;
  if (entity === "metrics") return { type: "numeric" };
  if (entity === "attributes") {
    const attr = unquote(word.slice(dot + 1));
    const t = ATTRIBUTES[attr === "created" ? "start_time" : attr];
    return t ? { type: t, attr } : { type: "string" };
  }
  return { type: "string" };
}

type Expect = "field" | "op" | "value" | "conj" | "list";

interface Context {
  expect: Expect;
  field: { type: FieldType; attr?: string } | null;
  pendingNot: boolean; // after "<field> NOT" or "<field> IS"
  pendingIs: boolean;
}

/** Walk the complete tokens before the caret and say what comes next. */
function contextOf(tokens: Tok[]): Context {
  const ctx: Context = { expect: "field", field: null, pendingNot: false, pendingIs: false };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === "ws") continue;
    const upper = t.text.toUpperCase();
    switch (ctx.expect) {
      case "field":
        if (t.kind === "lparen") break;
        if (t.kind === "word" && upper === "NOT") break;
        if (t.kind === "word" && (upper === "MIN" || upper === "MAX")) {
          // min(metrics.x): consume up to the closing parenthesis
          let j = i + 1;
          while (j < tokens.length && tokens[j]!.kind !== "rparen") j++;
          i = j;
          ctx.field = { type: "numeric" };
          ctx.expect = "op";
          break;
        }
        ctx.field = t.kind === "word" ? fieldOf(t.text) : null;
        ctx.expect = "op";
        break;
      case "op":
        if (ctx.pendingIs) {
          if (upper === "NOT") break;
          ctx.pendingIs = false;
          ctx.expect = "conj"; // IS [NOT] NULL
          break;
        }
        if (upper === "IS") {
          ctx.pendingIs = true;
          break;
        }
        if (upper === "NOT") {
          ctx.pendingNot = true;
          break;
        }
        ctx.pendingNot = false;
        ctx.expect = upper === "IN" ? "list" : "value";
        break;
      case "list":
        if (t.kind === "rparen") ctx.expect = "conj";
        break;
      case "value":
        ctx.expect = "conj";
        break;
      case "conj":
        if (t.kind === "rparen") break;
        if (upper === "AND" || upper === "OR") {
          ctx.expect = "field";
          ctx.field = null;
        }
        break;
    }
  }
  return ctx;
}

function matches(candidate: string, typed: string): boolean {
  if (!typed) return true;
  return candidate.toLowerCase().includes(typed.toLowerCase());
}

function rank(items: Suggestion[], typed: string): Suggestion[] {
  const t = typed.toLowerCase();
  return items
    .map((s, i) => ({ s, i, p: s.label.toLowerCase().startsWith(t) ? 0 : 1 }))
    .sort((a, b) => a.p - b.p || a.i - b.i)
    .map((x) => x.s);
}

function fieldSuggestions(typed: string, keys: KnownKeys): Suggestion[] {
  const out: Suggestion[] = [];
  const dot = typed.indexOf(".");
  const entity = dot >= 0 ? ENTITY_ALIASES[typed.slice(0, dot).toLowerCase()] : undefined;
  const add = (prefix: string, list: readonly string[], detail: string, partial: string) => {
    for (const k of list) {
      if (matches(k, partial)) {
        const label = `${prefix}.${quoteKey(k)}`;
        out.push({ label, insert: `${label} `, detail });
      }
    }
  };
  if (entity) {
    const written = typed.slice(0, dot);
    const partial = unquote(typed.slice(dot + 1));
    if (entity === "metrics") add(written, keys.metrics, "metric", partial);
    else if (entity === "params") add(written, keys.params, "param", partial);
    else if (entity === "tags") add(written, keys.tags, "tag", partial);
    else if (entity === "attributes")
      add(written, Object.keys(ATTRIBUTES), "attribute", partial);
    else add(written, DATASET_FIELDS, "dataset", partial);
    return rank(out, typed);
  }
  for (const e of ENTITIES) {
    if (matches(e.prefix, typed)) out.push({ label: e.prefix, insert: e.prefix, detail: e.detail });
  }
  for (const a of Object.keys(ATTRIBUTES)) {
    if (matches(a, typed)) out.push({ label: a, insert: `${a} `, detail: "attribute" });
  }
  if (typed) {
    add("metrics", keys.metrics, "metric", typed);
    add("params", keys.params, "param", typed);
    add("tags", keys.tags, "tag", typed);
  }
  return rank(out, typed).slice(0, 50);
}

function opSuggestions(typed: string, ctx: Context): Suggestion[] {
  const ops = ctx.field?.type === "numeric" ? NUMERIC_OPS : STRING_OPS;
  let list = ops;
  if (ctx.pendingIs) list = ["NULL", "NOT NULL"];
  else if (ctx.pendingNot) list = ["LIKE", "ILIKE", "IN"];
  return list
    .filter((o) => o.toLowerCase().startsWith(typed.toLowerCase()))
    .map((o) => ({ label: o, insert: `${o} `, detail: "operator" }));
}

function valueSuggestions(typed: string, ctx: Context, values: readonly string[]): Suggestion[] {
  const candidates = ctx.field?.attr === "status" ? STATUSES : values;
  const bare = typed.replace(/^'/, "").replace(/'$/, "");
  return candidates
    .filter((v) => matches(v, bare))
    .slice(0, 50)
    .map((v) => ({ label: `'${v.replace(/'/g, "''")}'`, insert: `'${v.replace(/'/g, "''")}' `, detail: "value" }));
}

/**
 * Suggestions at `caret` in `src`. `values(field)` may return known values of the field being
 * compared (e.g. the params seen in the loaded runs).
 */
export function complete(
  src: string,
  caret: number,
  keys: KnownKeys,
  values: (field: string) => readonly string[] = () => [],
): Completion {
  const tokens = tokenize(src.slice(0, caret));
  let current: Tok | undefined = tokens[tokens.length - 1];
  // The token being typed is the last one when it touches the caret and is still open.
  if (
    current &&
    (current.kind === "ws" ||
      current.kind === "lparen" ||
      current.kind === "rparen" ||
      current.kind === "comma" ||
      ((current.kind === "string" || current.kind === "bq") && current.closed))
  ) {
    current = undefined;
  }
  if (current && current.kind === "op" && current.text.length > 0) {
    // An operator being typed: complete it among operators.
    const ctx = contextOf(tokens.slice(0, -1));
    if (ctx.expect === "op") {
      const ops = (ctx.field?.type === "numeric" ? NUMERIC_OPS : STRING_OPS).filter((o) =>
        o.startsWith(current!.text),
      );
      return { from: current.start, to: caret, items: ops.map((o) => ({ label: o, insert: `${o} `, detail: "operator" })) };
    }
  }
  const before = current ? tokens.slice(0, -1) : tokens;
  const ctx = contextOf(before);
  const typed = current?.text ?? "";
  const from = current ? current.start : caret;
  let items: Suggestion[] = [];
  switch (ctx.expect) {
    case "field":
      items = fieldSuggestions(typed, keys);
      break;
    case "op":
      items = opSuggestions(typed, ctx);
      break;
    case "value":
    case "list": {
      let fieldTok: Tok | undefined;
      for (let i = before.length - 1; i >= 0; i--) {
        const t = before[i]!;
        if (t.kind === "word" && fieldOf(t.text)) {
          fieldTok = t;
          break;
        }
      }
      items = valueSuggestions(typed, ctx, fieldTok ? values(fieldTok.text) : []);
      if (ctx.expect === "list" && !before.some((t) => t.kind === "lparen" && t.start > (fieldTok?.end ?? 0))) {
        items = [{ label: "(", insert: "(", detail: "a list of values" }];
      }
      break;
    }
    case "conj":
      items = ["AND", "OR"]
        .filter((c) => c.toLowerCase().startsWith(typed.toLowerCase()))
        .map((c) => ({ label: c, insert: `${c} `, detail: "conjunction" }));
      break;
  }
  return { from, to: caret, items };
}

/** Apply a suggestion: the new text and caret. */
export function applySuggestion(src: string, c: Completion, s: Suggestion): { text: string; caret: number } {
  const text = src.slice(0, c.from) + s.insert + src.slice(c.to);
  return { text, caret: c.from + s.insert.length };
}
