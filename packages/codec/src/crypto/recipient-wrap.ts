/**
 * The X25519 recipient wrap of a data key (FORMAT.md §6, "X25519 recipients"):
 * ephemeral-static X25519, HKDF-SHA256 over the shared secret salted with both
 * public keys, XChaCha20-Poly1305 of the data key with the stream header as
 * associated data.
 *
 *   E       = X25519(e, 9)                       e: 32 fresh random bytes
 *   S       = X25519(e, R)                       refused if all zero
 *   wrapKey = HKDF-SHA256(S, E || R, "encrypted-stream v1 x25519 wrap", 32)
 *   wrapped = E || XChaCha20-Poly1305(wrapKey, nonce = 0^24, aad = header, DK)   (80 bytes)
 */
import { concatBytes, utf8 } from '../format/bytes';
import { HEADER_SIZE, KEY_SIZE, NONCE_SIZE, TAG_SIZE } from '../format/constants';
import { X25519_KEY_SIZE } from '../format/recipient-text';
import type { CryptoBackend } from './backend/backend';
import type { Sodium } from './backend/sodium';
import { x25519PublicKey, x25519SharedSecret } from './x25519';

/** HKDF info of the wrap key. */
export const LABEL_X25519_WRAP = 'encrypted-stream v1 x25519 wrap';
/** Bytes of a recipient-wrapped data key: ephemeral public key, encrypted data key, tag. */
export const X25519_WRAPPED_SIZE = X25519_KEY_SIZE + KEY_SIZE + TAG_SIZE;

/**
 * The nonce of the wrap: all zero. Every wrap key encrypts exactly one message,
 * since it is derived from a fresh ephemeral key that is also in its salt.
 */
const ZERO_NONCE = new Uint8Array(NONCE_SIZE);

function wrapKey(backend: CryptoBackend, shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array) {
  return backend.hkdf(shared, concatBytes([ephemeral, recipient]), utf8(LABEL_X25519_WRAP), KEY_SIZE);
}

/** TypeError unless both are bytes; RangeError unless `header` is 96 bytes. */
function assertArguments(bytes: unknown, header: unknown, what: string): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array) || !(header instanceof Uint8Array)) {
    throw new TypeError(`${what} and aad must be Uint8Arrays`);
  }
  if (header.length !== HEADER_SIZE) throw new RangeError(`aad must be the ${HEADER_SIZE}-byte stream header`);
}

/**
 * Wraps `dataKey` to the X25519 public key `recipient`, bound to `header`
 * (the 96-byte stream header). The ephemeral private key comes from
 * `backend.randomBytes` and is wiped after use. RangeError if `recipient` is a
 * point of small order: nothing can be encrypted to it.
 */
export function wrapToRecipient(
  sodium: Sodium,
  backend: CryptoBackend,
  recipient: Uint8Array,
  dataKey: Uint8Array,
  header: Uint8Array,
): Uint8Array {
  assertArguments(dataKey, header, 'the data key');
  if (dataKey.length !== KEY_SIZE) throw new RangeError(`the data key must be ${KEY_SIZE} bytes`);
  const secret = backend.randomBytes(X25519_KEY_SIZE);
  let shared: Uint8Array | undefined;
  let key: Uint8Array | undefined;
  try {
    const ephemeral = x25519PublicKey(sodium, secret);
    shared = x25519SharedSecret(sodium, secret, recipient);
    if (!shared) throw new RangeError('the recipient is a low-order point: no one could keep a secret wrapped to it');
    key = wrapKey(backend, shared, ephemeral, recipient);
    return concatBytes([ephemeral, ...backend.seal(key, ZERO_NONCE, header, [dataKey])]);
  } finally {
    secret.fill(0);
    shared?.fill(0);
    key?.fill(0);
  }
}

/**
 * Recovers the data key from `wrapped` with the identity `secretKey` (whose
 * public key is `publicKey`), or undefined if it does not authenticate: another
 * length, a low-order ephemeral key, a tampered byte, another header, another
 * recipient. Argument mistakes (an aad that is not 96 bytes) are RangeErrors.
 */
export function unwrapWithIdentity(
  sodium: Sodium,
  backend: CryptoBackend,
  secretKey: Uint8Array,
  publicKey: Uint8Array,
  wrapped: Uint8Array,
  header: Uint8Array,
): Uint8Array | undefined {
  assertArguments(wrapped, header, 'the wrapped key');
  if (wrapped.length !== X25519_WRAPPED_SIZE) return undefined;
  const ephemeral = wrapped.subarray(0, X25519_KEY_SIZE);
  const shared = x25519SharedSecret(sodium, secretKey, ephemeral);
  if (!shared) return undefined;
  const key = wrapKey(backend, shared, ephemeral, publicKey);
  shared.fill(0);
  try {
    const opened = backend.open(
      key,
      ZERO_NONCE,
      header,
      [wrapped.subarray(X25519_KEY_SIZE, X25519_KEY_SIZE + KEY_SIZE)],
      wrapped.subarray(X25519_KEY_SIZE + KEY_SIZE),
    );
    if (!opened) return undefined;
    const dataKey = concatBytes(opened);
    for (const piece of opened) piece.fill(0);
    return dataKey;
  } finally {
    key.fill(0);
  }
}
