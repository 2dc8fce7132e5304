import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** What the crash uploader persists as it goes (atomically: write then rename). */
export interface UploadStateFile {
  /** `EncryptedMultipartUpload.resumeToken`, once the upload exists. */
  readonly token?: string;
  /** Part numbers whose UploadPart returned, in completion order. */
  readonly done: number[];
}

export function readState(path: string): UploadStateFile {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as UploadStateFile;
    return { token: parsed.token, done: Array.isArray(parsed.done) ? parsed.done : [] };
  } catch {
    return { done: [] };
  }
}

export function writeState(path: string, state: UploadStateFile): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, path);
}
