/**
 * The bench's inputs and the byte-for-byte check of every output: random
 * files (incompressible, so no side gains from compression) and streamed
 * SHA-256 digests of whole files or of one slice.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';

const BLOCK = 16 * 1024 * 1024;

/** Writes `size` random bytes to `path`. */
export function writeRandomFile(path: string, size: number): void {
  const block = Buffer.allocUnsafe(Math.min(BLOCK, Math.max(size, 1)));
  const fd = openSync(path, 'w');
  try {
    for (let left = size; left > 0; ) {
      const n = Math.min(left, block.length);
      randomFillSync(block, 0, n);
      writeSync(fd, block, 0, n);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
}

/** SHA-256 (hex) of `path`, or of its bytes `start` … `end - 1` when given. */
export async function sha256File(path: string, start?: number, end?: number): Promise<string> {
  const hash = createHash('sha256');
  const range = start === undefined ? {} : { start, ...(end === undefined ? {} : { end: end - 1 }) };
  for await (const piece of createReadStream(path, { highWaterMark: 4 * 1024 * 1024, ...range })) {
    hash.update(piece as Buffer);
  }
  return hash.digest('hex');
}
