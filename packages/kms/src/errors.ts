import { EncryptedStreamError, ErrorCode, KeyError } from '@encrypted-stream/codec';

/**
 * Stable codes of the KMS keyring's own failures: KMS could not or would not
 * do the operation. What a stream's key block says is reported with the
 * codec's codes instead: `ES_UNKNOWN_KEY` (a key ARN the keyring does not
 * accept, or that KMS does not know) and `ES_KEY_UNWRAP_FAILED` (KMS found the
 * wrapped key invalid for that key and encryption context).
 * @public
 */
export const KmsErrorCode = {
  /** KMS refused the caller: no permission on the key (key policy, IAM, grant), or credentials KMS does not accept. */
  ACCESS_DENIED: 'ES_KMS_ACCESS_DENIED',
  /** The KMS key is disabled. */
  KEY_DISABLED: 'ES_KMS_KEY_DISABLED',
  /** The KMS key is in a state that refuses the operation (pending deletion, pending import, unavailable, …). */
  KEY_STATE: 'ES_KMS_KEY_STATE',
  /** KMS kept throttling the requests after the client's retries (its request quota). */
  THROTTLED: 'ES_KMS_THROTTLED',
  /** KMS, its key store or the network failed after the client's retries (internal error, timeout, connection). */
  UNAVAILABLE: 'ES_KMS_UNAVAILABLE',
  /** The key cannot wrap data keys here: not a symmetric encryption key (asymmetric, HMAC), or not usable for Encrypt/Decrypt. */
  INVALID_KEY: 'ES_KMS_INVALID_KEY',
  /** KMS returned a wrapped key longer than S3 metadata can carry (189 bytes, FORMAT.md §7). Nothing was stored. */
  CIPHERTEXT_TOO_LARGE: 'ES_KMS_CIPHERTEXT_TOO_LARGE',
  /** Any other KMS failure (a validation error, an unexpected answer). */
  FAILED: 'ES_KMS_FAILED',
} as const;

/** One of the {@link KmsErrorCode} values. @public */
export type KmsErrorCodeValue = (typeof KmsErrorCode)[keyof typeof KmsErrorCode];

/** The KMS operations the keyring calls. @public */
export type KmsOperation = 'Encrypt' | 'Decrypt' | 'DescribeKey';

/** What is known of a failed KMS call; never key material. @public */
export interface KmsFailure {
  readonly operation: KmsOperation;
  /** The key ARN the call named. */
  readonly keyArn: string;
  /** KMS's error type (`AccessDeniedException`, …), or the client's error name for a failure without an answer. */
  readonly kmsErrorName?: string | undefined;
  readonly httpStatusCode?: number | undefined;
  /** KMS's request id, for AWS support and CloudTrail. */
  readonly requestId?: string | undefined;
  /** HTTP attempts the client made (its retries included). */
  readonly attempts?: number | undefined;
}

/**
 * A KMS failure that is not about the stream itself (see {@link KmsErrorCode}).
 * Its message names the operation, the key ARN, KMS's error type and request
 * id; never a data key, a plaintext or a wrapped key.
 * @public
 */
export class KmsKeyringError extends EncryptedStreamError implements KmsFailure {
  readonly operation: KmsOperation;
  readonly keyArn: string;
  readonly kmsErrorName: string | undefined;
  readonly httpStatusCode: number | undefined;
  readonly requestId: string | undefined;
  readonly attempts: number | undefined;

  constructor(code: KmsErrorCodeValue, message: string, failure: KmsFailure) {
    super(code, message);
    this.operation = failure.operation;
    this.keyArn = failure.keyArn;
    this.kmsErrorName = failure.kmsErrorName;
    this.httpStatusCode = failure.httpStatusCode;
    this.requestId = failure.requestId;
    this.attempts = failure.attempts;
  }
}

