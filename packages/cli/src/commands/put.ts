import { webcrypto } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LocalKeyring } from '@encrypted-stream/codec';
import { DEFAULT_PART_SIZE, EncryptedMultipartUpload } from '@encrypted-stream/s3';
import type { Command, OptionValues } from '../command';
import { stringOption } from '../command';
import type { CommandContext } from '../context';
import { CliError, ExitCode, usageError } from '../exit-codes';
import { Progress } from '../progress';
import { parseS3Url } from '../s3-url';
import { formatBytes, parseSize } from '../sizes';
import {
  journalPath,
  readJournal,
  removeJournal,
  stateDirectory,
  type UploadJournal,
  writeJournal,
} from '../upload-journal';

/** SHA-256 in hex, on libuv's threadpool: it runs on another core while the part is encrypted and sent. */
const sha256 = async (data: Uint8Array) => Buffer.from(await webcrypto.subtle.digest('SHA-256', data)).toString('hex');

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

/** Uploads a file, resuming an interrupted upload of the same file to the same object. */
async function putFile(settings: PutSettings, path: string, values: OptionValues) {
  const { context, client, keyring, bucket, key, signal } = settings;
  const source = resolve(path);
  const info = await stat(source);
  if (!info.isFile()) throw usageError(`${path} is not a regular file`);
  const identity = { path: source, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
  const endpoint = context.options.endpoint ?? 'aws';
  const journalFile = journalPath(stateDirectory(stringOption(values, 'state-dir')), endpoint, bucket, key, source);
  let journal = await readJournal(journalFile);
  let upload: EncryptedMultipartUpload | undefined;
  let uploaded = new Map<number, string>(); // part → plaintext SHA-256, for parts S3 holds

  if (journal && values.restart) {
    await (await EncryptedMultipartUpload.resume(client, journal.resumeToken, { keyring })).abort().catch(() => {});
    await removeJournal(journalFile);
    journal = undefined;
  }
  if (journal) {
    const same = ['size', 'mtimeMs', 'ino'].every((f) => journal?.source[f as 'size'] === identity[f as 'size']);
    if (!same) {
      throw new CliError(
        ExitCode.SOURCE_CHANGED,
        `${path} changed since the interrupted upload to s3://${bucket}/${key}; not mixing old and new parts (use --restart to start over)`,
      );
    }
    upload = await EncryptedMultipartUpload.resume(client, journal.resumeToken, { keyring });
    try {
      const listed = await upload.listParts();
      for (const part of listed) {
        const hash = journal.partHashes[String(part.PartNumber)];
        if (hash) uploaded.set(part.PartNumber as number, hash);
      }
      context.debug(`resuming upload ${upload.uploadId}: ${uploaded.size} parts already stored`);
    } catch (error) {
      if ((error as { name?: string }).name !== 'NoSuchUpload') throw error;
      context.debug('the interrupted upload no longer exists; starting over');
      upload = undefined;
      uploaded = new Map();
    }
  }
  const partSize = upload ? upload.partSize : settings.partSize;
  const parts = Math.max(1, Math.ceil(info.size / partSize));
  const handle = await open(source, 'r');
  try {
    // Re-hash the parts already stored: a file edited in place with its mtime restored is still caught.
    for (const [part, hash] of uploaded) {
      if (part > parts || (await sha256(await readPart(handle, part, partSize, info.size))) !== hash) {
        throw new CliError(
          ExitCode.SOURCE_CHANGED,
          `part ${part} of ${path} differs from what was uploaded; not mixing (use --restart to start over)`,
        );
      }
    }
    if (!upload) {
      upload = await EncryptedMultipartUpload.create(client, { Bucket: bucket, Key: key }, { keyring, partSize });
      uploaded = new Map();
    }
    const active = upload;
    const state: UploadJournal = {
      version: 1,
      endpoint,
      bucket,
      key,
      source: identity,
      partSize,
      resumeToken: active.resumeToken,
      partHashes: Object.fromEntries([...uploaded].map(([n, h]) => [String(n), h])),
    };
    let saving = writeJournal(journalFile, state);
    const record = (part: number, hash: string) => {
      state.partHashes[String(part)] = hash;
      saving = saving.then(() => writeJournal(journalFile, state)); // one write at a time, newest last
      return saving;
    };
    await saving;

    const progress = new Progress(`put s3://${bucket}/${key}`, info.size, context.showProgress);
    const todo: number[] = [];
    for (let n = 1; n <= parts; n++) {
      if (uploaded.has(n)) progress.add(partLength(n, partSize, info.size));
      else todo.push(n);
    }
    const t0 = performance.now();
    try {
      await inParallel(todo, settings.concurrency, async (n) => {
        if (signal.aborted) throw interrupted(bucket, key, true);
        const data = await readPart(handle, n, partSize, info.size);
        const [hash] = await Promise.all([
          sha256(data),
          active.uploadPart(n, data, { isLastPart: n === parts, abortSignal: signal }),
        ]);
        await record(n, hash);
        progress.add(data.length);
      });
    } catch (error) {
      await saving.catch(() => {});
      if (signal.aborted) throw interrupted(bucket, key, true);
      throw new CliError(
        exitCodeOf(error),
        `${(error as Error).message} — the upload is saved: run the same command again to resume`,
        { cause: error },
      );
    }
    await saving;
    const done = await active.complete();
    await removeJournal(journalFile);
    progress.finish();
    const seconds = (performance.now() - t0) / 1000;
    context.report(
      {
        bucket,
        key,
        plaintextBytes: info.size,
        parts,
        partsUploaded: todo.length,
        partsResumed: parts - todo.length,
        seconds,
        etag: done.ETag,
      },
      `uploaded ${formatBytes(info.size)} to s3://${bucket}/${key} in ${parts} part(s)` +
        (todo.length < parts ? ` (${parts - todo.length} resumed)` : '') +
        ` in ${seconds.toFixed(1)} s`,
    );
  } finally {
    await handle.close();
  }
}

function exitCodeOf(error: unknown): number {
  return (error as { $metadata?: unknown }).$metadata !== undefined ? ExitCode.S3 : ExitCode.FAILURE;
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
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, (n - 1) * partSize + filled);
    if (bytesRead === 0) throw new CliError(ExitCode.SOURCE_CHANGED, 'the source file shrank during the upload');
    filled += bytesRead;
  }
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
  usage: 'put FILE|- s3://BUCKET/KEY [--part-size 8MiB] [--concurrency 4] [--restart] [--state-dir DIR]',
  summary: 'upload a file or stdin encrypted; run again after an interruption to resume',
  options: {
    'part-size': { type: 'string' },
    concurrency: { type: 'string' },
    restart: { type: 'boolean' },
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
