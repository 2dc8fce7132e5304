import type { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { EncryptedMultipartUpload } from '@encrypted-stream/s3';
import { usageError } from './exit-codes';
import { formatBytes } from './human-units';
import { interrupted } from './interrupt';
import { S3_LIMITS } from './part-size';
import { Progress } from './progress';
import type { PutSettings } from './put-settings';
import { sizeArgument } from './sizes';

/**
 * Reads a stream into parts of exactly `partSize` bytes, the last one shorter
 * (empty only for an empty stream), each flagged whether it is the last: a
 * full part is held back until more data or the end shows which it is. Each
 * part is copied once into a buffer from `takeBuffer`, taken only when data
 * for it arrives (`buffer` is the whole of it, `data` the part's bytes).
 */
async function* partsOf(
  stream: Readable,
  partSize: number,
  takeBuffer: () => Buffer,
): AsyncGenerator<{ data: Buffer; buffer: Buffer; last: boolean }> {
  let buffer: Buffer | undefined;
  let length = 0;
  let full: Buffer | undefined;
  for await (const chunk of stream) {
    let data = chunk as Buffer;
    while (data.length > 0) {
      if (full) {
        yield { data: full, buffer: full, last: false };
        full = undefined;
      }
      buffer ??= takeBuffer();
      const take = Math.min(partSize - length, data.length);
      data.copy(buffer, length, 0, take);
      length += take;
      data = data.subarray(take);
      if (length === partSize) {
        full = buffer;
        buffer = undefined;
        length = 0;
      }
    }
  }
  if (full) yield { data: full, buffer: full, last: true };
  else {
    const last = buffer ?? Buffer.alloc(0); // none only for an empty stream
    yield { data: last.subarray(0, length), buffer: last, last: true };
  }
}

/**
 * Uploads stdin (not resumable: it cannot be read twice). Input that ends
 * within the first part is one PutObject through the encrypting client, its
 * size recorded; longer input is a parallel multipart upload without a
 * recorded size (not known up front), aborted on any failure. `beforeCommit`
 * runs once the input ended, before the PutObject or the completion that
 * makes the object visible: if it throws, nothing is stored.
 */
export async function putStdin(
  settings: PutSettings,
  stdin: Readable,
  beforeCommit: () => Promise<void> = async () => {},
): Promise<void> {
  const { context, plain, keyring, bucket, key, layout, signal } = settings;
  const destination = `s3://${bucket}/${key}`;
  // Part buffers, reused: a part's buffer is free again once its uploadPart resolved (it
  // has encrypted the plaintext by then), so at most concurrency + 1 are ever allocated.
  const free: Buffer[] = [];
  const parts = partsOf(stdin, layout.partSize, () => free.pop() ?? Buffer.allocUnsafe(layout.partSize));
  const first = (await parts.next()).value as { data: Buffer; buffer: Buffer; last: boolean };
  if (first.last) {
    if (signal.aborted) throw interrupted(bucket, key, 'single request');
    await beforeCommit();
    const client = await settings.encrypting();
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: first.data }), { abortSignal: signal });
    } catch (error) {
      if (signal.aborted) throw interrupted(bucket, key, 'single request');
      throw error;
    }
    context.report(
      { bucket, key, plaintextBytes: first.data.length, parts: 1 },
      `uploaded ${formatBytes(first.data.length)} from stdin to ${destination} in one request`,
    );
    return;
  }
  const upload = await EncryptedMultipartUpload.create(
    plain,
    { Bucket: bucket, Key: key },
    { keyring, partSize: layout.partSize, chunkSize: layout.chunkSize },
  );
  const progress = new Progress(`put ${destination}`, undefined, context.showProgress);
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let count = 0;
  try {
    const send = ({ data, buffer, last }: { data: Buffer; buffer: Buffer; last: boolean }) => {
      const task = upload
        .uploadPart(++count, data, { isLastPart: last, abortSignal: signal })
        .then(() => {
          free.push(buffer);
          progress.add(data.length);
        })
        .catch((error) => {
          failure ??= error;
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    };
    send(first);
    for await (const part of parts) {
      if (failure || signal.aborted) break;
      if (count === S3_LIMITS.maxParts) {
        const limit = formatBytes(S3_LIMITS.maxParts * layout.partSize);
        failure = usageError(
          `stdin holds more than 10000 parts of --part-size ${sizeArgument(layout.partSize)} (${limit}), S3's limit; the upload was aborted: run again with a larger --part-size`,
        );
        break;
      }
      send(part);
      while (inFlight.size >= settings.concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (signal.aborted) throw interrupted(bucket, key, 'aborted');
    if (failure) throw failure;
    await beforeCommit();
    await upload.complete();
  } catch (error) {
    await upload.abort().catch(() => {});
    throw error;
  }
  progress.finish();
  context.report(
    { bucket, key, plaintextBytes: progress.done, parts: count },
    `uploaded ${formatBytes(progress.done)} from stdin to ${destination} in ${count} part(s)`,
  );
}
