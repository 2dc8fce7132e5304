import { HeadObjectCommand, type HeadObjectCommandInput, S3ServiceException } from '@aws-sdk/client-s3';
import { ErrorCode, FormatError } from '@encrypted-stream/codec';
import {
  CHUNK_OVERHEAD,
  chunkOffset,
  planRange,
  RangeDecoder,
  suffixFetchLength,
  verifiedPlaintextSize,
} from '@encrypted-stream/codec/low-level';
import { plaintextBody } from '#body-streams';
import { discardBody } from './body';
import { EncryptedS3Error, S3ErrorCode, unsupported } from './errors';
import type { Args, CommandHandler, Next, Result } from './handler';
import { withEncryption } from './markers';
import { readEncryptionHeader, userMetadata } from './metadata';
import { type ByteRange, formatRange, parseContentRange, parseRange, resolveRange } from './ranges';
import { stripChecksums } from './strip-checksums';

/** The ciphertext Range that holds a plaintext range, for a given chunk size. */
function cipherRangeFor(range: ByteRange, chunkSize: number): string {
  switch (range.kind) {
    case 'bounded': {
      // A range ending on a chunk boundary may end the object: then its empty
      // final chunk (40 bytes) must be authenticated too, and only the
      // response tells whether the object ends there. 40 bytes more is cheaper
      // than a second request.
      const aligned = (range.end + 1) % chunkSize === 0;
      const end = chunkOffset(Math.floor(range.end / chunkSize) + 1, chunkSize) + (aligned ? CHUNK_OVERHEAD : 0);
      return `bytes=${chunkOffset(Math.floor(range.start / chunkSize), chunkSize)}-${end - 1}`;
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

/** Which ciphertext bytes a response carries: `[start, end)` of a `total`-byte body. */
function fetchedSpan(output: Result['output']) {
  const cr = parseContentRange(output.ContentRange);
  if (cr) return { start: cr.start, end: cr.end + 1, total: cr.total };
  const length = Number(output.ContentLength ?? 0);
  return { start: 0, end: length, total: length };
}

/** Runs `work`; if it throws, the response body (if any) is discarded first so its connection is freed. */
async function discardingOnError<T>(result: Result | undefined, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (result) discardBody(result.output.Body);
    throw error;
  }
}

/** The HeadObject that describes the same object version a GetObject input names. */
function headInputFor(input: Record<string, unknown>): HeadObjectCommandInput {
  const fields = [
    'Bucket',
    'Key',
    'VersionId',
    'SSECustomerAlgorithm',
    'SSECustomerKey',
    'SSECustomerKeyMD5',
    'ExpectedBucketOwner',
    'RequestPayer',
    'IfMatch',
    'IfUnmodifiedSince',
  ];
  const entries = fields.filter((f) => input[f] !== undefined).map((f) => [f, input[f]]);
  return Object.fromEntries(entries) as unknown as HeadObjectCommandInput;
}

const isInvalidRange = (error: unknown) => (error as { name?: string }).name === 'InvalidRange';

/**
 * GetObject: one ranged request in the default geometry, decrypting chunk by
 * chunk as bytes arrive. A second request is made only when the object was
 * written with another chunk size (or the server answered another span);
 * when that other geometry put our first range past the end of the object
 * (S3's 416), a HeadObject tells the real geometry first.
 */
export const handleGetObject: CommandHandler = async (args, next, runtime) => {
  const { input } = args;
  if (input.PartNumber !== undefined) throw unsupported('GetObject with PartNumber');
  const range = input.Range === undefined ? undefined : parseRange(input.Range);
  const { options } = runtime;
  const location = `s3://${input.Bucket}/${input.Key}`;
  const send = (cipherRange: string | undefined) =>
    next({ ...args, input: { ...input, Range: cipherRange } }) as Promise<Result>;

  let result: Result | undefined;
  let metadata: Record<string, string> | undefined;
  let span: { start: number; end: number; total: number };
  try {
    result = await send(range && cipherRangeFor(range, options.chunkSize));
    metadata = result.output.Metadata;
    span = fetchedSpan(result.output);
  } catch (error) {
    if (!range || !isInvalidRange(error)) throw error;
    const head = await runtime.client.send(new HeadObjectCommand(withEncryption(headInputFor(input), { raw: true })));
    metadata = head.Metadata;
    const total = Number(head.ContentLength ?? 0);
    span = { start: total, end: total, total }; // nothing fetched yet
  }
  const header = await discardingOnError(result, () => readEncryptionHeader(metadata));
  if (!header) {
    if (!options.passthrough) {
      if (result) discardBody(result.output.Body);
      throw new EncryptedS3Error(S3ErrorCode.NOT_ENCRYPTED, `${location} is not encrypted`);
    }
    if (result && !range) return result;
    // A plaintext object: the ciphertext range we asked for is not what the caller asked for.
    if (result) discardBody(result.output.Body);
    return send(input.Range);
  }
  const cipher = await discardingOnError(result, () =>
    runtime.streams.open(header, options.contextFor({ bucket: input.Bucket, key: input.Key })),
  );
  const size = await discardingOnError(result, () => verifiedPlaintextSize(cipher, span.total));
  const wanted = range ? resolveRange(range, size) : { start: 0, end: size };
  if (!wanted) {
    if (result) discardBody(result.output.Body);
    throw invalidRange(size);
  }
  const plan = planRange(wanted.start, wanted.end, cipher.chunkSize, size);
  const total = span.total; // the body size the plan is for; a second response must agree
  const need = { start: plan.cipherStart, end: Math.min(plan.cipherEnd, total) };
  if (!result || need.start < span.start || need.end > span.end) {
    // Another chunk size than we assumed: now we know the exact span to ask for.
    if (result) discardBody(result.output.Body);
    const exact = await send(formatRange({ kind: 'bounded', start: need.start, end: need.end - 1 }));
    span = fetchedSpan(exact.output);
    const again = readEncryptionHeader(exact.output.Metadata);
    const changed = span.start !== need.start || span.end < need.end || span.total !== total;
    if (!again || !sameStream(again.streamBytes, header.streamBytes) || changed) {
      discardBody(exact.output.Body);
      throw new FormatError(ErrorCode.SIZE_MISMATCH, 'the object changed between two ranged requests');
    }
    result = exact;
  }

  const output = result.output;
  const decoder = new RangeDecoder(cipher, {
    cipherSkip: need.start - span.start,
    cipherLength: need.end - need.start,
    firstChunk: plan.firstChunk,
    plaintextSize: size,
    // From the plan, not from a response: whether this read must end with the final chunk.
    expectFinal: plan.lastChunk === Math.floor(size / cipher.chunkSize),
    skip: plan.skip,
    length: plan.length,
  });
  output.Body = plaintextBody(output.Body, decoder, runtime.client.config.sdkStreamMixin);
  output.ContentLength = plan.length;
  output.ContentRange = range ? `bytes ${wanted.start}-${wanted.end - 1}/${size}` : undefined;
  output.Metadata = userMetadata(output.Metadata);
  stripChecksums(output);
  return result;
};

function sameStream(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export type { Args, Next };
