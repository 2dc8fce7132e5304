import { EncryptedStreamError, ErrorCode } from '@encrypted-stream/codec';
import { CliError, ExitCode } from './exit-codes';

/**
 * The one key failure that is not evidence of tampering: the keyring lacks
 * the key id the header names (a key id edited in the header reads the same,
 * so that tamper exits 3). Everything else about a header or key block that
 * does not check out exits 4: a wrapped key that fails authentication under
 * the key we hold with its id (the wrapped key is bound to the whole header,
 * so any header edit ends here), a key commitment mismatch, malformed
 * metadata, another context.
 */
const KEY_CODES = new Set<string>([ErrorCode.UNKNOWN_KEY]);

/** Said after ES_KEY_UNWRAP_FAILED: from the outside, an altered header and a different key with the same id look alike. */
const UNWRAP_HINT = ' (the header or key block was altered, or the keyring holds a different key under this id)';
const CODEC_CODES = new Set<string>(Object.values(ErrorCode));

/**
 * The KMS keyring's own codes (`@encrypted-stream/kms`'s KmsErrorCode, spelt
 * here so that nothing loads the KMS SDK to read an error): KMS refused or
 * could not do the operation. Throttling and an unavailable KMS are a
 * service failure like S3's (5); everything else is about the key or the
 * caller's rights to it (3): access denied, a disabled key or one in another
 * state, a key that cannot wrap data keys, a ciphertext too large for metadata.
 */
const KMS_SERVICE_CODES = new Set<string>(['ES_KMS_THROTTLED', 'ES_KMS_UNAVAILABLE']);
const isKmsCode = (code: string) => code.startsWith('ES_KMS_');

/**
 * Whether `code` is one of the S3 package's usage failures (not an integrity
 * failure). The package is looked up only for codes the codec does not
 * define, so local commands never load it (nor the AWS SDK behind it).
 */
function isS3UsageCode(code: string): boolean {
  if (CODEC_CODES.has(code)) return false;
  const { S3ErrorCode } = require('@encrypted-stream/s3') as typeof import('@encrypted-stream/s3');
  return code === S3ErrorCode.UNSUPPORTED_OPERATION || code === S3ErrorCode.UNKNOWN_UPLOAD;
}

/** Maps any error to an exit code and one clear line (never key material or plaintext). */
export function describeError(error: unknown): { exitCode: number; message: string } {
  if (error instanceof CliError) return { exitCode: error.exitCode, message: error.message };
  if (error instanceof EncryptedStreamError) {
    if (KEY_CODES.has(error.code)) return { exitCode: ExitCode.KEYRING, message: `${error.code}: ${error.message}` };
    if (isKmsCode(error.code)) {
      const exitCode = KMS_SERVICE_CODES.has(error.code) ? ExitCode.S3 : ExitCode.KEYRING;
      return { exitCode, message: `${error.code}: ${error.message}` };
    }
    if (isS3UsageCode(error.code)) {
      return { exitCode: ExitCode.FAILURE, message: `${error.code}: ${error.message}` };
    }
    const hint = error.code === ErrorCode.KEY_UNWRAP_FAILED ? UNWRAP_HINT : '';
    return { exitCode: ExitCode.INTEGRITY, message: `${error.code}: ${error.message}${hint}` };
  }
  if (error instanceof TypeError || error instanceof RangeError) {
    return { exitCode: ExitCode.USAGE, message: error.message };
  }
  const e = error as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.$metadata !== undefined || e?.name === 'CredentialsProviderError') {
    const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
    return { exitCode: ExitCode.S3, message: `S3: ${e.name ?? 'error'}${status}: ${e.message ?? ''}`.trim() };
  }
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOTFOUND' || e?.code === 'ECONNRESET') {
    return { exitCode: ExitCode.S3, message: `network: ${e.code}: ${e.message}` };
  }
  if (e?.code === 'ENOENT' || e?.code === 'EACCES' || e?.code === 'EISDIR' || e?.code === 'EEXIST') {
    return { exitCode: ExitCode.FAILURE, message: e.message ?? String(error) };
  }
  return { exitCode: ExitCode.FAILURE, message: e?.message ?? String(error) };
}

/** An error as the CLI reports it: its exit code and one line. */
export type DescribedError = ReturnType<typeof describeError>;

/**
 * Which of several failures a command reports (verify, rotate): an integrity
 * failure anywhere wins, so a tampered object is never reported as a mere
 * network or keyring failure; otherwise the first failure.
 */
export function reportedFailure(first: DescribedError | undefined, next: DescribedError): DescribedError {
  if (first === undefined) return next;
  return next.exitCode === ExitCode.INTEGRITY && first.exitCode !== ExitCode.INTEGRITY ? next : first;
}
