import { compareBytes, concatBytes, u32, utf8 } from './bytes';

/**
 * What a stream is bound to, e.g. `{ bucket, key }`. Decrypting under any
 * other context fails with ES_CONTEXT_MISMATCH.
 * @public
 */
export type EncryptionContext = Readonly<Record<string, string>>;

/** Canonical bytes of a context (FORMAT.md §4): entries sorted by UTF-8 key bytes. */
export function encodeContext(context: EncryptionContext = {}): Uint8Array {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new TypeError('context must be an object of string values');
  }
  const entries = Object.entries(context).map(([k, v]) => {
    if (typeof v !== 'string') throw new TypeError(`context value for "${k}" must be a string`);
    return [utf8(k), utf8(v)] as const;
  });
  entries.sort(([a], [b]) => compareBytes(a, b));
  return concatBytes(entries.flatMap(([k, v]) => [u32(k.length), k, u32(v.length), v]));
}
