import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * What `put` remembers about an unfinished upload of a file, so that running
 * the same command again resumes it: the resume token (which holds only the
 * wrapped data key), the source's identity, and a SHA-256 of every part
 * uploaded, so a changed source is refused rather than mixed.
 */
export interface UploadJournal {
  readonly version: 1;
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  readonly source: { readonly path: string; readonly size: number; readonly mtimeMs: number; readonly ino: number };
  readonly partSize: number;
  readonly resumeToken: string;
  /** Part number → SHA-256 (hex) of the part's plaintext, for parts S3 acknowledged. */
  readonly partHashes: Record<string, string>;
}

/** Where journals live: --state-dir, $ENCRYPTED_STREAM_STATE_DIR, $XDG_STATE_HOME/encrypted-stream or ~/.local/state/encrypted-stream. */
export function stateDirectory(flag: string | undefined): string {
  return (
    flag ??
    process.env.ENCRYPTED_STREAM_STATE_DIR ??
    join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'encrypted-stream')
  );
}

/** The journal file for one (endpoint, bucket, key, source path). */
export function journalPath(directory: string, endpoint: string, bucket: string, key: string, source: string): string {
  const id = createHash('sha256')
    .update(JSON.stringify([endpoint, bucket, key, source]))
    .digest('hex')
    .slice(0, 32);
  return join(directory, `upload-${id}.json`);
}

/** Reads a journal; undefined when there is none (or it is unreadable, which is treated as none). */
export async function readJournal(path: string): Promise<UploadJournal | undefined> {
  try {
    const journal = JSON.parse(await readFile(path, 'utf8')) as UploadJournal;
    return journal.version === 1 ? journal : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a journal atomically (temp file + rename), mode 0600. */
export async function writeJournal(path: string, journal: UploadJournal): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(journal), { mode: 0o600 });
  await rename(temp, path);
}

/** Removes a journal once its upload completed or was abandoned. */
export async function removeJournal(path: string): Promise<void> {
  await unlink(path).catch(() => {});
}
