// Evaluation plots: images in a grid, each opening enlarged in a lightbox (Escape, a click
// outside or the close button shuts it; the arrow keys step through the plots shown with it).

import { useEffect, useRef, useState } from "react";

export interface Plot {
  /** The plot's name ("roc_curve_plot"). */
  name: string;
  url: string;
  /** What else to say under it (a run's name in a comparison). */
  caption?: string | undefined;
}

/** "roc_curve_plot" -> "ROC curve", "precision_recall_curve_plot" -> "Precision-recall curve". */
export function plotTitle(name: string): string {
  const known: Record<string, string> = {
    confusion_matrix: "Confusion matrix",
    roc_curve_plot: "ROC curve",
    precision_recall_curve_plot: "Precision-recall curve",
    lift_curve_plot: "Lift curve",
    calibration_curve_plot: "Calibration curve",
    shap_beeswarm_plot: "SHAP beeswarm",
    shap_summary_plot: "SHAP summary",
    shap_feature_importance_plot: "SHAP feature importance",
  };
  return known[name] ?? name.replace(/_/g, " ");
}

export function PlotFigure({ plot, onOpen }: { plot: Plot; onOpen: () => void }) {
  const title = plotTitle(plot.name);
  return (
    <figure className="eval-plot" data-plot={plot.name}>
      <button type="button" className="eval-plot-open" onClick={onOpen} title={`Enlarge: ${title}`} aria-label={`Enlarge ${title}${plot.caption ? ` of ${plot.caption}` : ""}`}>
        <img src={plot.url} alt={`${title}${plot.caption ? ` of ${plot.caption}` : ""}`} loading="lazy" />
      </button>
      <figcaption>
        {title}
        {plot.caption ? <span className="muted"> · {plot.caption}</span> : null}
      </figcaption>
    </figure>
  );
}

/** A grid of plots with a shared lightbox. */
export function PlotGrid({ plots }: { plots: Plot[] }) {
  const [open, setOpen] = useState<number | null>(null);
  return (
    <>
      <div className="eval-plots" data-testid="eval-plots">
        {plots.map((p, i) => <PlotFigure key={p.url} plot={p} onOpen={() => setOpen(i)} />)}
      </div>
      {open !== null ? <Lightbox plots={plots} index={open} onIndex={setOpen} onClose={() => setOpen(null)} /> : null}
    </>
  );
}

export function Lightbox({ plots, index, onIndex, onClose }: { plots: Plot[]; index: number; onIndex: (i: number) => void; onClose: () => void }) {
  const plot = plots[index];
  const close = useRef<HTMLButtonElement>(null);
  // Focus moves into the dialog (on its close button) and back where it was when it closes.
  useEffect(() => {
    const before = document.activeElement;
    close.current?.focus();
    return () => {
      if (before instanceof HTMLElement) before.focus();
    };
  }, []);
  useEffect(() => {
    const key = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
      else if (e.key === "ArrowRight" && index < plots.length - 1) onIndex(index + 1);
      else if (e.key === "ArrowLeft" && index > 0) onIndex(index - 1);
    };
    document.addEventListener("keydown", key);
    return () => document.removeEventListener("keydown", key);
  }, [index, plots.length, onIndex, onClose]);
  if (!plot) return null;
  const title = plotTitle(plot.name);
  return (
    <div className="modal-back" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal eval-lightbox" role="dialog" aria-label={`${title}${plot.caption ? ` of ${plot.caption}` : ""}`} data-testid="plot-lightbox">
        <div className="title-row">
          <h2>{title}</h2>
          {plot.caption ? <span className="muted">{plot.caption}</span> : null}
          <span className="spacer" />
          {plots.length > 1 ? <span className="muted small">{index + 1} of {plots.length}</span> : null}
          <button onClick={() => onIndex(index - 1)} disabled={index === 0} aria-label="Previous plot">‹</button>
          <button onClick={() => onIndex(index + 1)} disabled={index === plots.length - 1} aria-label="Next plot">›</button>
          <a className="btn" href={plot.url} download>Download</a>
          <button ref={close} onClick={onClose} aria-label="Close">✕</button>
        </div>
        <img src={plot.url} alt={title} />
      </div>
    </div>
  );
}
