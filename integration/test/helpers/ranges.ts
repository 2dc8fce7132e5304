import { CHUNK_OVERHEAD } from '@encrypted-stream/codec/low-level';

/** What S3 returns for `Range` on a `size`-byte object: plaintext `[start, end)`, or undefined for 416. */
export function s3Slice(size: number, range: string): { start: number; end: number } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(range);
  if (!m) throw new Error(`test bug: unsupported range ${range}`);
  const [, a = '', b = ''] = m;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return undefined;
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(a);
  if (start >= size) return undefined;
  return { start, end: b === '' ? size : Math.min(Number(b) + 1, size) };
}

/**
 * The most ciphertext a ranged read of `length` plaintext bytes may fetch:
 * the chunks holding them (at most one partial chunk on each side), each
 * with its 40 bytes of overhead, plus one more chunk for a suffix read that
 * does not yet know where the chunk boundaries fall.
 */
export function maxFetchedBytes(length: number, chunkSize: number): number {
  return (Math.ceil(length / chunkSize) + 1) * (chunkSize + CHUNK_OVERHEAD);
}
