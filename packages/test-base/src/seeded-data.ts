import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * Deterministic pseudo-random bytes: the AES-256-CTR keystream under
 * SHA-256(seed). Any slice can be produced on its own (the counter block is
 * derived from the offset), so big objects are generated on the fly, checked
 * piecewise, and never held twice.
 */

const ZEROES = Buffer.alloc(1 << 20); // reused input of the keystream
const BLOCK = 16;

function keystreamAt(seed: string, offset: number) {
  const key = createHash('sha256').update(`integration-data:${seed}`).digest();
  const block = Math.floor(offset / BLOCK);
  const iv = Buffer.alloc(16);
  iv.writeUIntBE(block, 10, 6); // offsets up to 2^52 bytes
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const skip = offset - block * BLOCK;
  if (skip > 0) cipher.update(ZEROES.subarray(0, skip));
  return cipher;
}

/** Fills `target` with the next bytes of `cipher`'s keystream. */
function fill(cipher: ReturnType<typeof keystreamAt>, target: Buffer): Buffer {
  for (let at = 0; at < target.length; at += ZEROES.length) {
    const n = Math.min(ZEROES.length, target.length - at);
    cipher.update(ZEROES.subarray(0, n)).copy(target, at);
  }
  return target;
}

/** `length` bytes of `seed`'s data starting at `offset`. */
export function seededBytes(seed: string, length: number, offset = 0): Buffer {
  return fill(keystreamAt(seed, offset), Buffer.allocUnsafe(length));
}

/** Pieces of `seed`'s data `[offset, offset + length)`, generated lazily. */
export function* seededPieces(seed: string, length: number, offset = 0, pieceSize = 1 << 20): Generator<Buffer> {
  const cipher = keystreamAt(seed, offset);
  for (let at = 0; at < length; at += pieceSize) {
    yield fill(cipher, Buffer.allocUnsafe(Math.min(pieceSize, length - at)));
  }
}

/**
 * A Node Readable of `seed`'s data, of unknown length to anyone reading it
 * (no `path`, no ContentLength): what EncryptedUpload must handle.
 */
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
 * Plaintext that is easy to look for: `seed`'s data with the 32-byte
 * `marker` written every `every` bytes.
 */
export function markedBytes(seed: string, length: number, marker: Uint8Array, every = 4096): Buffer {
  const out = seededBytes(seed, length);
  for (let at = 0; at + marker.length <= length; at += every) out.set(marker, at);
  return out;
}
