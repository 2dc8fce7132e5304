/**
 * Text encodings of X25519 recipients and identities (FORMAT.md §6, "X25519
 * recipients"): bech32 strings that say what they are and catch typos.
 *
 *   recipient (public key):  es-pub1…          65 characters, lower case
 *   identity (private key):  ES-SECRET-KEY-1…  73 characters, upper case
 */
import { decodeBech32, decodeBech32Words, encodeBech32 } from './bech32';

/** Bytes of an X25519 public or private key. */
export const X25519_KEY_SIZE = 32;
/** Bech32 human-readable part of a recipient (public key). */
export const RECIPIENT_HRP = 'es-pub';
/** Bech32 human-readable part of an identity (private key). */
export const IDENTITY_HRP = 'es-secret-key-';

function assertKey(key: unknown, what: string): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (key.length !== X25519_KEY_SIZE) throw new RangeError(`${what} must be ${X25519_KEY_SIZE} bytes`);
}

/** The hrp of a string that is valid bech32, or undefined (to name a key given in the wrong place). */
const hrpOf = (text: string): string | undefined => decodeBech32Words(text)?.hrp;

/**
 * The text form of an X25519 public key: `es-pub1` and 58 bech32 characters,
 * lower case: what a writer is given.
 * @public
 */
export function formatRecipient(publicKey: Uint8Array): string {
  assertKey(publicKey, 'a recipient public key');
  return encodeBech32(RECIPIENT_HRP, publicKey);
}

/**
 * The 32-byte public key of a recipient string (`es-pub1…`, all lower or all
 * upper case). TypeError for a non-string; RangeError for anything else that is
 * not exactly a recipient — a typo fails the checksum.
 * @public
 */
export function parseRecipient(text: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError('a recipient must be a string');
  const key = decodeBech32(text, RECIPIENT_HRP);
  if (key?.length === X25519_KEY_SIZE) return key;
  if (hrpOf(text) === IDENTITY_HRP) {
    throw new RangeError(
      'this is an identity (a private key), not a recipient: keep it secret and pass its es-pub1… recipient',
    );
  }
  throw new RangeError('not a recipient: expected es-pub1… (65 characters) with a valid checksum');
}

/**
 * The text form of an X25519 private key: `ES-SECRET-KEY-1` and 58 bech32
 * characters, upper case.
 * @public
 */
export function formatIdentity(secretKey: Uint8Array): string {
  assertKey(secretKey, 'an identity secret key');
  return encodeBech32(IDENTITY_HRP, secretKey, true);
}

/**
 * The 32-byte private key of an identity string (`ES-SECRET-KEY-1…`, all upper
 * or all lower case). TypeError for a non-string; RangeError for anything else.
 * Messages never repeat the input (it may be a secret with a typo).
 * @public
 */
export function parseIdentity(text: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError('an identity must be a string');
  const key = decodeBech32(text, IDENTITY_HRP);
  if (key?.length === X25519_KEY_SIZE) return key;
  if (hrpOf(text) === RECIPIENT_HRP) throw new RangeError('this is a recipient (a public key), not an identity');
  throw new RangeError('not an identity: expected ES-SECRET-KEY-1… (73 characters) with a valid checksum');
}

/**
 * The private keys of an identity file: one identity per line; empty lines
 * and lines starting with `#` are ignored; anything else is a RangeError
 * naming the line (never its content). At least one identity.
 * @public
 */
export function parseIdentities(text: string): Uint8Array[] {
  if (typeof text !== 'string') throw new TypeError('identities must be a string');
  const keys: Uint8Array[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      keys.push(parseIdentity(line));
    } catch (error) {
      throw new RangeError(`line ${i + 1}: ${(error as Error).message}`);
    }
  }
  if (keys.length === 0) throw new RangeError('no identity found (expected lines of ES-SECRET-KEY-1…)');
  return keys;
}
