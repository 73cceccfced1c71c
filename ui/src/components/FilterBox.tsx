import { useEffect, useMemo, useRef, useState } from "react";
import { type Completion, type KnownKeys, applySuggestion, complete } from "../lib/filterComplete";

export function FilterBox(props: {
  value: string;
  keys: KnownKeys;
  values: (field: string) => readonly string[];
  onSubmit: (filter: string) => void;
  errorPosition: number | null;
  bad: boolean;
}) {
  const [text, setText] = useState(props.value);
  const [caret, setCaret] = useState(props.value.length);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const ref = useRef<HTMLInputElement>(null);

  useEffect(() => setText(props.value), [props.value]);
  useEffect(() => {
    // Put the caret where the server found the problem.
    if (props.errorPosition !== null && ref.current && document.activeElement !== ref.current) {
      ref.current.focus();
      ref.current.setSelectionRange(props.errorPosition, props.errorPosition);
    }
  }, [props.errorPosition]);

  const completion: Completion | null = useMemo(
    () => (open ? complete(text, caret, props.keys, props.values) : null),
    [open, text, caret, props.keys, props.values],
  );
  const items = completion?.items ?? [];
  const shown = open && items.length > 0;

  const accept = (i: number) => {
    const s = items[i];
    if (!completion || !s) return;
    const r = applySuggestion(text, completion, s);
    setText(r.text);
    setCaret(r.caret);
    setActive(0);
    requestAnimationFrame(() => ref.current?.setSelectionRange(r.caret, r.caret));
  };

  return (
    <div className="filter">
      <input
        ref={ref}
        className={props.bad ? "bad" : ""}
        value={text}
        spellCheck={false}
        autoComplete="off"
        aria-label="Filter runs"
        placeholder="Filter runs: metrics.acc > 0.9 AND (params.model = 'rf' OR tags.team = 'a')"
        onChange={(e) => {
          setText(e.target.value);
          setCaret(e.target.selectionStart ?? e.target.value.length);
          setOpen(true);
          setActive(0);
        }}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 120)}
        onKeyDown={(e) => {
          if (shown && e.key === "ArrowDown") {
            e.preventDefault();
            setActive((a) => (a + 1) % items.length);
          } else if (shown && e.key === "ArrowUp") {
            e.preventDefault();
            setActive((a) => (a - 1 + items.length) % items.length);
          } else if (shown && e.key === "Tab") {
            e.preventDefault();
            accept(active);
          } else if (e.key === "Enter") {
            e.preventDefault();
            setOpen(false);
            props.onSubmit(text.trim());
          } else if (e.key === "Escape") {
            setOpen(false);
          }
        }}
      />
      {shown ? (
        <div className="suggest" role="listbox" aria-label="Suggestions">
          {items.slice(0, 60).map((s, i) => (
            <div
              key={s.label + i}
              role="option"
              aria-selected={i === active}
              className={i === active ? "on" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(i);
              }}
              onMouseEnter={() => setActive(i)}
            >
              <span>{s.label}</span>
              <span className="detail">{s.detail}</span>
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}
