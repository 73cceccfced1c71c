// Download of an artifact folder: its files are listed and fetched one by one, then zipped in
// the browser (the server streams single files; it has no folder archive endpoint).

import { type Zippable, zipSync } from "fflate";
import { fetchRaw } from "../api/client";
import type { FileInfo } from "../api/types";
import type { ArtifactSource } from "./artifactSource";

/** The most bytes a folder download gathers in the page's memory. */
export const MAX_ZIP_BYTES = 512 * 1024 * 1024;
const STORED = /\.(png|jpe?g|gif|webp|zip|gz|tgz|bz2|xz|zst|7z|parquet|pkl|pt|pth|onnx|npz|whl)$/i;

/** Every file under `path` (recursively), with its path relative to the source's root. */
export async function listTree(source: ArtifactSource, path: string, signal?: AbortSignal): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  const pending = [path];
  while (pending.length) {
    const dir = pending.shift()!;
    const { files } = await source.list(dir, signal);
    for (const f of files) {
      if (f.is_dir) pending.push(f.path);
      else out.push(f);
    }
  }
  return out;
}

/**
 * The zip archive entries for files under `folder`: names relative to the folder's parent, so
 * that the archive unpacks into one directory named like the folder.
 */
export function entryName(folder: string, file: string): string {
  const parent = folder.includes("/") ? folder.slice(0, folder.lastIndexOf("/") + 1) : "";
  return file.startsWith(parent) ? file.slice(parent.length) : file;
}

export function buildZip(entries: { name: string; data: Uint8Array }[]): Uint8Array {
  const tree: Zippable = {};
  for (const e of entries) tree[e.name] = [e.data, { level: STORED.test(e.name) ? 0 : 6 }];
  return zipSync(tree);
}

export async function zipFolder(
  source: ArtifactSource,
  folder: string,
  onProgress: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<Blob> {
  const files = await listTree(source, folder, signal);
  const total = files.reduce((n, f) => n + (f.file_size ?? 0), 0);
  if (total > MAX_ZIP_BYTES) {
    throw new Error(
      `The folder holds ${files.length} files of ${Math.round(total / 1048576)} MB in all, more than the ` +
        `${MAX_ZIP_BYTES / 1048576} MB a browser download gathers; download its files one by one or with ` +
        "`mltrail artifacts download`.",
    );
  }
  const entries: { name: string; data: Uint8Array }[] = [];
  for (let i = 0; i < files.length; i++) {
    onProgress(i, files.length);
    const f = files[i]!;
    const response = await fetchRaw(source.url(f.path), signal);
    entries.push({ name: entryName(folder, f.path), data: new Uint8Array(await response.arrayBuffer()) });
  }
  onProgress(files.length, files.length);
  const bytes = buildZip(entries);
  return new Blob([bytes as BlobPart], { type: "application/zip" });
}
