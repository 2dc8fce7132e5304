/**
 * describeError's mapping for encrypted-stream error codes, including the S3
 * package's, which it looks up lazily (local commands never load that package).
 */
import { AuthenticationError, EncryptedStreamError, ErrorCode, KeyError } from '@encrypted-stream/codec';
import { S3ErrorCode } from '@encrypted-stream/s3';
import { describeError } from '../src/errors-to-exit';
import { EXIT } from './helpers/cli';

test.each([
  [new AuthenticationError('chunk 3 failed authentication'), EXIT.INTEGRITY],
  [new KeyError(ErrorCode.UNKNOWN_KEY, 'no key "x"'), EXIT.KEYRING],
  [new EncryptedStreamError(S3ErrorCode.UNSUPPORTED_OPERATION, 'UploadPartCopy'), EXIT.FAILURE],
  [new EncryptedStreamError(S3ErrorCode.UNKNOWN_UPLOAD, 'no such upload'), EXIT.FAILURE],
  [new EncryptedStreamError('ES_SOMETHING_NEW', 'from a newer package'), EXIT.INTEGRITY],
])('%p: exit %i, with its code in the message', (error, exitCode) => {
  expect(describeError(error)).toEqual({ exitCode, message: `${error.code}: ${error.message}` });
});
