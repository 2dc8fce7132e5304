/**
 * describeError's mapping for encrypted-stream error codes, including the S3
 * package's, which it looks up lazily (local commands never load that package),
 * and the KMS keyring's (ES_KMS_*, known by name: nothing loads the KMS SDK);
 * and which failure a command that failed several ways reports.
 */
import {
  AuthenticationError,
  ContextMismatchError,
  EncryptedStreamError,
  ErrorCode,
  FormatError,
  KeyError,
} from '@encrypted-stream/codec';
import { KmsErrorCode, KmsKeyringError } from '@encrypted-stream/kms';
import { S3ErrorCode } from '@encrypted-stream/s3';
import { describeError, reportedFailure } from '../../src/errors-to-exit';
import { CliError } from '../../src/exit-codes';
import { EXIT } from '../helpers/cli';

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

test.each([
  [new AuthenticationError('chunk 3 failed authentication'), EXIT.INTEGRITY],
  [new KeyError(ErrorCode.UNKNOWN_KEY, 'no key "x"'), EXIT.KEYRING],
  // A tampered header or key block: integrity, not keyring.
  [
    new KeyError(ErrorCode.KEY_COMMITMENT_MISMATCH, 'the data key does not match the header commitment'),
    EXIT.INTEGRITY,
  ],
  [new FormatError(ErrorCode.MALFORMED, 'es-h is not valid base64'), EXIT.INTEGRITY],
  [new FormatError(ErrorCode.SIZE_MISMATCH, 'the stored size disagrees with the header'), EXIT.INTEGRITY],
  [new ContextMismatchError(), EXIT.INTEGRITY],
  [
    new EncryptedStreamError(S3ErrorCode.INVALID_RESUME_TOKEN, 'resume token: it failed authentication'),
    EXIT.INTEGRITY,
  ],
  [new EncryptedStreamError(S3ErrorCode.UNSUPPORTED_OPERATION, 'UploadPartCopy'), EXIT.FAILURE],
  [new EncryptedStreamError(S3ErrorCode.UNKNOWN_UPLOAD, 'no such upload'), EXIT.FAILURE],
  [new EncryptedStreamError('ES_SOMETHING_NEW', 'from a newer package'), EXIT.INTEGRITY],
  // KMS refusing the key or the caller: keyring; KMS failing as a service: like S3.
  ...Object.values(KmsErrorCode).map(
    (code) =>
      [
        new KmsKeyringError(code, `KMS Decrypt with key ${ARN} failed`, { operation: 'Decrypt', keyArn: ARN }),
        code === KmsErrorCode.THROTTLED || code === KmsErrorCode.UNAVAILABLE ? EXIT.S3 : EXIT.KEYRING,
      ] as [EncryptedStreamError, number],
  ),
])('%p: exit %i, with its code in the message', (error, exitCode) => {
  expect(describeError(error)).toEqual({ exitCode, message: `${error.code}: ${error.message}` });
});

test('ES_KEY_UNWRAP_FAILED under a key we hold: exit 4, saying it may be tampering or a different key', () => {
  const error = new KeyError(ErrorCode.KEY_UNWRAP_FAILED, 'the data key did not authenticate under key "k"');
  expect(describeError(error)).toEqual({
    exitCode: EXIT.INTEGRITY,
    message:
      'ES_KEY_UNWRAP_FAILED: the data key did not authenticate under key "k" (the header or key block was altered, or the keyring holds a different key under this id)',
  });
});

test('several failures: an integrity failure anywhere is the one reported, else the first', () => {
  const network = describeError(new CliError(EXIT.S3, 'S3: timeout'));
  const keyring = describeError(new KeyError(ErrorCode.UNKNOWN_KEY, 'no key "x"'));
  const tampered = describeError(new AuthenticationError('chunk 0 failed authentication'));
  const later = describeError(new AuthenticationError('chunk 9 failed authentication'));
  expect(reportedFailure(undefined, network)).toBe(network);
  expect(reportedFailure(network, keyring)).toBe(network);
  expect(reportedFailure(reportedFailure(network, tampered), keyring)).toBe(tampered);
  expect(reportedFailure(tampered, later)).toBe(tampered);
});
