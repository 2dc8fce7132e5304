import { concatBytes } from '../../format/bytes';
import type { CryptoBackend, RandomSource } from './backend';
import type { Sodium } from './sodium';

/** HKDF-SHA256 from libsodium's HMAC-SHA256 (RFC 5869 §2.2–2.3). */
function hkdfWithSodium(sodium: Sodium, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number) {
  const hmac = (key: Uint8Array, ...data: Uint8Array[]): Uint8Array => {
    const state = sodium.crypto_auth_hmacsha256_init(key);
    for (const d of data) sodium.crypto_auth_hmacsha256_update(state, d);
    return sodium.crypto_auth_hmacsha256_final(state);
  };
  if (length > 255 * 32) throw new RangeError('HKDF output too long');
  const prk = hmac(salt, ikm);
  const blocks: Uint8Array[] = [];
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1; blocks.length * 32 < length; i++) {
    previous = hmac(prk, previous, info, Uint8Array.of(i));
    blocks.push(previous);
  }
  return concatBytes(blocks).subarray(0, length);
}

/**
 * The portable backend: everything through libsodium's WebAssembly build.
 * Used where node:crypto lacks chacha20-poly1305, and as the reference in tests.
 */
export function createLibsodiumBackend(sodium: Sodium, random?: RandomSource): CryptoBackend {
  return {
    name: 'libsodium',
    seal(key, nonce, aad, plaintext) {
      const message = plaintext.length === 1 ? (plaintext[0] as Uint8Array) : concatBytes(plaintext);
      const { ciphertext, mac } = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
        message,
        aad,
        null,
        nonce,
        key,
      );
      return [ciphertext, mac];
    },
    open(key, nonce, aad, ciphertext, tag) {
      const body = ciphertext.length === 1 ? (ciphertext[0] as Uint8Array) : concatBytes(ciphertext);
      try {
        return [sodium.crypto_aead_xchacha20poly1305_ietf_decrypt_detached(null, body, tag, aad, nonce, key)];
      } catch {
        return undefined;
      }
    },
    hkdf: (ikm, salt, info, length) => hkdfWithSodium(sodium, ikm, salt, info, length),
    hmacSha256(key, data) {
      const state = sodium.crypto_auth_hmacsha256_init(key);
      for (const d of data) sodium.crypto_auth_hmacsha256_update(state, d);
      return sodium.crypto_auth_hmacsha256_final(state);
    },
    sha256: (data) => sodium.crypto_hash_sha256(data),
    randomBytes: random ?? ((length) => sodium.randombytes_buf(length)),
    equal: (a, b) => a.length === b.length && sodium.memcmp(a, b),
  };
}
