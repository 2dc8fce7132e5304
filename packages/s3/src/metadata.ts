import { ErrorCode, FormatError } from '@encrypted-stream/codec';
import { type EncryptionHeader, fromDetachedHeader, toDetachedHeader } from '@encrypted-stream/codec/low-level';

/**
 * User-metadata names (after `x-amz-meta-`) holding the detached header
 * (FORMAT.md §7). Three short keys, each value under 256 characters, so
 * every S3-compatible store keeps them.
 * @public
 */
export const METADATA_KEYS = { h: 'es-h', k: 'es-k', w: 'es-w' } as const;

const RESERVED = new Set<string>(Object.values(METADATA_KEYS));

/** The user metadata that carries `header`. */
export function encryptionMetadata(header: EncryptionHeader): Record<string, string> {
  const { h, k, w } = toDetachedHeader(header);
  return { [METADATA_KEYS.h]: h, [METADATA_KEYS.k]: k, [METADATA_KEYS.w]: w };
}

/** Case-insensitive lookup: S3 lowercases metadata names, other stores may not. */
function lookup(metadata: Record<string, string> | undefined, name: string): string | undefined {
  if (!metadata) return undefined;
  if (name in metadata) return metadata[name];
  for (const [k, v] of Object.entries(metadata)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/**
 * The encryption header carried by an object's metadata; `undefined` when the
 * object has none of our keys (not encrypted by us). Partial or malformed
 * metadata is FormatError(ES_MALFORMED): someone tampered with it.
 */
export function readEncryptionHeader(metadata: Record<string, string> | undefined): EncryptionHeader | undefined {
  const h = lookup(metadata, METADATA_KEYS.h);
  const k = lookup(metadata, METADATA_KEYS.k);
  const w = lookup(metadata, METADATA_KEYS.w);
  if (h === undefined && k === undefined && w === undefined) return undefined;
  if (h === undefined || k === undefined || w === undefined) {
    throw new FormatError(ErrorCode.MALFORMED, 'the object has only part of its encryption metadata');
  }
  return fromDetachedHeader({ h, k, w });
}

/** The caller's own metadata: everything but our keys. */
export function userMetadata(metadata: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!metadata) return metadata;
  return Object.fromEntries(Object.entries(metadata).filter(([k]) => !RESERVED.has(k.toLowerCase())));
}

/** Throws TypeError if the caller's metadata uses one of our reserved names. */
export function assertNoReservedMetadata(metadata: Record<string, string> | undefined): void {
  for (const k of Object.keys(metadata ?? {})) {
    if (RESERVED.has(k.toLowerCase())) throw new TypeError(`metadata key "${k}" is reserved for encryption`);
  }
}
