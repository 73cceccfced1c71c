// Markdown (marked + DOMPurify) and the artifact previews (YAML, zip) load on demand, in their
// own chunks: the runs table and the charts, the pages people open first, do not parse them.

import { Suspense, lazy } from "react";
import type { ArtifactSource } from "../lib/artifactSource";
import { Loading } from "./common";

const MarkdownHtml = lazy(() => import("./MarkdownHtml").then((m) => ({ default: m.Markdown })));
const Browser = lazy(() => import("./Artifacts").then((m) => ({ default: m.ArtifactBrowser })));
const MLmodel = lazy(() => import("./Artifacts").then((m) => ({ default: m.MLmodelView })));

/** Markdown rendered to sanitized HTML; the text as it is while the renderer loads. */
export function Markdown({ text }: { text: string }) {
  return (
    <Suspense fallback={<div className="markdown">{text}</div>}>
      <MarkdownHtml text={text} />
    </Suspense>
  );
}

export function ArtifactBrowser(props: { source: ArtifactSource; initialPath?: string | undefined }) {
  return (
    <Suspense fallback={<Loading what="artifacts" />}>
      <Browser {...props} />
    </Suspense>
  );
}

export function MLmodelView(props: { text: string }) {
  return (
    <Suspense fallback={<Loading />}>
      <MLmodel {...props} />
    </Suspense>
  );
}
