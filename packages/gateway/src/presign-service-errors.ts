import { EncryptedStreamError } from '@encrypted-stream/codec';

/**
 * Stable codes of the presign service's answers (the `code` of its JSON
 * errors and of {@link PresignServiceError}).
 * @public
 */
export const PresignServiceErrorCode = {
  /** Malformed JSON, a missing or ill-typed field, a hostile header or value out of range (400). */
  BAD_REQUEST: 'ES_BAD_REQUEST',
  /** A key outside the service's prefix, an odd path, or `authorize` said no (403). */
  FORBIDDEN: 'ES_FORBIDDEN',
  /** No such route, object or upload (404). */
  NOT_FOUND: 'ES_NOT_FOUND',
  /** Only POST is answered (405). */
  METHOD_NOT_ALLOWED: 'ES_METHOD_NOT_ALLOWED',
  /** The request body is larger than the service reads (413). */
  TOO_LARGE: 'ES_TOO_LARGE',
  /** The body is not `application/json` (415). */
  UNSUPPORTED_MEDIA_TYPE: 'ES_UNSUPPORTED_MEDIA_TYPE',
  /** The object exists but is not encrypted (422): no presigned encrypted GET for it. */
  NOT_ENCRYPTED: 'ES_NOT_ENCRYPTED',
  /** S3 refused or failed (502); the detail goes to the log, not to the caller. */
  UPSTREAM: 'ES_UPSTREAM',
} as const;

/** One of the {@link PresignServiceErrorCode} values. @public */
export type PresignServiceErrorCodeValue = (typeof PresignServiceErrorCode)[keyof typeof PresignServiceErrorCode];

const STATUS: Record<PresignServiceErrorCodeValue, number> = {
  ES_BAD_REQUEST: 400,
  ES_FORBIDDEN: 403,
  ES_NOT_FOUND: 404,
  ES_METHOD_NOT_ALLOWED: 405,
  ES_TOO_LARGE: 413,
  ES_UNSUPPORTED_MEDIA_TYPE: 415,
  ES_NOT_ENCRYPTED: 422,
  ES_UPSTREAM: 502,
};

/**
 * A refused presign request: its HTTP status follows from its code. The
 * message is what the caller reads; it never quotes the request body.
 * @public
 */
export class PresignServiceError extends EncryptedStreamError {
  /** The HTTP status this answer carries. */
  readonly status: number;

  constructor(code: PresignServiceErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'PresignServiceError';
    this.status = STATUS[code];
  }
}
