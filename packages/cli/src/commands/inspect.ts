import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { CHUNK_OVERHEAD, ErrorCode, openStreamCipher, plaintextSize } from '@encrypted-stream/codec';
import { readEncryptionHeader, rotateObjectKey, userMetadata } from '@encrypted-stream/s3';
import type { Command } from '../command';
import { type DescribedError, describeError, reportedFailure } from '../errors-to-exit';
import { CliError, ExitCode, usageError } from '../exit-codes';
import { Progress } from '../progress';
import { parseS3Url } from '../s3-url';
import { formatBytes } from '../sizes';

/** Every object under a prefix (ListObjectsV2, paginated). */
async function* listObjects(client: S3Client, bucket: string, prefix: string) {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
    );
    for (const object of page.Contents ?? []) if (object.Key) yield { key: object.Key, size: object.Size ?? 0 };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Every object under a prefix, as an array. */
async function listAllObjects(client: S3Client, bucket: string, prefix: string) {
  const objects: { key: string; size: number }[] = [];
  for await (const o of listObjects(client, bucket, prefix)) objects.push(o);
  return objects;
}

/** Maps `items` through `worker` with at most `limit` at once, keeping order. */
async function mapLimit<T, R>(items: T[], limit: number, worker: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await worker(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return results;
}

/** What a HEAD tells about an object, without decrypting anything. */
async function describeObject(client: S3Client, bucket: string, key: string) {
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const header = readEncryptionHeader(head.Metadata);
  const storedBytes = head.ContentLength ?? 0;
  if (!header) return { key, encrypted: false as const, storedBytes, head };
  return {
    key,
    encrypted: true as const,
    storedBytes,
    plaintextBytes: header.stream.plaintextSize ?? plaintextSize(storedBytes, header.stream.chunkSize),
    header,
    head,
  };
}

/** `head`: plaintext size, format version, chunk size, key id and context binding of an object. */
export const head: Command = {
  name: 'head',
  usage: 'head s3://BUCKET/KEY',
  summary: 'show plaintext size, format, chunk size, key id and context of an object',
  options: {},
  async run(context, args) {
    if (args.length !== 1) throw usageError('head needs one s3://bucket/key');
    const { bucket, key } = parseS3Url(args[0] as string);
    const { plain } = await context.clients();
    const info = await describeObject(plain, bucket, key);
    if (!info.encrypted) {
      context.report(
        { bucket, key, encrypted: false, storedBytes: info.storedBytes },
        `s3://${bucket}/${key}: not encrypted (${info.storedBytes} bytes)`,
      );
      return;
    }
    const keyring = await context.keyring();
    let binding = 'unknown';
    for (const [name, ctx] of [
      ['none', {}],
      ['location', { bucket, key }],
    ] as const) {
      try {
        await openStreamCipher(info.header, { keyring, context: ctx });
        binding = name;
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== ErrorCode.CONTEXT_MISMATCH) throw error;
        binding = 'custom';
      }
    }
    const chunks = Math.ceil(info.storedBytes / (info.header.stream.chunkSize + CHUNK_OVERHEAD));
    const result = {
      bucket,
      key,
      encrypted: true,
      plaintextBytes: info.plaintextBytes,
      storedBytes: info.storedBytes,
      formatVersion: 1,
      chunkSize: info.header.stream.chunkSize,
      chunks,
      sizeAuthenticated: info.header.stream.plaintextSize !== undefined,
      keyId: info.header.keyId,
      context: binding,
      contentType: info.head.ContentType,
      metadata: userMetadata(info.head.Metadata),
    };
    context.report(result, [
      `s3://${bucket}/${key}`,
      `  plaintext size   ${info.plaintextBytes} bytes (${formatBytes(info.plaintextBytes)})${result.sizeAuthenticated ? ', authenticated in the header' : ''}`,
      `  stored size      ${info.storedBytes} bytes`,
      `  format           encrypted-stream v1, XChaCha20-Poly1305, ${info.header.stream.chunkSize}-byte chunks (${chunks})`,
      `  key id           ${info.header.keyId}`,
      `  context          ${binding}`,
    ]);
  },
};

