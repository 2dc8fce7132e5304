import { type FileHandle, open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { readFully } from '@encrypted-stream/codec/node';
import { EncryptedMultipartUpload } from '@encrypted-stream/s3';
import { describeError } from './errors-to-exit';
import { CliError, ExitCode, usageError } from './exit-codes';
import { formatBytes } from './human-units';
import { interrupted } from './interrupt';
import { DataKeyCapture, JournalKey } from './journal-key';
import { forEachLimit } from './map-limit';
import { Progress } from './progress';
import { checkStoredParts, resumeUpload } from './put-resume';
import type { PutSettings } from './put-settings';
import { identityChange, type SourceIdentity, sourceIdentity } from './source-identity';
import {
  journalKeyPath,
  journalPath,
  removeJournal,
  sealBinding,
  stateDirectory,
  type UploadJournal,
  writeJournal,
} from './upload-journal';

/** A regular file opened for `put`, with its identity as opened. */
export interface SourceFile {
  /** As the user named it (for messages). */
  readonly path: string;
  readonly absolutePath: string;
  readonly handle: FileHandle;
  readonly identity: SourceIdentity;
  readonly size: number;
}

/** Opens `path` for `put`: a regular file only (stat first: opening a FIFO would block). */
export async function openSourceFile(path: string): Promise<SourceFile> {
  const absolutePath = resolve(path);
  if (!(await stat(absolutePath)).isFile()) throw usageError(`${path} is not a regular file`);
  const handle = await open(absolutePath, 'r');
  try {
    // The identity of the file opened, not of whatever the path names later.
    const identity = sourceIdentity(absolutePath, await handle.stat({ bigint: true }));
    return { path, absolutePath, handle, identity, size: Number(identity.size) };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** `--restart`, `--verify-source`, `--state-dir`. */
export interface PutFileOptions {
  readonly restart: boolean;
  readonly verifySource: boolean;
  readonly stateDir: string | undefined;
}

const partLength = (n: number, partSize: number, size: number) =>
  Math.max(0, Math.min(partSize, size - (n - 1) * partSize));

/** Reads part `n` into `buffer` (a fresh one when absent), returning the part's bytes. */
async function readPart(file: SourceFile, n: number, partSize: number, buffer?: Buffer) {
  const length = partLength(n, partSize, file.size);
  const into = buffer ? buffer.subarray(0, length) : Buffer.allocUnsafe(length);
  const read = await readFully(file.handle, into, (n - 1) * partSize);
  if (read.length < length) throw new CliError(ExitCode.SOURCE_CHANGED, 'the source file shrank during the upload');
  return into;
}

/** Exit 6 when the file was written to while it was read: what was read may mix versions. */
async function assertUnchanged(file: SourceFile, destination: string, outcome: string): Promise<void> {
  const change = identityChange(
    file.identity,
    sourceIdentity(file.absolutePath, await file.handle.stat({ bigint: true })),
  );
  if (change) {
    throw new CliError(
      ExitCode.SOURCE_CHANGED,
      `${file.path} changed during the upload to ${destination} (its ${change} differs); ${outcome}`,
    );
  }
}

/**
 * Uploads a file with its plaintext size recorded in the header: one
 * PutObject through the encrypting client when it fits in one part, else a
 * parallel multipart upload that resumes an interrupted one of the same file
 * to the same object (put-resume.ts decides whether there is one to resume).
 */
export async function putFile(settings: PutSettings, file: SourceFile, options: PutFileOptions): Promise<void> {
  const { context, plain, bucket, key, layout, signal } = settings;
  const endpoint = context.options.endpoint ?? 'aws';
  const target = { endpoint, bucket, key, sourcePath: file.absolutePath };
  const journalFile = journalPath(stateDirectory(options.stateDir), target);
  // First, even for a small file: an interrupted upload is resumed, refused or (--restart) abandoned.
  const resumed = await resumeUpload({
    client: plain,
    keyId: settings.keyId,
    target,
    journalFile,
    source: file.identity,
    displayPath: file.path,
    restart: options.restart,
    verifySource: options.verifySource,
    layout,
    debug: (message) => context.debug(message),
  });
  if (!resumed && file.size <= layout.partSize) return putWhole(settings, file);
  if (resumed) await checkStoredParts(resumed, (n) => readPart(file, n, layout.partSize), file.path);
  const { upload: active, journalKey, sealedDataKey } = resumed ?? (await startUpload(settings, file, journalFile));
  const { partSize } = active;
  const parts = Math.max(1, Math.ceil(file.size / partSize));
  const stored = resumed?.parts ?? new Map<number, string | undefined>();
  // Digests only when asked for (or the journal already keeps them): otherwise nothing is hashed.
  const digests = resumed ? resumed.digests : options.verifySource;
  const state: UploadJournal = {
    version: 3,
    endpoint,
    bucket,
    key,
    source: file.identity,
    partSize,
    chunkSize: layout.chunkSize,
    uploadId: active.uploadId,
    resumeToken: active.resumeToken,
    parts: [...stored.keys()],
    ...(digests ? { partDigests: Object.fromEntries([...stored].map(([n, d]) => [String(n), d as string])) } : {}),
    dataKey: sealedDataKey,
  };
  let saving = writeJournal(journalFile, state, journalKey);
  const record = (part: number, digest: string | undefined) => {
    state.parts.push(part);
    if (state.partDigests && digest !== undefined) state.partDigests[String(part)] = digest;
    saving = saving.then(() => writeJournal(journalFile, state, journalKey)); // one write at a time, newest last
    return saving;
  };
  await saving;

  const progress = new Progress(`put s3://${bucket}/${key}`, file.size, context.showProgress);
  const todo: number[] = [];
  for (let n = 1; n <= parts; n++) {
    if (stored.has(n)) progress.addResumed(partLength(n, partSize, file.size));
    else todo.push(n);
  }
  // One part buffer per worker, reused: a fresh 8 MiB buffer per part cost page faults
  // and mark-compacts (the GC's external-memory trigger). uploadPart has encrypted the
  // plaintext by the time it resolves, so the buffer is free again then.
  const buffers: Buffer[] = [];
  const t0 = performance.now();
  try {
    await forEachLimit(todo, settings.concurrency, async (n) => {
      if (signal.aborted) throw interrupted(bucket, key, 'resumable');
      const buffer = buffers.pop() ?? Buffer.allocUnsafe(partSize);
      const data = await readPart(file, n, partSize, buffer);
      const [digest] = await Promise.all([
        digests ? active.partDigest(n, data) : undefined,
        active.uploadPart(n, data, { isLastPart: n === parts, abortSignal: signal }),
      ]);
      buffers.push(buffer);
      await record(n, digest);
      progress.add(data.length);
    });
  } catch (error) {
    await saving.catch(() => {});
    if (signal.aborted) throw interrupted(bucket, key, 'resumable');
    if (error instanceof CliError) throw error;
    const described = describeError(error);
    throw new CliError(
      described.exitCode,
      `${described.message} — the upload is saved: run the same command again to resume`,
      { cause: error },
    );
  }
  await saving;
  // Written to while it was read? Then the parts may mix versions: keep the upload, do not complete it.
  await assertUnchanged(file, `s3://${bucket}/${key}`, 'not completing it (use --restart to start over)');
  const done = await active.complete();
  await removeJournal(journalFile);
  progress.finish();
  const seconds = (performance.now() - t0) / 1000;
  context.report(
    {
      bucket,
      key,
      plaintextBytes: file.size,
      parts,
      partsUploaded: todo.length,
      partsResumed: parts - todo.length,
      seconds,
      etag: done.ETag,
    },
    `uploaded ${formatBytes(file.size)} to s3://${bucket}/${key} in ${parts} part(s)` +
      (todo.length < parts ? ` (${parts - todo.length} resumed)` : '') +
      ` in ${seconds.toFixed(1)} s`,
  );
}

/**
 * Starts a multipart upload of `file` and makes its journal key: the data key
 * the keyring wraps is kept (a copy, through {@link DataKeyCapture}) just long
 * enough to seal it under a new journal key, so that a rerun resumes without
 * unwrapping. The journal key file is written before the first journal.
 */
async function startUpload(settings: PutSettings, file: SourceFile, journalFile: string) {
  const { plain, keyring, bucket, key, layout, context } = settings;
  const capture = new DataKeyCapture(keyring);
  const upload = await EncryptedMultipartUpload.create(
    plain,
    { Bucket: bucket, Key: key },
    { keyring: capture, partSize: layout.partSize, chunkSize: layout.chunkSize, plaintextSize: file.size },
  );
  const dataKey = capture.take();
  try {
    const journalKey = await JournalKey.create(journalKeyPath(journalFile));
    const endpoint = context.options.endpoint ?? 'aws';
    const binding = sealBinding({ endpoint, bucket, key, source: file.identity, uploadId: upload.uploadId });
    return { upload, journalKey, sealedDataKey: journalKey.seal(dataKey, binding) };
  } catch (error) {
    await upload.abort().catch(() => {}); // no journal, so nothing could ever resume it
    throw error;
  } finally {
    dataKey.fill(0);
  }
}

/**
 * A file that fits in one part: read whole, then one PutObject through the
 * encrypting client (which records the size), instead of the four requests
 * of a multipart upload. Nothing to resume: an interrupted run just sends again.
 */
async function putWhole(settings: PutSettings, file: SourceFile): Promise<void> {
  const { context, bucket, key, signal } = settings;
  const destination = `s3://${bucket}/${key}`;
  const progress = new Progress(`put ${destination}`, file.size, context.showProgress);
  const t0 = performance.now();
  const data = await readPart(file, 1, Math.max(1, file.size));
  await assertUnchanged(file, destination, 'nothing was uploaded');
  const client = await settings.encrypting();
  let etag: string | undefined;
  try {
    ({ ETag: etag } = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }), {
      abortSignal: signal,
    }));
  } catch (error) {
    if (signal.aborted) throw interrupted(bucket, key, 'single request');
    throw error;
  }
  progress.add(file.size);
  progress.finish();
  const seconds = (performance.now() - t0) / 1000;
  context.report(
    { bucket, key, plaintextBytes: file.size, parts: 1, partsUploaded: 1, partsResumed: 0, seconds, etag },
    `uploaded ${formatBytes(file.size)} to ${destination} in one request in ${seconds.toFixed(1)} s`,
  );
}
