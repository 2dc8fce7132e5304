import { CHUNK_OVERHEAD, MAX_CHUNK_EXPONENT, MIN_CHUNK_EXPONENT } from './constants';
import { ErrorCode, FormatError } from './errors';

/**
 * Size and range arithmetic of the chunked body (FORMAT.md §8). Sizes are
 * JavaScript numbers kept below 2^53; intermediate products use BigInt so
 * nothing rounds, and results that would not be exact throw RangeError.
 */

/** Throws RangeError unless `chunkSize` is a power of two from 4 KiB to 16 MiB. */
export function assertChunkSize(chunkSize: number): void {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 << MIN_CHUNK_EXPONENT || chunkSize > 1 << MAX_CHUNK_EXPONENT) {
    throw new RangeError(`chunkSize must be a power of two from 4 KiB to 16 MiB, got ${chunkSize}`);
  }
  if ((chunkSize & (chunkSize - 1)) !== 0) throw new RangeError(`chunkSize must be a power of two, got ${chunkSize}`);
}

function assertSize(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`);
  }
}

function toSafe(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${what} exceeds 2^53 - 1`);
  return Number(value);
}

/** Number of chunks (including the always-short final chunk) for `plaintextSize` bytes. @public */
export function chunkCount(plaintextSize: number, chunkSize: number): number {
  assertSize(plaintextSize, 'plaintextSize');
  assertChunkSize(chunkSize);
  return Math.floor(plaintextSize / chunkSize) + 1;
}

/** Bytes of the chunked body (detached framing) for `plaintextSize` bytes of plaintext. @public */
export function ciphertextSize(plaintextSize: number, chunkSize: number): number {
  assertSize(plaintextSize, 'plaintextSize');
  assertChunkSize(chunkSize);
  const p = BigInt(plaintextSize);
  const c = BigInt(chunkSize);
  const full = p / c;
  return toSafe(full * (c + BigInt(CHUNK_OVERHEAD)) + (p % c) + BigInt(CHUNK_OVERHEAD), 'ciphertext size');
}

/**
 * Plaintext bytes held by a chunked body of `bodySize` bytes.
 * Throws FormatError(ES_TRUNCATED) for sizes no stream can have (cut at or inside a chunk's overhead).
 * @public
 */
export function plaintextSize(bodySize: number, chunkSize: number): number {
  assertSize(bodySize, 'bodySize');
  assertChunkSize(chunkSize);
  const stride = chunkSize + CHUNK_OVERHEAD;
  const full = Math.floor(bodySize / stride);
  const rest = bodySize - full * stride;
  if (rest < CHUNK_OVERHEAD) {
    throw new FormatError(ErrorCode.TRUNCATED, `a ${bodySize}-byte body cannot end with a final chunk`);
  }
  return toSafe(BigInt(full) * BigInt(chunkSize) + BigInt(rest - CHUNK_OVERHEAD), 'plaintext size');
}

/** Offset of chunk `index` in the chunked body. @public */
export function chunkOffset(index: number, chunkSize: number): number {
  assertSize(index, 'index');
  assertChunkSize(chunkSize);
  return toSafe(BigInt(index) * BigInt(chunkSize + CHUNK_OVERHEAD), 'chunk offset');
}

/**
 * Where a plaintext byte range lives in the chunked body.
 * `cipherEnd` is exclusive and may pass the end of the body (S3 clamps it).
 * @public
 */
export interface RangePlan {
  /** First chunk holding the range. */
  readonly firstChunk: number;
  /** Last chunk holding the range. */
  readonly lastChunk: number;
  /** Body offset of `firstChunk`. */
  readonly cipherStart: number;
  /** Body offset just past `lastChunk`, if it is a full chunk. */
  readonly cipherEnd: number;
  /** Plaintext bytes to drop from the front of the first chunk. */
  readonly skip: number;
  /** Plaintext bytes to keep after skipping. */
  readonly length: number;
}

/**
 * The chunks and body bytes that hold plaintext bytes `[start, end)` of a
 * stream of `plaintextSize` bytes. A range that reaches the end of the
 * plaintext always includes the final chunk, even when that chunk is empty
 * (sizes that are a multiple of the chunk size): only the final chunk's tag
 * proves that the stream ends there (FORMAT.md §5), so a read that stops at
 * the last full chunk could not tell a complete stream from a truncated one.
 * An empty range plans the one chunk at `start`.
 * @public
 */
export function planRange(start: number, end: number, chunkSize: number, plaintextSize: number): RangePlan {
  assertSize(start, 'start');
  assertSize(end, 'end');
  assertSize(plaintextSize, 'plaintextSize');
  assertChunkSize(chunkSize);
  if (end < start) throw new RangeError(`range end ${end} is before its start ${start}`);
  if (end > plaintextSize) throw new RangeError(`range end ${end} is past the ${plaintextSize}-byte plaintext`);
  const firstChunk = Math.floor(start / chunkSize);
  const lastChunk =
    end === plaintextSize
      ? Math.floor(plaintextSize / chunkSize)
      : end > start
        ? Math.floor((end - 1) / chunkSize)
        : firstChunk;
  return {
    firstChunk,
    lastChunk,
    cipherStart: chunkOffset(firstChunk, chunkSize),
    cipherEnd: chunkOffset(lastChunk + 1, chunkSize),
    skip: start - firstChunk * chunkSize,
    length: end - start,
  };
}

/**
 * Body bytes to fetch from the end so that they hold the last `suffixLength`
 * plaintext bytes, whatever the total size (FORMAT.md §8).
 * @public
 */
export function suffixFetchLength(suffixLength: number, chunkSize: number): number {
  assertSize(suffixLength, 'suffixLength');
  assertChunkSize(chunkSize);
  return chunkOffset(Math.ceil(suffixLength / chunkSize) + 1, chunkSize);
}
