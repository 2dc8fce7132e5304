import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { canonicalJson, JournalKey } from './journal-key';
import { isSourceIdentity, type SourceIdentity } from './source-identity';

/**
 * What `put` remembers about an unfinished upload of a file, so that running
 * the same command again resumes it: the destination, the resume token (the
 * wrapped data key, and a MAC under that key), the upload's data key sealed
 * under the journal's own key, the source's identity and the parts S3
 * acknowledged. The data key is what lets a host that cannot unwrap (a
 * recipient without its identity, KMS Encrypt without Decrypt) resume its own
 * upload; it is kept only until the upload completes or is abandoned, then
 * the journal and its key file are deleted (journal-key.ts).
 *
 * The file holds this and `mac`, an HMAC over all of it under the journal
 * key: a journal edited in any field, or not written with its key file, is
 * refused. No plaintext digest unless `--verify-source` asked for one, and
 * then a keyed one (HMAC under a key derived from the upload's data key): the
 * journal never lets its reader confirm a guess of the plaintext.
 */
export interface UploadJournal {
  readonly version: 3;
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  readonly source: SourceIdentity;
  readonly partSize: number;
  /** Plaintext bytes per chunk. */
  readonly chunkSize: number;
  /** S3's id of the upload, so `--restart` can abort it even when its token no longer opens. */
  readonly uploadId: string;
  readonly resumeToken: string;
  /** Part numbers S3 acknowledged. */
  readonly parts: number[];
  /** With `--verify-source` only: part number → `upload.partDigest` of the part's plaintext (hex). */
  readonly partDigests?: Record<string, string>;
  /** The upload's data key, sealed under the journal key ({@link JournalKey.seal}, {@link sealBinding}). */
  readonly dataKey: string;
}

/** The command's own destination and source, which a journal must name exactly. */
export interface JournalTarget {
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  readonly sourcePath: string;
}

/**
 * A journal as found on disk: none; `outdated` (written by an older version:
 * one that kept unkeyed plaintext hashes, or one that kept no data key and
 * resumed by unwrapping it); `invalid` (unreadable, misshapen, naming another
 * destination or source — its file name is derived from exactly those —,
 * without its key file, or failing its MAC: it was altered); or `found`, with
 * its key and the upload's data key, unsealed.
 */
export type JournalRead =
  | { readonly state: 'none' }
  | { readonly state: 'outdated'; readonly uploadId?: string }
  | { readonly state: 'invalid'; readonly reason: string }
  | {
      readonly state: 'found';
      readonly journal: UploadJournal;
      readonly journalKey: JournalKey;
      readonly dataKey: Uint8Array;
    };

/** Where journals live: --state-dir, $ENCRYPTED_STREAM_STATE_DIR, $XDG_STATE_HOME/encrypted-stream or ~/.local/state/encrypted-stream. */
export function stateDirectory(flag: string | undefined): string {
  return (
    flag ??
    process.env.ENCRYPTED_STREAM_STATE_DIR ??
    join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'encrypted-stream')
  );
}

/** The journal file for one (endpoint, bucket, key, source path); its key file is {@link journalKeyPath}. */
export function journalPath(directory: string, target: JournalTarget): string {
  const id = createHash('sha256')
    .update(JSON.stringify([target.endpoint, target.bucket, target.key, target.sourcePath]))
    .digest('hex')
    .slice(0, 32);
  return join(directory, `upload-${id}.json`);
}

/** The key file of the journal at `journalFile`: `upload-ID.key` beside `upload-ID.json`. */
export function journalKeyPath(journalFile: string): string {
  return journalFile.replace(/\.json$/, '.key');
}

/** What the sealed data key is bound to: the journal's destination, source path and upload. */
export function sealBinding(
  journal: Pick<UploadJournal, 'endpoint' | 'bucket' | 'key' | 'source' | 'uploadId'>,
): string {
  return canonicalJson([
    'encrypted-stream cli journal v3',
    journal.endpoint,
    journal.bucket,
    journal.key,
    journal.source.path,
    journal.uploadId,
  ]);
}

const isPartNumber = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 1;

