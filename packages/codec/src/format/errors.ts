/**
 * Stable error codes. Tests and callers branch on these, never on messages.
 * @public
 */
export const ErrorCode = {
  /** A chunk (or the whole-stream framing) failed authentication. */
  AUTH_FAILED: 'ES_AUTH_FAILED',
  /** The header, key block or framing is malformed. */
  MALFORMED: 'ES_MALFORMED',
  /** The version or algorithm suite is not one this library reads. */
  UNSUPPORTED_VERSION: 'ES_UNSUPPORTED_VERSION',
  /** The keyring holds no key with the stream's key id. */
  UNKNOWN_KEY: 'ES_UNKNOWN_KEY',
  /** The wrapped data key did not authenticate under the master key. */
  KEY_UNWRAP_FAILED: 'ES_KEY_UNWRAP_FAILED',
  /** The unwrapped data key does not match the header's key commitment. */
  KEY_COMMITMENT_MISMATCH: 'ES_KEY_COMMITMENT_MISMATCH',
  /** The stream was bound to a different context. */
  CONTEXT_MISMATCH: 'ES_CONTEXT_MISMATCH',
  /** The stream ended before its final chunk. */
  TRUNCATED: 'ES_TRUNCATED',
  /** Bytes follow the final chunk. */
  TRAILING_DATA: 'ES_TRAILING_DATA',
  /** The stream's size disagrees with the size recorded in its header. */
  SIZE_MISMATCH: 'ES_SIZE_MISMATCH',
} as const;

/** One of the {@link ErrorCode} values. @public */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Base class of every failure of encrypted data, keys or format.
 * Argument mistakes are `TypeError`/`RangeError` instead.
 * @public
 */
export class EncryptedStreamError extends Error {
  /** Stable machine-readable code: an {@link ErrorCode} value, or one of a dependent package's codes. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Authentication of a chunk or of the stream's framing failed. @public */
export class AuthenticationError extends EncryptedStreamError {
  constructor(message: string) {
    super(ErrorCode.AUTH_FAILED, message);
  }
}

/** Malformed, truncated, oversized or unsupported encoded data. @public */
export class FormatError extends EncryptedStreamError {
  constructor(
    code:
      | typeof ErrorCode.MALFORMED
      | typeof ErrorCode.UNSUPPORTED_VERSION
      | typeof ErrorCode.TRUNCATED
      | typeof ErrorCode.TRAILING_DATA
      | typeof ErrorCode.SIZE_MISMATCH,
    message: string,
  ) {
    super(code, message);
  }
}

/** The data key could not be obtained or does not belong to this stream. @public */
export class KeyError extends EncryptedStreamError {
  constructor(
    code: typeof ErrorCode.UNKNOWN_KEY | typeof ErrorCode.KEY_UNWRAP_FAILED | typeof ErrorCode.KEY_COMMITMENT_MISMATCH,
    message: string,
  ) {
    super(code, message);
  }
}

/** The stream was encrypted under a different context. @public */
export class ContextMismatchError extends EncryptedStreamError {
  constructor(message = 'the stream was encrypted for a different context') {
    super(ErrorCode.CONTEXT_MISMATCH, message);
  }
}
