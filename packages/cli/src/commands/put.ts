import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LocalKeyring } from '@encrypted-stream/codec';
import { readFully } from '@encrypted-stream/codec/node';
import { DEFAULT_PART_SIZE, EncryptedMultipartUpload } from '@encrypted-stream/s3';
import type { Command, OptionValues } from '../command';
import { stringOption } from '../command';
import type { CommandContext } from '../command-context';
import { describeError } from '../errors-to-exit';
import { CliError, ExitCode, usageError } from '../exit-codes';
import { Progress } from '../progress';
import { checkStoredParts, resumeUpload } from '../put-resume';
import { parseS3Url } from '../s3-url';
import { formatBytes, parseSize } from '../sizes';
import { identityChange, sourceIdentity } from '../source-identity';
import { journalPath, removeJournal, stateDirectory, type UploadJournal, writeJournal } from '../upload-journal';

/** Runs `worker` over `items` with at most `limit` in flight; stops at the first failure. */
async function inParallel<T>(items: T[], limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const run = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await worker(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, run));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/** Ctrl-C: abort in-flight requests and let the command finish cleanly with exit code 130. */
function interruptible() {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

interface PutSettings {
  readonly context: CommandContext;
  readonly client: S3Client;
  readonly keyring: LocalKeyring;
  readonly bucket: string;
  readonly key: string;
  readonly partSize: number;
  readonly concurrency: number;
  readonly signal: AbortSignal;
}

/**
 * Uploads a file with its plaintext size recorded in the header, resuming an
 * interrupted upload of the same file to the same object (put-resume.ts
 * decides whether there is one to resume).
 */
async function putFile(settings: PutSettings, path: string, values: OptionValues) {
  const { context, client, keyring, bucket, key, signal } = settings;
  const source = resolve(path);
  if (!(await stat(source)).isFile()) throw usageError(`${path} is not a regular file`); // before open(): a FIFO would block
  const verifySource = values['verify-source'] === true;
  const handle = await open(source, 'r');
  try {
    // The identity of the file opened, not of whatever the path names later.
    const identity = sourceIdentity(source, await handle.stat({ bigint: true }));
    const size = Number(identity.size);
    const endpoint = context.options.endpoint ?? 'aws';
    const target = { endpoint, bucket, key, sourcePath: source };
    const journalFile = journalPath(stateDirectory(stringOption(values, 'state-dir')), target);
    const resumed = await resumeUpload({
      client,
      keyring,
      target,
      journalFile,
      source: identity,
      displayPath: path,
      restart: values.restart === true,
      verifySource,
      debug: (message) => context.debug(message),
    });
    if (resumed) {
      const partSize = resumed.upload.partSize;
      await checkStoredParts(resumed, (n) => readPart(handle, n, partSize, size), path);
    }
    const active =
      resumed?.upload ??
      (await EncryptedMultipartUpload.create(
        client,
        { Bucket: bucket, Key: key },
        { keyring, partSize: settings.partSize, plaintextSize: size },
      ));
    const partSize = active.partSize;
    const parts = Math.max(1, Math.ceil(size / partSize));
    const stored = resumed?.parts ?? new Map<number, string | undefined>();
    // Digests only when asked for (or the journal already keeps them): otherwise nothing is hashed.
    const digests = resumed ? resumed.digests : verifySource;
    const state: UploadJournal = {
      version: 2,
      endpoint,
      bucket,
      key,
      source: identity,
      partSize,
      uploadId: active.uploadId,
      resumeToken: active.resumeToken,
      parts: [...stored.keys()],
      ...(digests ? { partDigests: Object.fromEntries([...stored].map(([n, d]) => [String(n), d as string])) } : {}),
    };
    let saving = writeJournal(journalFile, state);
    const record = (part: number, digest: string | undefined) => {
      state.parts.push(part);
      if (state.partDigests && digest !== undefined) state.partDigests[String(part)] = digest;
      saving = saving.then(() => writeJournal(journalFile, state)); // one write at a time, newest last
      return saving;
    };
    await saving;

    const progress = new Progress(`put s3://${bucket}/${key}`, size, context.showProgress);
    const todo: number[] = [];
    for (let n = 1; n <= parts; n++) {
      if (stored.has(n)) progress.add(partLength(n, partSize, size));
      else todo.push(n);
    }
    const t0 = performance.now();
    try {
      await inParallel(todo, settings.concurrency, async (n) => {
        if (signal.aborted) throw interrupted(bucket, key, true);
        const data = await readPart(handle, n, partSize, size);
        const [digest] = await Promise.all([
          digests ? active.partDigest(n, data) : undefined,
          active.uploadPart(n, data, { isLastPart: n === parts, abortSignal: signal }),
        ]);
        await record(n, digest);
        progress.add(data.length);
      });
    } catch (error) {
      await saving.catch(() => {});
      if (signal.aborted) throw interrupted(bucket, key, true);
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
    const change = identityChange(identity, sourceIdentity(source, await handle.stat({ bigint: true })));
    if (change) {
      throw new CliError(
        ExitCode.SOURCE_CHANGED,
        `${path} changed during the upload to s3://${bucket}/${key} (its ${change} differs); not completing it (use --restart to start over)`,
      );
    }
    const done = await active.complete();
    await removeJournal(journalFile);
    progress.finish();
    const seconds = (performance.now() - t0) / 1000;
    context.report(
      {
        bucket,
        key,
        plaintextBytes: size,
        parts,
        partsUploaded: todo.length,
        partsResumed: parts - todo.length,
        seconds,
        etag: done.ETag,
      },
      `uploaded ${formatBytes(size)} to s3://${bucket}/${key} in ${parts} part(s)` +
        (todo.length < parts ? ` (${parts - todo.length} resumed)` : '') +
        ` in ${seconds.toFixed(1)} s`,
    );
  } finally {
    await handle.close();
  }
}

function interrupted(bucket: string, key: string, resumable: boolean): CliError {
  return new CliError(
    ExitCode.INTERRUPTED,
    resumable
      ? `interrupted; run the same command again to resume the upload to s3://${bucket}/${key}`
      : `interrupted; the upload to s3://${bucket}/${key} was aborted`,
  );
}

const partLength = (n: number, partSize: number, size: number) =>
  Math.max(0, Math.min(partSize, size - (n - 1) * partSize));

async function readPart(handle: Awaited<ReturnType<typeof open>>, n: number, partSize: number, size: number) {
  const length = partLength(n, partSize, size);
  const buffer = Buffer.allocUnsafe(length);
  const read = await readFully(handle, buffer, (n - 1) * partSize);
  if (read.length < length) throw new CliError(ExitCode.SOURCE_CHANGED, 'the source file shrank during the upload');
  return buffer;
}

/** Reads a stream into parts of exactly `partSize` bytes (the last one shorter, possibly empty). */
async function* partsOf(stream: Readable, partSize: number): AsyncGenerator<Buffer> {
  let pieces: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    let data = chunk as Buffer;
    while (data.length > 0) {
      const take = Math.min(partSize - length, data.length);
      pieces.push(data.subarray(0, take));
      length += take;
      data = data.subarray(take);
      if (length === partSize) {
        yield Buffer.concat(pieces, length);
        pieces = [];
        length = 0;
      }
    }
  }
  yield Buffer.concat(pieces, length);
}

/** Uploads stdin (not resumable: it cannot be read twice); aborts the upload on any failure. */
async function putStdin(settings: PutSettings) {
  const { context, client, keyring, bucket, key, partSize, signal } = settings;
  const upload = await EncryptedMultipartUpload.create(client, { Bucket: bucket, Key: key }, { keyring, partSize });
  const progress = new Progress(`put s3://${bucket}/${key}`, undefined, context.showProgress);
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let parts = 0;
  try {
    let pending: Buffer | undefined;
    const send = (n: number, data: Buffer, last: boolean) => {
      const task = upload
        .uploadPart(n, data, { isLastPart: last, abortSignal: signal })
        .then(() => progress.add(data.length))
        .catch((error) => {
          failure ??= error;
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    };
    for await (const part of partsOf(process.stdin, partSize)) {
      if (failure || signal.aborted) break;
      if (pending) send(++parts, pending, false); // a part is final only once the next one is known not to exist
      pending = part;
      while (inFlight.size >= settings.concurrency) await Promise.race(inFlight);
    }
    if (!failure && !signal.aborted && pending) send(++parts, pending, true);
    await Promise.all(inFlight);
    if (signal.aborted) throw interrupted(bucket, key, false);
    if (failure) throw failure;
    await upload.complete();
  } catch (error) {
    await upload.abort().catch(() => {});
    throw error;
  }
  progress.finish();
  context.report(
    { bucket, key, plaintextBytes: progress.done, parts },
    `uploaded ${formatBytes(progress.done)} from stdin to s3://${bucket}/${key} in ${parts} part(s)`,
  );
}

/** `put`: encrypted, parallel multipart upload of a file (resumable) or stdin. */
export const put: Command = {
  name: 'put',
  usage:
    'put FILE|- s3://BUCKET/KEY [--part-size 8MiB] [--concurrency 4] [--restart] [--verify-source] [--state-dir DIR]',
  summary: 'upload a file or stdin encrypted; run again after an interruption to resume',
  help: [
    "A FILE's plaintext size is recorded in the authenticated header, so a cut object fails to read.",
    'stdin (-) records no size (it is not known up front): only its final chunk marks the end.',
    'An interrupted put of a FILE resumes when run again with the same arguments. The file counts as',
    'unchanged when its size, modification and status-change times (ns), inode and device are (as in',
    'restic); otherwise exit 6, and --restart starts over. Nothing is hashed unless --verify-source:',
    "then every part's keyed digest (HMAC under a key derived from the upload's data key) is kept in",
    'the journal and the parts already uploaded are read and checked again before resuming.',
    'A journal that was altered or names another destination: exit 4, nothing uploaded. A journal',
    'written by an older version (plaintext SHA-256 per part) is not trusted: exit 6, use --restart.',
    'Journals: --state-dir, $ENCRYPTED_STREAM_STATE_DIR, else $XDG_STATE_HOME or ~/.local/state/encrypted-stream.',
  ],
  options: {
    'part-size': { type: 'string' },
    concurrency: { type: 'string' },
    restart: { type: 'boolean' },
    'verify-source': { type: 'boolean' },
    'state-dir': { type: 'string' },
  },
  async run(context, args, values) {
    if (args.length !== 2) throw usageError('put needs a source (file or -) and an s3://bucket/key');
    const [path, url] = args as [string, string];
    const { bucket, key } = parseS3Url(url);
    const partText = stringOption(values, 'part-size');
    const partSize = partText ? parseSize(partText, '--part-size') : DEFAULT_PART_SIZE;
    const concurrency = Number(stringOption(values, 'concurrency') ?? 4);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw usageError('--concurrency must be 1 … 64');
    }
    if (path === '-' && values['verify-source']) {
      throw usageError('--verify-source needs a file: an upload from stdin cannot be resumed');
    }
    const keyring = await context.keyring();
    const { plain } = await context.clients();
    const interrupt = interruptible();
    const settings = { context, client: plain, keyring, bucket, key, partSize, concurrency, signal: interrupt.signal };
    try {
      if (path === '-') await putStdin(settings);
      else await putFile(settings, path, values);
    } finally {
      interrupt.dispose();
    }
  },
};
