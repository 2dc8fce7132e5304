import { constants } from 'node:buffer';
import { assertChunkSize, CHUNK_OVERHEAD } from '@encrypted-stream/codec/low-level';
import { usageError } from './exit-codes';
import { formatBytes } from './human-units';
import { sizeArgument } from './sizes';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** S3's multipart limits: every part but the last at least 5 MiB, none above 5 GiB, at most 10,000 parts. */
export const S3_LIMITS = { minPart: 5 * MiB, maxPart: 5 * GiB, maxParts: 10_000, maxObject: 5 * 1024 * GiB } as const;

/** `put`'s part size when none is given and the source fits 10,000 of them. */
export const DEFAULT_PUT_PART_SIZE = 8 * MiB;

/**
 * The most bytes one encrypted part may take: S3's 5 GiB, or less where a
 * Node buffer is smaller (4 GiB on Node 20), since a part is held in memory.
 */
const PART_CEILING = Math.min(S3_LIMITS.maxPart, constants.MAX_LENGTH);

/** What {@link PART_CEILING} is, for messages. */
const CEILING_TEXT =
  PART_CEILING === S3_LIMITS.maxPart
    ? "S3's 5 GiB part limit"
    : `one Node ${process.versions.node} buffer, ${PART_CEILING / GiB} GiB (S3 would take 5 GiB)`;

/**
 * The largest plaintext part: its ciphertext must stay within
 * {@link PART_CEILING}; each chunk grows by 40 bytes, and a final part that
 * fills its whole size carries one more (empty) chunk.
 */
export function maxPartSize(chunkSize: number): number {
  return Math.floor((PART_CEILING - CHUNK_OVERHEAD) / (chunkSize + CHUNK_OVERHEAD)) * chunkSize;
}

/** Checks a `--chunk-size`: a power of two from 4 KiB to 16 MiB (FORMAT.md). */
export function checkChunkSize(chunkSize: number): void {
  try {
    assertChunkSize(chunkSize);
  } catch {
    throw usageError(
      `--chunk-size ${sizeArgument(chunkSize)} is not a power of two from 4KiB to 16MiB (default 64KiB)`,
    );
  }
}

/** `n` rounded up to a multiple of `step`. */
const roundUp = (n: number, step: number) => Math.ceil(n / step) * step;

/**
 * Checks a `--part-size` against S3's limits and the chunk size, before
 * anything is read or sent; the message says what to set instead.
 */
export function checkPartSize(partSize: number, chunkSize: number): void {
  const given = `--part-size ${sizeArgument(partSize)}`;
  if (partSize < S3_LIMITS.minPart) {
    throw usageError(
      `${given} is below S3's 5 MiB minimum part size: set --part-size 5MiB or more (or leave it out: ${sizeArgument(DEFAULT_PUT_PART_SIZE)}, more for files above ${formatBytes(DEFAULT_PUT_PART_SIZE * S3_LIMITS.maxParts)})`,
    );
  }
  const max = maxPartSize(chunkSize);
  if (partSize > max) {
    throw usageError(
      `${given} is above the largest part, ${max} bytes of plaintext in ${sizeArgument(chunkSize)} chunks (its ciphertext must fit ${CEILING_TEXT}): set --part-size ${sizeArgument(Math.floor(max / MiB) * MiB)} or less`,
    );
  }
  if (partSize % chunkSize !== 0) {
    throw usageError(
      `${given} is not a multiple of the ${sizeArgument(chunkSize)} chunk size: set --part-size ${sizeArgument(roundUp(partSize, chunkSize))}`,
    );
  }
}

/**
 * The part size for a `size`-byte file: `requested` (checked with
 * {@link checkPartSize} already) when the file fits 10,000 such parts, else a
 * usage error naming the smallest that works; without a request, 8 MiB or
 * the smallest whole number of MiB that keeps to 10,000 parts.
 */
export function partSizeFor(size: number, requested: number | undefined, chunkSize: number, displayPath: string) {
  const ciphertext = size + (Math.floor(size / chunkSize) + 1) * CHUNK_OVERHEAD;
  if (ciphertext > S3_LIMITS.maxObject) {
    throw usageError(`${displayPath} is ${formatBytes(size)}: S3 objects hold at most 5 TiB (encrypted)`);
  }
  // Whole MiB (or chunks, when larger): a multiple of every chunk size up to 1 MiB.
  const smallest = roundUp(Math.ceil(size / S3_LIMITS.maxParts), Math.max(MiB, chunkSize));
  // At most 5 TiB / 10,000 ≈ 525 MiB, well below maxPartSize.
  if (requested === undefined) return Math.max(DEFAULT_PUT_PART_SIZE, chunkSize, smallest);
  const parts = Math.ceil(size / requested);
  if (parts > S3_LIMITS.maxParts) {
    throw usageError(
      `${displayPath} (${formatBytes(size)}) in parts of --part-size ${sizeArgument(requested)} would take ${parts} parts; S3 allows 10000: set --part-size ${sizeArgument(smallest)} or more (or leave it out to have it chosen)`,
    );
  }
  return requested;
}
