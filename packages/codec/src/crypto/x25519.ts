/**
 * X25519 (RFC 7748) through libsodium, the same on both backends: node:crypto
 * has X25519 only behind KeyObjects, and libsodium is loaded anyway.
 */
import { X25519_KEY_SIZE } from '../format/recipient-text';
import type { Sodium } from './backend/sodium';

/** Whether every byte is zero, in time independent of the bytes. */
export function isAllZero(bytes: Uint8Array): boolean {
  let any = 0;
  for (let i = 0; i < bytes.length; i++) any |= bytes[i] as number;
  return any === 0;
}

/** `X25519(secretKey, 9)`: the public key of a 32-byte private key (clamped by X25519 itself). */
export function x25519PublicKey(sodium: Sodium, secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== X25519_KEY_SIZE) throw new RangeError(`an X25519 private key is ${X25519_KEY_SIZE} bytes`);
  return sodium.crypto_scalarmult_base(secretKey);
}

/**
 * `X25519(secretKey, publicKey)`, or undefined when the result is all zero:
 * `publicKey` is a point of small order (or equivalent to one), whose shared
 * secret anyone can compute. libsodium refuses those itself; the zero check
 * here holds whatever the libsodium build.
 */
export function x25519SharedSecret(
  sodium: Sodium,
  secretKey: Uint8Array,
  publicKey: Uint8Array,
): Uint8Array | undefined {
  if (secretKey.length !== X25519_KEY_SIZE || publicKey.length !== X25519_KEY_SIZE) {
    throw new RangeError(`X25519 keys are ${X25519_KEY_SIZE} bytes`);
  }
  let shared: Uint8Array;
  try {
    shared = sodium.crypto_scalarmult(secretKey, publicKey);
  } catch {
    return undefined; // libsodium: "weak public key"
  }
  if (isAllZero(shared)) return undefined;
  return shared;
}
