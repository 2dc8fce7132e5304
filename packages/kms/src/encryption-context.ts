import { HEADER_SIZE } from '@encrypted-stream/codec/low-level';

/** Name of the fixed entry of the KMS encryption context (FORMAT.md §6, KMS keyring). @public */
export const KMS_CONTEXT_PURPOSE_NAME = 'es-purpose';
/** Value of the fixed entry. @public */
export const KMS_CONTEXT_PURPOSE = 'encrypted-stream v1 kms wrap';
/** Name of the entry holding base64url(SHA-256(stream header)). @public */
export const KMS_CONTEXT_HEADER_NAME = 'es-header';

/**
 * The KMS `EncryptionContext` that wraps and unwraps the data key of the
 * stream whose 96-byte header is `header` (FORMAT.md §6):
 * `{ "es-purpose": "encrypted-stream v1 kms wrap", "es-header": base64url(SHA-256(header)) }`.
 * KMS authenticates it with the wrapped key, so a key block moved to another
 * stream does not unwrap. Its values are not secret (CloudTrail logs them).
 * @public
 */
export async function kmsEncryptionContext(header: Uint8Array): Promise<Record<string, string>> {
  if (!(header instanceof Uint8Array) || header.length !== HEADER_SIZE) {
    throw new RangeError(`aad must be the ${HEADER_SIZE}-byte stream header`);
  }
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', header.slice()));
  return { [KMS_CONTEXT_PURPOSE_NAME]: KMS_CONTEXT_PURPOSE, [KMS_CONTEXT_HEADER_NAME]: base64url(digest) };
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** RFC 4648 §5 without padding (no Buffer: this package runs wherever the KMS client does). */
function base64url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let c = 0; c < chars; c++) out += ALPHABET[(n >> (18 - 6 * c)) & 63];
  }
  return out;
}