const CODE_BY_ERROR_NAME: Readonly<Record<string, KmsErrorCodeValue>> = {
  AccessDeniedException: KmsErrorCode.ACCESS_DENIED,
  UnrecognizedClientException: KmsErrorCode.ACCESS_DENIED,
  InvalidSignatureException: KmsErrorCode.ACCESS_DENIED,
  IncompleteSignature: KmsErrorCode.ACCESS_DENIED,
  IncompleteSignatureException: KmsErrorCode.ACCESS_DENIED,
  MissingAuthenticationToken: KmsErrorCode.ACCESS_DENIED,
  MissingAuthenticationTokenException: KmsErrorCode.ACCESS_DENIED,
  ExpiredToken: KmsErrorCode.ACCESS_DENIED,
  ExpiredTokenException: KmsErrorCode.ACCESS_DENIED,
  InvalidClientTokenId: KmsErrorCode.ACCESS_DENIED,
  InvalidGrantTokenException: KmsErrorCode.ACCESS_DENIED,
  DisabledException: KmsErrorCode.KEY_DISABLED,
  KMSInvalidStateException: KmsErrorCode.KEY_STATE,
  ThrottlingException: KmsErrorCode.THROTTLED,
  Throttling: KmsErrorCode.THROTTLED,
  TooManyRequestsException: KmsErrorCode.THROTTLED,
  RequestLimitExceeded: KmsErrorCode.THROTTLED,
  KMSInternalException: KmsErrorCode.UNAVAILABLE,
  DependencyTimeoutException: KmsErrorCode.UNAVAILABLE,
  KeyUnavailableException: KmsErrorCode.UNAVAILABLE,
  CustomKeyStoreInvalidStateException: KmsErrorCode.UNAVAILABLE,
  ServiceUnavailable: KmsErrorCode.UNAVAILABLE,
  ServiceUnavailableException: KmsErrorCode.UNAVAILABLE,
  InternalFailure: KmsErrorCode.UNAVAILABLE,
  TimeoutError: KmsErrorCode.UNAVAILABLE,
  InvalidKeyUsageException: KmsErrorCode.INVALID_KEY,
  UnsupportedOperationException: KmsErrorCode.INVALID_KEY,
};

/** The fields of an AWS SDK v3 error that we read. */
interface SdkErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown; attempts?: unknown };
}

/** KMS's message, made safe to print: control characters out, at most 300 characters. */
function printable(text: unknown): string {
  if (typeof text !== 'string' || text === '') return '';
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ');
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}

/** No answer from KMS: connection refused or reset, DNS, a socket timeout. */
function isNetworkFailure(e: SdkErrorLike): boolean {
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  return (
    /^E[A-Z0-9_]+$/.test(code) ||
    e.name === 'TimeoutError' ||
    e.name === 'RequestTimeout' ||
    // the SDK may wrap Node's error and keep only its text
    /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE)\b|socket hang up/.test(
      message,
    )
  );
}

/**
 * Turns what `KMSClient.send` threw into this package's typed errors (see
 * {@link KmsErrorCode}); `NotFoundException` becomes the codec's
 * ES_UNKNOWN_KEY and, for Decrypt, `InvalidCiphertextException` /
 * `IncorrectKeyException` ES_KEY_UNWRAP_FAILED. The SDK error is not kept as
 * `cause`: only its name, status, request id and attempt count are copied.
 */
export function mapKmsError(error: unknown, operation: KmsOperation, keyArn: string): EncryptedStreamError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorLike;
  const name =
    typeof e.name === 'string' && e.name !== 'Error' ? e.name : typeof e.code === 'string' ? e.code : 'Error';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const failure: KmsFailure = {
    operation,
    keyArn,
    kmsErrorName: name,
    httpStatusCode: status,
    requestId: typeof e.$metadata?.requestId === 'string' ? e.$metadata.requestId : undefined,
    attempts: typeof e.$metadata?.attempts === 'number' ? e.$metadata.attempts : undefined,
  };
  const detail = printable(e.message);
  const said = `${name}${status ? ` (HTTP ${status})` : ''}${detail ? `: ${detail}` : ''}${
    failure.requestId ? ` [request id ${printable(failure.requestId)}]` : ''
  }`;
  if (name === 'NotFoundException') {
    return new KeyError(ErrorCode.UNKNOWN_KEY, `KMS has no key ${keyArn} (${operation}: ${said})`);
  }
  if (operation === 'Decrypt' && (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException')) {
    return new KeyError(
      ErrorCode.KEY_UNWRAP_FAILED,
      `the data key did not unwrap under KMS key ${keyArn} for this stream's header (${said})`,
    );
  }
  let code = CODE_BY_ERROR_NAME[name];
  if (!code) {
    if (status === 429) code = KmsErrorCode.THROTTLED;
    else if ((status !== undefined && status >= 500) || e.$fault === 'server') code = KmsErrorCode.UNAVAILABLE;
    else if (status === undefined && isNetworkFailure(e)) code = KmsErrorCode.UNAVAILABLE;
    else code = KmsErrorCode.FAILED;
  }
  const attempts = failure.attempts && failure.attempts > 1 ? ` after ${failure.attempts} attempts` : '';
  return new KmsKeyringError(code, `KMS ${operation} with key ${keyArn} failed${attempts}: ${said}`, failure);
}
