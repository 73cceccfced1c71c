// Where an artifact browser reads files: a run's artifacts, or (MLflow 3) a logged model's.

import {
  artifactUrl,
  listArtifacts,
  listLoggedModelArtifacts,
  loggedModelArtifactUrl,
} from "../api/endpoints";
import type { FileInfo } from "../api/types";

export interface ArtifactSource {
  /** Names the source; equal keys list the same files. */
  key: string;
  /** The direct children of a folder ("" for the root), paths relative to the root. */
  list(path: string, signal?: AbortSignal): Promise<{ files: FileInfo[] }>;
  /** The URL of one file. */
  url(path: string): string;
}

export function runArtifacts(runId: string): ArtifactSource {
  return {
    key: `run:${runId}`,
    list: (path, signal) => listArtifacts(runId, path, signal),
    url: (path) => artifactUrl(runId, path),
  };
}

export function loggedModelArtifacts(modelId: string): ArtifactSource {
  return {
    key: `model:${modelId}`,
    list: (path, signal) => listLoggedModelArtifacts(modelId, path, signal),
    url: (path) => loggedModelArtifactUrl(modelId, path),
  };
}
