import { EncryptedStreamError, ErrorCode } from '@encrypted-stream/codec';
import { CliError, ExitCode } from './exit-codes';

const KEY_CODES = new Set<string>([ErrorCode.UNKNOWN_KEY, ErrorCode.KEY_UNWRAP_FAILED]);
const CODEC_CODES = new Set<string>(Object.values(ErrorCode));

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
    if (isS3UsageCode(error.code)) {
      return { exitCode: ExitCode.FAILURE, message: `${error.code}: ${error.message}` };
    }
    return { exitCode: ExitCode.INTEGRITY, message: `${error.code}: ${error.message}` };
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
