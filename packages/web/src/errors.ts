import { EncryptedStreamError } from '@encrypted-stream/codec';

/**
 * Stable codes of the browser package's own failures (the codec's
 * `ErrorCode`s cover authentication, key, context and format failures).
 * @public
 */
export const WebErrorCode = {
  /** S3 answered a ciphertext GET with an unexpected status or range. */
  S3_FAILED: 'ES_S3_FAILED',
  /** `resolve` failed, or returned something that is not a presigned encrypted GET of the object asked for. */
  RESOLVE_FAILED: 'ES_RESOLVE_FAILED',
  /** The app server's presign service refused a request or answered something unusable. */
  PRESIGN_FAILED: 'ES_PRESIGN_FAILED',
  /** A presigned part upload failed. */
  UPLOAD_FAILED: 'ES_UPLOAD_FAILED',
  /** No key is stored in this origin's IndexedDB. */
  NO_KEY: 'ES_NO_KEY',
} as const;

/** One of the {@link WebErrorCode} values. @public */
export type WebErrorCodeValue = (typeof WebErrorCode)[keyof typeof WebErrorCode];

/**
 * A failure of encrypted media in the browser (S3, the app server, the key store).
 * @public
 */
export class EncryptedMediaError extends EncryptedStreamError {
  constructor(code: WebErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'EncryptedMediaError';
  }
}
