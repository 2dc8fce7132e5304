import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * Deterministic pseudo-random bytes: the AES-256-CTR keystream under
 * SHA-256(seed). Any slice is produced on its own (the counter block comes from
 * the offset), so big objects are generated on the fly and checked piecewise
 * without holding a copy.
 */

const ZEROES = Buffer.alloc(1 << 20);
const BLOCK = 16;

function keystreamAt(seed: string, offset: number) {
  const key = createHash('sha256').update(`reliability-data:${seed}`).digest();
  const block = Math.floor(offset / BLOCK);
  const iv = Buffer.alloc(16);
  iv.writeUIntBE(block, 10, 6);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const skip = offset - block * BLOCK;
  if (skip > 0) cipher.update(ZEROES.subarray(0, skip));
  return cipher;
}

/** `length` bytes of `seed`'s data starting at `offset`. */
export function seededBytes(seed: string, length: number, offset = 0): Buffer {
  const cipher = keystreamAt(seed, offset);
  const out = Buffer.allocUnsafe(length);
  for (let at = 0; at < length; at += ZEROES.length) {
    const n = Math.min(ZEROES.length, length - at);
    cipher.update(ZEROES.subarray(0, n)).copy(out, at);
  }
  return out;
}

/** Pieces of `seed`'s data `[offset, offset + length)`, generated lazily. */
export function* seededPieces(seed: string, length: number, offset = 0, pieceSize = 1 << 20): Generator<Buffer> {
  const cipher = keystreamAt(seed, offset);
  for (let at = 0; at < length; at += pieceSize) {
    const n = Math.min(pieceSize, length - at);
    const piece = Buffer.allocUnsafe(n);
    for (let filled = 0; filled < n; filled += ZEROES.length) {
      const m = Math.min(ZEROES.length, n - filled);
      cipher.update(ZEROES.subarray(0, m)).copy(piece, filled);
    }
    yield piece;
  }
}

/** A Node Readable of `seed`'s data, of unknown length to its reader (what EncryptedUpload must handle). */
export function seededStream(seed: string, length: number, pieceSize = 1 << 20): Readable {
  return Readable.from(seededPieces(seed, length, 0, pieceSize), { objectMode: false });
}

/** SHA-256 (hex) of `seed`'s data `[0, length)`, without holding it. */
export function seededSha256(seed: string, length: number): string {
  const hash = createHash('sha256');
  for (const piece of seededPieces(seed, length)) hash.update(piece);
  return hash.digest('hex');
}

/** SHA-256 (hex) of bytes. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A small deterministic PRNG (mulberry32) for test decisions (offsets, lengths,
 * delays), so a failing run can be replayed from its printed seed.
 */
export function prng(seed: number): { next(): number; int(min: number, max: number): number } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}
