import type { EncryptionContext, Keyring } from '@encrypted-stream/codec';
import { assertChunkSize, DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { DEFAULT_STREAM_CACHE_SIZE } from './stream-cache';

/**
 * Where an object lives; what a context function binds to.
 * @public
 */
export interface ObjectLocation {
  readonly bucket: string;
  readonly key: string;
}

/**
 * Options of the encryption plugin and of the upload classes.
 * @public
 */
export interface EncryptionOptions {
  /** Wraps the data key of every new object and unwraps it on read. */
  readonly keyring: Keyring;
  /**
   * What objects are bound to (FORMAT.md §4).
   * - `'none'` (default): nothing; server-side copies and renames stay readable.
   * - `'location'`: `{ bucket, key }`; an object moved, copied or swapped to
   *   another key no longer decrypts, and server-side copies are refused.
   * - a function of the object's location returning any string map.
   */
  readonly context?: 'none' | 'location' | ((location: ObjectLocation) => EncryptionContext);
  /** Plaintext bytes per chunk of new objects (default 64 KiB). Reads adapt to any chunk size. */
  readonly chunkSize?: number;
  /**
   * Plaintext bytes per part (a multiple of the chunk size) of multipart
   * uploads whose CreateMultipartUpload gives none (`withEncryption(input,
   * { partSize })`), and of `EncryptedMultipartUpload`. Default 8 MiB, except
   * that an upload created through the plugin with neither a part size nor a
   * recorded size takes its part size from its part 1, as lib-storage's
   * `Upload` cuts it.
   */
  readonly partSize?: number;
  /** Return objects without encryption metadata as they are, instead of failing with ES_NOT_ENCRYPTED. */
  readonly passthrough?: boolean;
  /**
   * How many opened objects reads remember (default 256; 0 turns it off), so
   * that repeated ranged reads of one object skip the key unwrap and key
   * derivation. Each entry keeps one derived payload key in memory; a
   * keyring call (a KMS request) is saved on every hit.
   */
  readonly streamCacheSize?: number;
}

/** Options with defaults applied and checked. */
export interface ResolvedOptions {
  readonly keyring: Keyring;
  readonly contextFor: (location: ObjectLocation) => EncryptionContext;
  readonly bindsLocation: boolean;
  readonly chunkSize: number;
  readonly partSize: number;
  readonly passthrough: boolean;
  readonly streamCacheSize: number;
}

/** Default part size of the low-level multipart path. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/** Applies defaults and validates; argument mistakes are TypeError/RangeError. */
export function resolveOptions(options: EncryptionOptions): ResolvedOptions {
  if (!options || typeof options.keyring?.wrap !== 'function' || typeof options.keyring?.unwrap !== 'function') {
    throw new TypeError('options.keyring must be a Keyring');
  }
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  assertChunkSize(chunkSize);
  // The default part size grows with the chunk size (both are powers of two) so 16 MiB chunks work.
  const partSize = options.partSize ?? Math.max(DEFAULT_PART_SIZE, chunkSize);
  assertPartSize(partSize, chunkSize);
  const context = options.context ?? 'none';
  let contextFor: ResolvedOptions['contextFor'];
  if (context === 'none') contextFor = () => ({});
  else if (context === 'location') contextFor = ({ bucket, key }) => ({ bucket, key });
  else if (typeof context === 'function') contextFor = context;
  else throw new TypeError("options.context must be 'none', 'location' or a function");
  const streamCacheSize = options.streamCacheSize ?? DEFAULT_STREAM_CACHE_SIZE;
  if (!Number.isSafeInteger(streamCacheSize) || streamCacheSize < 0) {
    throw new RangeError(`streamCacheSize must be a non-negative integer, got ${streamCacheSize}`);
  }
  return {
    keyring: options.keyring,
    contextFor,
    bindsLocation: context !== 'none',
    chunkSize,
    partSize,
    passthrough: options.passthrough ?? false,
    streamCacheSize,
  };
}

/** Throws RangeError unless `partSize` is a positive multiple of `chunkSize`. */
export function assertPartSize(partSize: number, chunkSize: number): void {
  if (!Number.isSafeInteger(partSize) || partSize <= 0 || partSize % chunkSize !== 0) {
    throw new RangeError(`partSize must be a positive multiple of the ${chunkSize}-byte chunk size, got ${partSize}`);
  }
}
