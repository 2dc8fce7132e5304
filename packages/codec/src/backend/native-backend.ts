import * as nodeCrypto from 'node:crypto';
import type { CryptoBackend, RandomSource } from './backend';
import type { Sodium } from './sodium';

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
 * XChaCha20-Poly1305 as libsodium builds it: subkey = HChaCha20(key, nonce[0..16]),
 * then node:crypto's native ChaCha20-Poly1305 with nonce 0x00000000 || nonce[16..24].
 */
export function createNativeBackend(sodium: Sodium, random?: RandomSource): CryptoBackend {
  const ietfNonce = (nonce: Uint8Array): Buffer => {
    const iv = Buffer.alloc(12);
    iv.set(nonce.subarray(16, 24), 4);
    return iv;
  };
  const plaintextLength = (pieces: readonly Uint8Array[]) => pieces.reduce((n, p) => n + p.length, 0);
  return {
    name: 'native',
    seal(key, nonce, aad, plaintext) {
      const subkey = sodium.crypto_core_hchacha20(nonce.subarray(0, 16), key, null);
      const cipher = nodeCrypto.createCipheriv('chacha20-poly1305', subkey, ietfNonce(nonce), {
        authTagLength: TAG_LENGTH,
      });
      subkey.fill(0);
      cipher.setAAD(aad, { plaintextLength: plaintextLength(plaintext) });
      const out: Uint8Array[] = [];
      for (const piece of plaintext) {
        const c = cipher.update(piece);
        if (c.length > 0) out.push(c);
      }
      const rest = cipher.final();
      if (rest.length > 0) out.push(rest);
      out.push(cipher.getAuthTag());
      return out;
    },
    open(key, nonce, aad, ciphertext, tag) {
      const subkey = sodium.crypto_core_hchacha20(nonce.subarray(0, 16), key, null);
      const decipher = nodeCrypto.createDecipheriv('chacha20-poly1305', subkey, ietfNonce(nonce), {
        authTagLength: TAG_LENGTH,
      });
      subkey.fill(0);
      decipher.setAAD(aad, { plaintextLength: plaintextLength(ciphertext) });
      decipher.setAuthTag(tag);
      const out: Uint8Array[] = [];
      for (const piece of ciphertext) {
        const p = decipher.update(piece);
        if (p.length > 0) out.push(p);
      }
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
