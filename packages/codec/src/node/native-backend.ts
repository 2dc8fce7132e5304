import * as nodeCrypto from 'node:crypto';
import type { CryptoBackend, RandomSource } from '../crypto/backend/backend';
import type { Sodium } from '../crypto/backend/sodium';

const TAG_LENGTH = 16;

/** Whether this runtime's node:crypto offers the IETF ChaCha20-Poly1305 AEAD. */
export function nativeChaChaAvailable(): boolean {
  return typeof nodeCrypto.getCiphers === 'function' && nodeCrypto.getCiphers().includes('chacha20-poly1305');
}

/**
 * Random bytes drawn from a pooled CSPRNG buffer: one syscall per 4 KiB instead
 * of one per 24-byte nonce. Every call returns a fresh copy the caller owns.
 */
function pooledRandom(): RandomSource {
  const pool = Buffer.allocUnsafe(4096);
  let offset = pool.length;
  return (length) => {
    if (length > pool.length) return new Uint8Array(nodeCrypto.randomBytes(length));
    if (offset + length > pool.length) {
      nodeCrypto.randomFillSync(pool);
      offset = 0;
    }
    const out = Uint8Array.prototype.slice.call(pool, offset, offset + length);
    pool.fill(0, offset, offset + length); // spent randomness is not kept around
    offset += length;
    return out;
  };
}

/**
 * How chunks that arrive in several pieces go through update().
 *
 * Every update() costs a few microseconds beyond its bytes (node:crypto
 * allocates a fresh output buffer, and each output is one more piece for the
 * caller to handle and the GC to collect), and the pieces themselves can be
 * a trap: OpenSSL's AVX-512 Poly1305 (`poly1305_blocks_vpmadd52`) takes its
 * fast 8-blocks-at-a-time path only when one call hands it a block count that
 * is 0…3 modulo 8; otherwise the whole call runs the 4-block path, about half
 * as fast. Decrypting 64 KiB read-stream pieces hits both: a chunk is 64 KiB +
 * 40 bytes, so nearly every chunk straddles two pieces.
 *
 * - Up to JOIN_MAX bytes (the default chunk size), the pieces are copied into
 *   one reusable buffer and go through a single update(). Measured on 64 KiB
 *   chunks straddling two pieces: the copy (~3.5 us) is cheaper than two more
 *   updates and outputs; decryption of 64 KiB pieces gains ~6%.
 * - Larger chunks (where copying everything costs more than it saves) go
 *   through as views, cut at GROUP-byte boundaries of the chunk rather than at
 *   piece boundaries, so that every update() but the last gets a multiple of 8
 *   Poly1305 blocks; only the < GROUP bytes that straddle a piece boundary are
 *   copied, into a small scratch buffer, and get an update() of their own.
 */
const JOIN_MAX = 64 * 1024;
const GROUP = 128;

type Stream = Pick<nodeCrypto.Cipher, 'update'>;

/** Reusable buffers of one backend: update() copies its input and all use is synchronous. */
interface Scratch {
  /** JOIN_MAX bytes, allocated on first use. */
  join: Uint8Array | undefined;
  /** GROUP bytes. */
  group: Uint8Array;
}

/**
 * Runs the concatenation of `pieces` (`total` bytes) through `cipher.update`, appending the
 * non-empty outputs to `out`. With `wipe`, copies left in `scratch` are zeroed
 * afterwards (for plaintext; ciphertext needs no wiping).
 */
function feed(
  cipher: Stream,
  pieces: readonly Uint8Array[],
  total: number,
  out: Uint8Array[],
  scratch: Scratch,
  wipe: boolean,
): void {
  const last = pieces.length - 1;
  if (last === 0) {
    // One piece (a chunk that arrived whole): nothing to do.
    update(cipher, pieces[0] as Uint8Array, out);
    return;
  }
  if (total <= JOIN_MAX) {
    scratch.join ??= new Uint8Array(JOIN_MAX);
    const join = scratch.join;
    let at = 0;
    for (let i = 0; i <= last; i++) {
      const piece = pieces[i] as Uint8Array;
      join.set(piece, at);
      at += piece.length;
    }
    update(cipher, join.subarray(0, total), out);
    if (wipe) join.fill(0, 0, total);
    return;
  }
  const group = scratch.group;
  let carry = 0; // bytes waiting in `group`; the input so far is GROUP-aligned once they are fed
  for (let i = 0; i <= last; i++) {
    const piece = pieces[i] as Uint8Array;
    const length = piece.length;
    let at = 0;
    if (carry > 0) {
      at = Math.min(GROUP - carry, length);
      for (let j = 0; j < at; j++) group[carry + j] = piece[j] as number; // < GROUP bytes: a loop beats subarray()+set()
      carry += at;
      if (carry < GROUP && i < last) continue;
      update(cipher, carry === GROUP ? group : group.subarray(0, carry), out);
      carry = 0;
    }
    // The last piece goes through whole; the others keep their unaligned tail back.
    const end = i === last ? length : length - ((length - at) % GROUP);
    if (end > at) update(cipher, at === 0 && end === length ? piece : piece.subarray(at, end), out);
    if (end < length) {
      carry = length - end;
      for (let j = 0; j < carry; j++) group[j] = piece[end + j] as number;
    }
  }
  if (wipe) group.fill(0);
}