/** Why `value` is not a version-3 journal for `target`, or undefined when it is one. */
function defect(value: Record<string, unknown>, target: JournalTarget): string | undefined {
  for (const field of ['endpoint', 'bucket', 'key'] as const) {
    if (value[field] !== target[field]) return `it names another ${field}`;
  }
  if (!isSourceIdentity(value.source)) return 'its source is malformed';
  if (value.source.path !== target.sourcePath) return 'it names another source file';
  if (!isPartNumber(value.partSize)) return 'its part size is malformed';
  if (!isPartNumber(value.chunkSize)) return 'its chunk size is malformed';
  if (typeof value.uploadId !== 'string') return 'its upload id is missing';
  if (typeof value.resumeToken !== 'string') return 'its resume token is missing';
  if (!Array.isArray(value.parts) || !value.parts.every(isPartNumber)) return 'its part list is malformed';
  const digests = value.partDigests;
  if (digests !== undefined) {
    if (typeof digests !== 'object' || digests === null) return 'its part digests are malformed';
    if (!Object.values(digests).every((d) => typeof d === 'string')) return 'its part digests are malformed';
  }
  if (typeof value.dataKey !== 'string') return 'its sealed data key is missing';
  return undefined;
}

/**
 * Reads and checks the journal at `path` against the command's destination
 * and source, then against its key file: the MAC over every field, and the
 * sealed data key.
 */
export async function readJournal(path: string, target: JournalTarget): Promise<JournalRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return { state: 'none' };
    return { state: 'invalid', reason: `it cannot be read (${(error as Error).message})` };
  }
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text);
    if (typeof value !== 'object' || value === null) throw new TypeError('not an object');
  } catch {
    return { state: 'invalid', reason: 'it is not valid JSON' }; // written by rename, never half-written
  }
  if (value.version === 1 || value.version === 2) {
    // Version 2 kept no data key (resume unwrapped it with the keyring) and had no MAC of its own.
    const uploadId = value.version === 2 ? value.uploadId : legacyUploadId(value.resumeToken);
    return { state: 'outdated', ...(typeof uploadId === 'string' ? { uploadId } : {}) };
  }
  if (value.version !== 3)
    return { state: 'invalid', reason: `its version ${JSON.stringify(value.version)} is unknown` };
  const why = defect(value, target);
  if (why) return { state: 'invalid', reason: why };
  const keyFile = journalKeyPath(path);
  const journalKey = await JournalKey.read(keyFile);
  if (journalKey === 'missing') return { state: 'invalid', reason: `its key file ${keyFile} is missing` };
  if (!(journalKey instanceof JournalKey)) return { state: 'invalid', reason: journalKey.invalid };
  const { mac, ...fields } = value;
  if (!journalKey.verify(fields, mac)) {
    return { state: 'invalid', reason: 'it failed authentication under its key file (edited, or not written with it)' };
  }
  const journal = fields as unknown as UploadJournal;
  const dataKey = journalKey.open(journal.dataKey, sealBinding(journal));
  if (!dataKey) return { state: 'invalid', reason: 'its sealed data key does not open' };
  return { state: 'found', journal, journalKey, dataKey };
}

/**
 * The upload id in a version-1 journal's resume token (base64url JSON, field
 * `u`), which that version's journal did not keep on its own. Only `--restart`
 * uses it, to abort the old upload at the command's own destination.
 */
function legacyUploadId(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  try {
    const u = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')).u;
    return typeof u === 'string' ? u : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a journal with its MAC under `journalKey`, atomically (temp file + rename), mode 0600. */
export async function writeJournal(path: string, journal: UploadJournal, journalKey: JournalKey): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify({ ...journal, mac: journalKey.mac(journal) }), { mode: 0o600 });
  await rename(temp, path);
}

/**
 * Removes a journal, the temporary files of writes that never reached their
 * rename (a process killed mid-write leaves one), and then its key file, once
 * its upload completed or was abandoned: the data key it sealed can no longer
 * be recovered from any copy.
 */
export async function removeJournal(path: string): Promise<void> {
  await unlink(path).catch(() => {});
  const name = basename(path);
  const stale = (await readdir(dirname(path)).catch(() => [] as string[])).filter(
    (entry) => entry.startsWith(`${name}.`) && entry.endsWith('.tmp'),
  );
  for (const entry of stale) await unlink(join(dirname(path), entry)).catch(() => {});
  await JournalKey.remove(journalKeyPath(path));
}
