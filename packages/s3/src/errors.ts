import { EncryptedStreamError } from '@encrypted-stream/codec';

/**
 * Stable codes of the S3 package's own failures (the codec's `ErrorCode`s
 * cover format, authentication, key and context failures).
 * @public
 */
export const S3ErrorCode = {
  /** The object carries no encryption metadata (and passthrough is off). */
  NOT_ENCRYPTED: 'ES_NOT_ENCRYPTED',
  /** The operation cannot work on client-side encrypted data. */
  UNSUPPORTED_OPERATION: 'ES_UNSUPPORTED_OPERATION',
  /** A multipart call names an upload whose encryption state this process does not hold. */
  UNKNOWN_UPLOAD: 'ES_UNKNOWN_UPLOAD',
  /** The parts of a multipart upload do not form a complete encrypted object. */
  INVALID_UPLOAD: 'ES_INVALID_UPLOAD',
  /** A resume token is malformed, edited (fails its MAC), or for another destination than the caller's. */
  INVALID_RESUME_TOKEN: 'ES_INVALID_RESUME_TOKEN',
  /**
   * The object changed while an operation that must not clobber it ran: a
   * guarded server-side copy (rotation, CopyObject with REPLACE) found another
   * object than the one it read at the key after copying (see guarded-copy.ts).
   */
  CONCURRENT_MODIFICATION: 'ES_CONCURRENT_MODIFICATION',
} as const;

/** One of the {@link S3ErrorCode} values. @public */
export type S3ErrorCodeValue = (typeof S3ErrorCode)[keyof typeof S3ErrorCode];

/**
 * A failure specific to encrypted objects in S3 (S3 state, unsupported operations).
 * @public
 */
export class EncryptedS3Error extends EncryptedStreamError {
  constructor(code: S3ErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Error for operations that would return or store wrong bytes on encrypted objects. */
export function unsupported(what: string): EncryptedS3Error {
  return new EncryptedS3Error(
    S3ErrorCode.UNSUPPORTED_OPERATION,
    `${what} cannot work on client-side encrypted objects`,
  );
}
