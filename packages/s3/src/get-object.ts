import { HeadObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import {
  chunkOffset,
  decryptBody,
  ErrorCode,
  FormatError,
  openStreamCipher,
  plaintextSize,
  planRange,
  type StreamCipher,
  suffixFetchLength,
  trimRange,
  verifiedPlaintextSize,
} from '@encrypted-stream/codec';
import { discardBody, toSdkBody } from './body';
import { EncryptedS3Error, S3ErrorCode, unsupported } from './errors';
import type { Args, CommandHandler, Next, PluginRuntime, Result } from './handler';
import { withEncryption } from './markers';
import { readEncryptionHeader, userMetadata } from './metadata';
import { type ByteRange, formatRange, parseContentRange, parseRange, resolveRange } from './ranges';
import { stripChecksums } from './strip-checksums';

/** The ciphertext Range that holds a plaintext range, for a given chunk size. */
function cipherRangeFor(range: ByteRange, chunkSize: number): string {
  switch (range.kind) {
    case 'bounded': {
      const plan = planRange(range.start, range.end + 1, chunkSize);
      return `bytes=${plan.cipherStart}-${plan.cipherEnd - 1}`;
    }
    case 'from':
      return `bytes=${chunkOffset(Math.floor(range.start / chunkSize), chunkSize)}-`;
    case 'suffix':
      return `bytes=-${suffixFetchLength(range.length, chunkSize)}`;
  }
}

/** S3's own 416, in plaintext terms (`ActualObjectSize` is the plaintext size, as S3 gives it). */
function invalidRange(size: number): S3ServiceException {
  return Object.assign(
    new S3ServiceException({
      name: 'InvalidRange',
      $fault: 'client',
      $metadata: { httpStatusCode: 416 },
      message: `The requested range is not satisfiable (object size ${size})`,
    }),
    { ActualObjectSize: String(size) },
  );
}

/**
 * S3 answered 416 to the ciphertext range: the plaintext range is past the end
 * too. Rethrow it in plaintext terms (one HeadObject, only on this error path).
 */
async function plaintextInvalidRange(runtime: PluginRuntime, bucket: string, key: string): Promise<never> {
  const head = await runtime.client.send(
    new HeadObjectCommand(withEncryption({ Bucket: bucket, Key: key }, { raw: true })),
  );
  const header = readEncryptionHeader(head.Metadata);
  if (!header) throw new EncryptedS3Error(S3ErrorCode.NOT_ENCRYPTED, `s3://${bucket}/${key} is not encrypted`);
  throw invalidRange(plaintextSize(Number(head.ContentLength ?? 0), header.stream.chunkSize));
}

/** Which ciphertext bytes a response carries: `[start, end)` of a `total`-byte body. */
function fetchedSpan(output: Result['output']) {
  const cr = parseContentRange(output.ContentRange);
  if (cr) return { start: cr.start, end: cr.end + 1, total: cr.total };
  const length = Number(output.ContentLength ?? 0);
  return { start: 0, end: length, total: length };
}

/**
 * GetObject: one ranged request in the default geometry, decrypting chunk by
 * chunk as bytes arrive. A second request is made only when the object was
 * written with another chunk size (or the server answered another span).
 */
export const handleGetObject: CommandHandler = async (args, next, runtime) => {
  const { input } = args;
  if (input.PartNumber !== undefined) throw unsupported('GetObject with PartNumber');
  const range = input.Range === undefined ? undefined : parseRange(input.Range);
  const { options } = runtime;
  const send = (cipherRange: string | undefined) =>
    next({ ...args, input: { ...input, Range: cipherRange } }) as Promise<Result>;

  let result: Result;
  try {
    result = await send(range && cipherRangeFor(range, options.chunkSize));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (range && name === 'InvalidRange' && !options.passthrough) {
      return plaintextInvalidRange(runtime, input.Bucket, input.Key);
    }
    throw error;
  }
  const header = readEncryptionHeaderOrDiscard(result);
  if (!header) {
    if (!options.passthrough) {
      throw new EncryptedS3Error(S3ErrorCode.NOT_ENCRYPTED, `s3://${input.Bucket}/${input.Key} is not encrypted`);
    }
    // Plaintext object: the ciphertext range we asked for is not what the caller asked for.
    return range ? await send(input.Range) : result;
  }
  let cipher: StreamCipher;
  try {
    cipher = await openStreamCipher(header, {
      keyring: options.keyring,
      context: options.contextFor({ bucket: input.Bucket, key: input.Key }),
    });
  } catch (error) {
    discardBody(result.output.Body);
    throw error;
  }

  let span = fetchedSpan(result.output);
  let size: number;
  try {
    size = verifiedPlaintextSize(cipher, span.total);
  } catch (error) {
    discardBody(result.output.Body);
    throw error;
  }
  const wanted = range ? resolveRange(range, size) : { start: 0, end: size };
  if (!wanted) {
    discardBody(result.output.Body);
    throw invalidRange(size);
  }
  const plan = planRange(wanted.start, wanted.end, cipher.chunkSize);
  const need = { start: plan.cipherStart, end: Math.min(plan.cipherEnd, span.total) };
  if (need.start < span.start || need.end > span.end) {
    // Another chunk size than we assumed: now we know the exact span to ask for.
    discardBody(result.output.Body);
    result = await send(formatRange({ kind: 'bounded', start: need.start, end: need.end - 1 }));
    span = fetchedSpan(result.output);
    const again = readEncryptionHeader(result.output.Metadata);
    if (!again || !sameStream(again.streamBytes, header.streamBytes) || span.start !== need.start) {
      discardBody(result.output.Body);
      throw new FormatError(ErrorCode.SIZE_MISMATCH, 'the object changed between two ranged requests');
    }
  }

  const output = result.output;
  const ciphertext = trimRange(output.Body, need.start - span.start, need.end - need.start);
  const plaintext = decryptBody(cipher, ciphertext, {
    firstChunk: plan.firstChunk,
    plaintextSize: size,
    expectFinal: need.end === span.total,
  });
  output.Body = toSdkBody(trimRange(plaintext, plan.skip, plan.length));
  output.ContentLength = plan.length;
  output.ContentRange = range ? `bytes ${wanted.start}-${wanted.end - 1}/${size}` : undefined;
  output.Metadata = userMetadata(output.Metadata);
  stripChecksums(output);
  return result;
};

function readEncryptionHeaderOrDiscard(result: Result) {
  try {
    return readEncryptionHeader(result.output.Metadata);
  } catch (error) {
    discardBody(result.output.Body);
    throw error;
  }
}

function sameStream(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export type { Args, Next };
