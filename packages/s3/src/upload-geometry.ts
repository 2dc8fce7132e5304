import { CHUNK_OVERHEAD, chunkOffset } from '@encrypted-stream/codec/low-level';
import { DEFAULT_PART_SIZE } from './options';
import { MAX_PARTS, MIN_PART_SIZE } from './upload-state';

/**
 * How {@link EncryptedUpload} cuts its encrypted stream into parts. It
 * encrypts the body as one stream and hands lib-storage the ciphertext in
 * parts of whole chunks, so part n carries plaintext bytes
 * [(n-1)·partSize, n·partSize) and every part but the last holds
 * `cipherPartSize` bytes. The stream ends with its final chunk (40 bytes when
 * the body is a multiple of the chunk size), so a body of P bytes takes
 * floor(P / partSize) + 1 parts.
 */
export interface UploadGeometry {
  /** Plaintext bytes per part. */
  readonly partSize: number;
  /** Ciphertext bytes of every part but the last: what lib-storage is given as its partSize. */
  readonly cipherPartSize: number;
}

/** S3's largest part: 5 GiB. */
export const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;

/** Parts an encrypted body of `plaintextSize` bytes takes in parts of `partSize` plaintext bytes. */
export function partCount(plaintextSize: number, partSize: number): number {
  return Math.floor(plaintextSize / partSize) + 1;
}

/**
 * The default part size: 8 MiB (the chunk size if that is larger), grown for a
 * body of known size so that it fits S3's 10,000 parts.
 */
export function defaultUploadPartSize(chunkSize: number, plaintextSize: number | undefined): number {
  const fits = plaintextSize === undefined ? 0 : Math.floor(plaintextSize / MAX_PARTS) + 1;
  return Math.max(DEFAULT_PART_SIZE, chunkSize, Math.ceil(fits / chunkSize) * chunkSize);
}

/**
 * Checks `partSize` (plaintext bytes) against the chunk size and S3's limits
 * (5 MiB … 5 GiB per part with its overhead, 10,000 parts for a body of known
 * size) and returns the geometry; RangeError that names the limit otherwise.
 */
export function uploadGeometry(partSize: number, chunkSize: number, plaintextSize: number | undefined): UploadGeometry {
  if (!Number.isSafeInteger(partSize) || partSize <= 0 || partSize % chunkSize !== 0) {
    throw new RangeError(
      `partSize is in plaintext bytes and must be a positive multiple of the ${chunkSize}-byte chunk size, got ${partSize}`,
    );
  }
  if (partSize < MIN_PART_SIZE) {
    throw new RangeError(`partSize must be at least ${MIN_PART_SIZE} bytes (S3's 5 MiB minimum part), got ${partSize}`);
  }
  const cipherPartSize = chunkOffset(partSize / chunkSize, chunkSize);
  if (cipherPartSize > MAX_PART_BYTES) {
    throw new RangeError(
      `partSize ${partSize} makes ${cipherPartSize}-byte encrypted parts, more than S3's 5 GiB per part`,
    );
  }
  if (plaintextSize !== undefined && partCount(plaintextSize, partSize) > MAX_PARTS) {
    const least = Math.ceil((Math.floor(plaintextSize / MAX_PARTS) + 1) / chunkSize) * chunkSize;
    throw new RangeError(
      `a ${plaintextSize}-byte body in parts of ${partSize} bytes takes ${partCount(plaintextSize, partSize)} parts, ` +
        `more than S3's ${MAX_PARTS}: use a partSize of at least ${least} (or leave it out)`,
    );
  }
  return { partSize, cipherPartSize };
}

/**
 * Plaintext bytes carried by `cipherBytes` bytes of uploaded ciphertext: exact
 * for any set of whole parts (every full part is whole chunks, and the last
 * part ends with the final chunk); while parts are under way (handlers that
 * report bytes sent), within 40 bytes per part.
 */
export function plaintextBytesIn(cipherBytes: number, chunkSize: number): number {
  const stride = chunkSize + CHUNK_OVERHEAD;
  const chunks = Math.floor(cipherBytes / stride);
  return chunks * chunkSize + Math.max(0, cipherBytes - chunks * stride - CHUNK_OVERHEAD);
}