function totalLength(pieces: readonly Uint8Array[]): number {
  let n = 0;
  for (let i = 0; i < pieces.length; i++) n += (pieces[i] as Uint8Array).length;
  return n;
}

function update(cipher: Stream, data: Uint8Array, out: Uint8Array[]): void {
  const result = cipher.update(data);
  if (result.length > 0) out.push(result);
}

/**
 * XChaCha20-Poly1305 as libsodium builds it: subkey = HChaCha20(key, nonce[0..16]),
 * then node:crypto's native ChaCha20-Poly1305 with nonce 0x00000000 || nonce[16..24].
 */
export function createNativeBackend(sodium: Sodium, random?: RandomSource): CryptoBackend {
  // Per-backend scratch space, reused by every call (all use is synchronous:
  // createCipheriv() copies key and IV, update() its input). Copying into it
  // with loops rather than nonce.subarray() matters: a subarray of a small
  // (on-heap) typed array, such as a fresh 24-byte nonce, or handing one to
  // node:crypto, makes V8 move it into an ArrayBuffer of its own, and those
  // extra per-chunk ArrayBuffers cost ~2 us per chunk in allocation and GC.
  const hchachaInput = new Uint8Array(16);
  const subkey = Buffer.alloc(32);
  const iv = Buffer.alloc(12); // 0x00000000 || nonce[16..24]
  const scratch: Scratch = { join: undefined, group: new Uint8Array(GROUP) };
  /** Sets `subkey` and `iv` for `nonce`. The caller zeroes `subkey` once used. */
  const derive = (key: Uint8Array, nonce: Uint8Array) => {
    if (nonce.length < 24) throw new RangeError('nonce must be 24 bytes');
    for (let i = 0; i < 16; i++) hchachaInput[i] = nonce[i] as number;
    for (let i = 0; i < 8; i++) iv[4 + i] = nonce[16 + i] as number;
    const k = sodium.crypto_core_hchacha20(hchachaInput, key, null);
    subkey.set(k);
    k.fill(0);
  };
  return {
    name: 'native',
    seal(key, nonce, aad, plaintext) {
      derive(key, nonce);
      const cipher = nodeCrypto.createCipheriv('chacha20-poly1305', subkey, iv, { authTagLength: TAG_LENGTH });
      subkey.fill(0);
      const length = totalLength(plaintext);
      cipher.setAAD(aad, { plaintextLength: length });
      const out: Uint8Array[] = [];
      feed(cipher, plaintext, length, out, scratch, true);
      const rest = cipher.final();
      if (rest.length > 0) out.push(rest);
      out.push(cipher.getAuthTag());
      return out;
    },
    open(key, nonce, aad, ciphertext, tag) {
      derive(key, nonce);
      const decipher = nodeCrypto.createDecipheriv('chacha20-poly1305', subkey, iv, { authTagLength: TAG_LENGTH });
      subkey.fill(0);
      const length = totalLength(ciphertext);
      decipher.setAAD(aad, { plaintextLength: length });
      decipher.setAuthTag(tag);
      const out: Uint8Array[] = [];
      feed(decipher, ciphertext, length, out, scratch, false);
      try {
        decipher.final();
      } catch {
        for (const p of out) p.fill(0); // unauthenticated plaintext never escapes
        return undefined;
      }
      return out;
    },
    hkdf: (ikm, salt, info, length) => new Uint8Array(nodeCrypto.hkdfSync('sha256', ikm, salt, info, length)),
    hmacSha256(key, data) {
      const hmac = nodeCrypto.createHmac('sha256', key);
      for (const d of data) hmac.update(d);
      return new Uint8Array(hmac.digest());
    },
    sha256: (data) => new Uint8Array(nodeCrypto.createHash('sha256').update(data).digest()),
    randomBytes: random ?? pooledRandom(),
    equal: (a, b) => a.length === b.length && nodeCrypto.timingSafeEqual(a, b),
  };
}

/**
 * What the core's backend selection finds behind `#native-backend` under Node
 * (package.json `imports`): the native factory where node:crypto has the AEAD.
 */
export const nativeBackend: ((sodium: Sodium) => CryptoBackend) | undefined = nativeChaChaAvailable()
  ? (sodium) => createNativeBackend(sodium)
  : undefined;

/**
 * The libsodium module, required on first use (sodium.ts): a process that opens no
 * cipher never loads it. require, not import(): the codec's Node build is CommonJS,
 * and a real import() would parse the glue once more through the ES module loader.
 */
export const importSodium = (): Promise<Sodium> => Promise.resolve(require('libsodium-wrappers-sumo') as Sodium);