/** `ls`: objects under a prefix with plaintext sizes and whether each is encrypted. */
export const ls: Command = {
  name: 'ls',
  usage: 'ls s3://BUCKET[/PREFIX]',
  summary: 'list objects with plaintext sizes and whether each is encrypted',
  options: {},
  async run(context, args) {
    if (args.length !== 1) throw usageError('ls needs one s3://bucket/prefix');
    const { bucket, key: prefix } = parseS3Url(args[0] as string, true);
    const { plain } = await context.clients();
    const objects = await listAllObjects(plain, bucket, prefix);
    const rows = await mapLimit(objects, 8, async (o) => {
      const info = await describeObject(plain, bucket, o.key);
      return info.encrypted
        ? {
            key: o.key,
            encrypted: true,
            plaintextBytes: info.plaintextBytes,
            storedBytes: info.storedBytes,
            keyId: info.header.keyId,
          }
        : { key: o.key, encrypted: false, storedBytes: info.storedBytes };
    });
    context.report(
      { bucket, prefix, objects: rows },
      rows.map(
        (r) =>
          `${String(r.encrypted ? r.plaintextBytes : r.storedBytes).padStart(14)}  ${r.encrypted ? `encrypted (${r.keyId})` : 'plaintext'.padEnd(10)}  ${r.key}`,
      ),
    );
  },
};

/** `verify`: read and authenticate every byte without writing plaintext anywhere. */
export const verify: Command = {
  name: 'verify',
  usage: 'verify s3://BUCKET/KEY [s3://BUCKET/KEY …]',
  summary: 'download and authenticate objects without writing plaintext',
  options: {},
  async run(context, args) {
    if (args.length === 0) throw usageError('verify needs at least one s3://bucket/key');
    const targets = args.map((arg) => parseS3Url(arg)); // every usage error before any request
    const { encrypted } = await context.clients();
    const results = [];
    let failed: DescribedError | undefined;
    for (const { bucket, key } of targets) {
      try {
        const out = await encrypted.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const progress = new Progress(`verify s3://${bucket}/${key}`, out.ContentLength, context.showProgress);
        for await (const piece of out.Body as AsyncIterable<Uint8Array>) progress.add(piece.length);
        progress.finish();
        results.push({ bucket, key, ok: true, bytes: progress.done });
      } catch (error) {
        const described = describeError(error);
        failed = reportedFailure(failed, described);
        results.push({ bucket, key, ok: false, error: described.message });
      }
    }
    context.report(
      { results },
      results.map(
        (r) =>
          `${r.ok ? 'OK  ' : 'FAIL'}  s3://${r.bucket}/${r.key}  ${r.ok ? `${r.bytes} bytes authenticated` : r.error}`,
      ),
    );
    if (failed) throw new CliError(failed.exitCode, `verification failed: ${failed.message}`);
  },
};

/** `rotate`: re-wrap every encrypted object under a prefix to the keyring's primary key (server-side copies). */
export const rotate: Command = {
  name: 'rotate',
  usage: 'rotate s3://BUCKET[/PREFIX]',
  summary: "re-wrap objects' data keys under the primary key (metadata-only server-side copies)",
  options: {},
  async run(context, args) {
    if (args.length !== 1) throw usageError('rotate needs one s3://bucket/prefix');
    const { bucket, key: prefix } = parseS3Url(args[0] as string, true);
    const keyring = await context.keyring();
    const { plain } = await context.clients();
    const objects = await listAllObjects(plain, bucket, prefix);
    const progress = new Progress(`rotate s3://${bucket}/${prefix}`, objects.length, context.showProgress);
    const summary = { rotated: 0, alreadyCurrent: 0, notEncrypted: 0, failed: 0 };
    const failures: { key: string; error: string }[] = [];
    let reported: DescribedError | undefined;
    await mapLimit(objects, 4, async (o) => {
      try {
        const result = await rotateObjectKey(plain, { Bucket: bucket, Key: o.key }, { from: keyring });
        if (result.rotated) summary.rotated++;
        else summary.alreadyCurrent++;
      } catch (error) {
        if ((error as { code?: string }).code === 'ES_NOT_ENCRYPTED') summary.notEncrypted++;
        else {
          summary.failed++;
          const described = describeError(error);
          reported = reportedFailure(reported, described);
          failures.push({ key: o.key, error: described.message });
        }
      }
      progress.add(1);
    });
    progress.finish();
    context.report({ bucket, prefix, primaryKeyId: keyring.primaryKeyId, ...summary, failures }, [
      `rotated ${summary.rotated}, already under "${keyring.primaryKeyId}" ${summary.alreadyCurrent}, not encrypted ${summary.notEncrypted}, failed ${summary.failed}`,
      ...failures.map((f) => `  FAIL ${f.key}: ${f.error}`),
    ]);
    if (summary.failed > 0) {
      throw new CliError(reported?.exitCode ?? ExitCode.FAILURE, `${summary.failed} object(s) could not be rotated`);
    }
  },
};
