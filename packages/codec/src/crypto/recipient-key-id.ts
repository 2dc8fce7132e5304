import { concatBytes, toBase64Url, utf8 } from '../format/bytes';
import { X25519_KEY_SIZE } from '../format/recipient-text';
import type { CryptoBackend } from './backend/backend';

/** Prefix of the key id of every key block wrapped to an X25519 recipient. */
export const X25519_KEY_ID_PREFIX = 'es-x25519-';
/** Hashed before the public key, so the fingerprint means nothing elsewhere. */
export const LABEL_X25519_KEY_ID = 'encrypted-stream v1 x25519 key id';
/** Bytes of SHA-256 kept: 128 bits, 22 base64url characters. */
const FINGERPRINT_SIZE = 16;

/**
 * The key id of data keys wrapped to the X25519 public key `publicKey`
 * (FORMAT.md §6): `es-x25519-` || base64url(SHA-256(label || publicKey)[0..16]),
 * 32 printable characters. One-way: the stored key id names the recipient
 * without revealing it, so a store that never saw the public key cannot wrap a
 * data key to it.
 */
export function recipientKeyId(backend: CryptoBackend, publicKey: Uint8Array): string {
  if (publicKey.length !== X25519_KEY_SIZE) throw new RangeError(`an X25519 public key is ${X25519_KEY_SIZE} bytes`);
  const digest = backend.sha256(concatBytes([utf8(LABEL_X25519_KEY_ID), publicKey]));
  return X25519_KEY_ID_PREFIX + toBase64Url(digest.subarray(0, FINGERPRINT_SIZE));
}
